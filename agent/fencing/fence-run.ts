/**
 * A fence agent's run as files, so that it outlives the agent process that started it.
 *
 * A power action must not be cut short: a reboot killed between its "off" and its "on" leaves the host off.
 * So the fence agent runs in a process group of its own, which goes on when our agent dies (a crash, a
 * `systemctl restart`; the unit's `KillMode=process` stops only the agent). A small shell wrapper leads that
 * group. It writes the fence agent's output to files in the run's directory, and its exit status as the last
 * file. An agent started again finds the run by its directory and reads its outcome, or waits for it,
 * instead of acting beside it on the same power switch (docs/vdsm-verbs.md#fencenode).
 *
 * The wrapper gets the directory and the fence agent's path as arguments, never inside its script.
 */
import { createHash, randomUUID } from 'node:crypto';
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, rmSync } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import { PRIVATE_DIR_MODE } from '../../lib/private-dir';

/** The runs' directory in the agent's runtime directory. */
export const FENCE_RUNS_SUBDIR = 'fence-runs';

/** The wrapper's `$0`: with the run's directory after it, it names the run's leader in /proc. */
export const FENCE_RUN_NAME = 'hostprov-fence-run';

/** `$1` the run's directory, `$2` the fence agent; the agent's stdin is the wrapper's. */
const WRAPPER = [
  '"$2" >"$1/stdout" 2>"$1/stderr"',
  'status=$?',
  // Written whole, then renamed: a reader never sees half a status.
  'printf "%s\\n" "$status" >"$1/status.part" && mv -f "$1/status.part" "$1/status"',
  'exit "$status"',
].join('\n');

/** The wrapper's argv for `agentPath` in `runDir`. */
export function fenceRunCommand(runDir: string, agentPath: string): { file: string; args: string[] } {
  return { file: '/bin/sh', args: ['-c', WRAPPER, FENCE_RUN_NAME, runDir, agentPath] };
}

/**
 * The run's directory under `runsDir`: for a power action under request `key`, one name per key, so that a
 * later agent process finds it from the repeated request alone; for anything else, a name of its own.
 */
export function fenceRunDir(runsDir: string, key: string | null): string {
  const name = key === null ? `once-${randomUUID()}` : `id-${createHash('sha256').update(key).digest('hex').slice(0, 32)}`;
  return join(runsDir, name);
}

/** Makes `runDir` empty and private (a run of the same key that left nothing may have left its files). */
export function prepareFenceRunDir(runDir: string): void {
  rmSync(runDir, { recursive: true, force: true });
  mkdirSync(runDir, { recursive: true, mode: PRIVATE_DIR_MODE });
}

export function removeFenceRunDir(runDir: string): void {
  rmSync(runDir, { recursive: true, force: true });
}

/** The exit status the wrapper recorded: `null` while the run goes on, or when it was killed before it could write one. */
export function recordedExit(runDir: string): { exitCode: number | null; signal: NodeJS.Signals | null } | null {
  let text: string;
  try {
    text = readFileSync(join(runDir, 'status'), 'utf8');
  } catch {
    return null;
  }
  const status = Number(text.trim());
  if (!/^\d+$/.test(text.trim()) || status > 255) return null;
  // A shell reports a child killed by signal N as 128 + N.
  if (status <= 128) return { exitCode: status, signal: null };
  const signal = Object.entries(constants.signals).find(([, n]) => n === status - 128)?.[0] as NodeJS.Signals | undefined;
  return { exitCode: null, signal: signal ?? 'SIGKILL' };
}

/** The last `limit` bytes of one of the run's output files ('' when there is none). */
export function outputTail(runDir: string, stream: 'stdout' | 'stderr', limit: number): string {
  let fd: number;
  try {
    fd = openSync(join(runDir, stream), 'r');
  } catch {
    return '';
  }
  try {
    const size = fstatSync(fd).size;
    const length = Math.min(size, limit);
    const buffer = Buffer.alloc(length);
    const read = readSync(fd, buffer, 0, length, size - length);
    return buffer.subarray(0, read).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** Whether process `pid` is the wrapper running in `runDir` (a zombie's command line reads empty: it is not). */
export function leadsFenceRun(pid: number | string, runDir: string): boolean {
  let argv: string[];
  try {
    argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return false;
  }
  const at = argv.indexOf(FENCE_RUN_NAME);
  return at > 0 && argv[at + 1] === runDir;
}

/**
 * The pid of the wrapper running in `runDir` (it leads the run's process group), found by its command line
 * among all processes; `null` when none runs.
 */
export function fenceRunLeader(runDir: string): number | null {
  for (const name of readdirSync('/proc')) {
    if (/^\d+$/.test(name) && leadsFenceRun(name, runDir)) return Number(name);
  }
  return null;
}

/**
 * Removes the runs in `runsDir` that nothing needs: none of their processes runs, and `kept` (the runs a
 * repeat may still ask about) does not name them. Returns how many went.
 */
export function pruneFenceRuns(runsDir: string, kept: ReadonlySet<string>): number {
  if (!existsSync(runsDir)) return 0;
  let removed = 0;
  for (const name of readdirSync(runsDir)) {
    const runDir = join(runsDir, name);
    if (kept.has(runDir) || fenceRunLeader(runDir) !== null) continue;
    removeFenceRunDir(runDir);
    removed += 1;
  }
  return removed;
}
