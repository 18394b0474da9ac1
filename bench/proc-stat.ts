/**
 * Processes as /proc/<pid>/stat shows them (Linux): state, process group and CPU time. The benchmarks use it
 * to find an agent's process group (its long-lived `ip` sessions) and to say where an install's CPU goes
 * (docs/performance.md#where-an-install-spends-cpu). A process's CPU time includes its children that have
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

export interface ProcStat {
  /** One letter: R, S, D, Z (zombie), X (dead), … */
  state: string;
  pgrp: number;
  /** utime + stime + cutime + cstime, in milliseconds. */
  cpuMs: number;
}

/** State, process group and CPU time of a /proc/<pid>/stat line. */
export function parseProcStat(text: string): ProcStat {
  // The command name (field 2) is in parentheses and may hold spaces or parentheses: split after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): pgrp is field 5, utime..cstime are fields 14..17.
  const state = fields[0] ?? '';
  const [pgrp, utime, stime, cutime, cstime] = [fields[2], fields[11], fields[12], fields[13], fields[14]].map(Number);
  if (!text.includes(')') || !/^[A-Za-z]$/.test(state) || [pgrp, utime, stime, cutime, cstime].some((n) => !Number.isInteger(n)))
    throw new ProcStatFormatError(text);
  const ticks = (utime as number) + (stime as number) + (cutime as number) + (cstime as number);
  return { state, pgrp: pgrp as number, cpuMs: (ticks * 1000) / CLOCK_TICKS_PER_SECOND };
}

export type ProcSnapshot = ReadonlyMap<number, ProcStat>;

/** Every process now, by pid; one pass over /proc. */
export async function readProcSnapshot(): Promise<ProcSnapshot> {
  const snapshot = new Map<number, ProcStat>();
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const text = await readFile(`/proc/${name}/stat`, 'utf8').catch(() => null);
    if (text === null) continue; // exited meanwhile
    snapshot.set(Number(name), parseProcStat(text));
  }
  return snapshot;
}

/** Process group → its live member pids (zombies and dead processes left out). */
export function processGroups(snapshot: ProcSnapshot): Map<number, number[]> {
  const groups = new Map<number, number[]>();
  for (const [pid, { state, pgrp }] of snapshot) {
    if (state === 'Z' || state === 'X') continue;
    groups.set(pgrp, [...(groups.get(pgrp) ?? []), pid]);
  }
  return groups;
}

/** CPU milliseconds used between two snapshots by the processes of the given process groups. */
export function groupCpuMs(before: ProcSnapshot, after: ProcSnapshot, groups: ReadonlySet<number>): number {
  let ms = 0;
  for (const [pid, now] of after) {
    if (groups.has(now.pgrp)) ms += now.cpuMs - (before.get(pid)?.cpuMs ?? 0);
  }
  return ms;
}

/** CPU milliseconds one process (with its waited-for children) used between two snapshots; 0 if it is gone. */
export function pidCpuMs(before: ProcSnapshot, after: ProcSnapshot, pid: number): number {
  const now = after.get(pid);
  return now ? now.cpuMs - (before.get(pid)?.cpuMs ?? 0) : 0;
}
