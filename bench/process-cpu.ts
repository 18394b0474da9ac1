/**
 * CPU time used by processes, read from /proc/<pid>/stat (Linux), to say where an install's time goes
 * (docs/performance.md#where-an-install-spends-cpu). A process's figure includes its children that have
 * exited and been waited for (cutime, cstime): an agent's short-lived `ip` processes count as the agent's.
 */
import { readdir, readFile } from 'node:fs/promises';

/** USER_HZ: the unit of /proc/<pid>/stat times, 100 on every Linux architecture Node runs on. */
export const CLOCK_TICKS_PER_SECOND = 100;

export class ProcStatFormatError extends Error {
  override readonly name = 'ProcStatFormatError';
  constructor(readonly text: string) {
    super(`not a /proc/<pid>/stat line: ${JSON.stringify(text.slice(0, 80))}`);
  }
}

/** Process group and CPU ticks (utime + stime + cutime + cstime) of a /proc/<pid>/stat line. */
export function parseProcStat(text: string): { pgrp: number; ticks: number } {
  // The command name (field 2) is in parentheses and may hold spaces or parentheses: split after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): pgrp is field 5, utime..cstime are fields 14..17.
  const [pgrp, utime, stime, cutime, cstime] = [fields[2], fields[11], fields[12], fields[13], fields[14]].map(Number);
  if (!text.includes(')') || [pgrp, utime, stime, cutime, cstime].some((n) => n === undefined || !Number.isInteger(n)))
    throw new ProcStatFormatError(text);
  return { pgrp: pgrp as number, ticks: (utime as number) + (stime as number) + (cutime as number) + (cstime as number) };
}

/** CPU milliseconds of every process, by pid, and the process groups they belong to; one pass over /proc. */
export async function cpuSnapshot(): Promise<Map<number, { pgrp: number; ms: number }>> {
  const snapshot = new Map<number, { pgrp: number; ms: number }>();
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const text = await readFile(`/proc/${name}/stat`, 'utf8').catch(() => null);
    if (text === null) continue; // exited meanwhile
    const { pgrp, ticks } = parseProcStat(text);
    snapshot.set(Number(name), { pgrp, ms: (ticks * 1000) / CLOCK_TICKS_PER_SECOND });
  }
  return snapshot;
}

/** CPU milliseconds used between two snapshots by the processes of the given process groups. */
export function groupCpuMs(
  before: Map<number, { pgrp: number; ms: number }>,
  after: Map<number, { pgrp: number; ms: number }>,
  groups: ReadonlySet<number>,
): number {
  let ms = 0;
  for (const [pid, now] of after) {
    if (!groups.has(now.pgrp)) continue;
    ms += now.ms - (before.get(pid)?.ms ?? 0);
  }
  return ms;
}

/** CPU milliseconds one process (with its waited-for children) used between two snapshots; 0 if it is gone. */
export function pidCpuMs(
  before: Map<number, { pgrp: number; ms: number }>,
  after: Map<number, { pgrp: number; ms: number }>,
  pid: number,
): number {
  const now = after.get(pid);
  return now ? now.ms - (before.get(pid)?.ms ?? 0) : 0;
}
