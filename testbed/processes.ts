/**
 * Process liveness as the testbed needs it. Hosts' processes are orphans once the power script that
 * started them exits, and on some machines (containers, microVMs) PID 1 reaps orphans only now and then:
 * a killed process lingers as a zombie, and `kill(pid, 0)` still succeeds. Here a zombie counts as gone.
 */
import { readFile } from 'node:fs/promises';

const TERMINATED = new Set(['Z', 'X']);

/** State letter and start time (clock ticks after boot) from /proc/<pid>/stat; `null` when there is no such process. */
export async function processStat(pid: number): Promise<{ state: string; startTime: string } | null> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: fields resume after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0] ?? '?', startTime: fields[19] ?? '' };
  } catch {
    return null;
  }
}

/** True while `pid` runs; gone and zombie processes are not running. */
export async function isRunning(pid: number): Promise<boolean> {
  const stat = await processStat(pid);
  return stat !== null && !TERMINATED.has(stat.state);
}

export interface StopProcessOptions {
  /** @default 'SIGTERM' */
  signal?: NodeJS.Signals;
  /** Grace period before SIGKILL. @default 3000 */
  timeoutMs?: number;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    /* already gone */
  }
}

/** `signal`, then SIGKILL after `timeoutMs`; resolves once the process no longer runs (zombie or gone). */
export async function stopProcess(pid: number, { signal: sig = 'SIGTERM', timeoutMs = 3_000 }: StopProcessOptions = {}): Promise<void> {
  if (!(await isRunning(pid))) return;
  signal(pid, sig);
  const deadline = Date.now() + timeoutMs;
  while ((await isRunning(pid)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
  if (!(await isRunning(pid))) return;
  signal(pid, 'SIGKILL');
  const killDeadline = Date.now() + 2_000;
  while ((await isRunning(pid)) && Date.now() < killDeadline) await new Promise((r) => setTimeout(r, 25));
}
