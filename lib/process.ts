/**
 * Child processes we start are ours to stop: by pid, politely first (SIGTERM or SIGINT), then SIGKILL.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

export interface StopOptions {
  /** @default 'SIGTERM' */
  signal?: NodeJS.Signals;
  /** Grace period before SIGKILL. @default 10000 */
  timeoutMs?: number;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Resolves when `child` has exited (immediately if it already has). */
export function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((resolvePromise) => child.once('exit', (code, signal) => resolvePromise({ code, signal })));
}

/** Stops a child we spawned: `signal`, then SIGKILL after `timeoutMs`. */
export async function stopChild(child: ChildProcess, { signal = 'SIGTERM', timeoutMs = 10_000 }: StopOptions = {}): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const done = exited(child);
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  try {
    await done;
  } finally {
    clearTimeout(timer);
  }
}

/** Stops a process we only know by pid (e.g. a daemon that wrote a pid file): `signal`, then SIGKILL. */
export async function stopPid(pid: number, { signal = 'SIGTERM', timeoutMs = 10_000 }: StopOptions = {}): Promise<void> {
  if (!isAlive(pid)) return;
  try {
    process.kill(pid, signal);
  } catch {
    return;
  }
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (isAlive(pid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export class CommandFailedError extends Error {
  override readonly name = 'CommandFailedError';
  constructor(
    readonly argv: readonly string[],
    readonly result: RunResult,
  ) {
    super(`${argv.join(' ')} exited with ${result.code}: ${result.stderr.trim() || result.stdout.trim()}`);
  }
}

export type RunOptions = SpawnOptions & { input?: string; allowFailure?: boolean; timeoutMs?: number };

/** Runs a command to completion, optionally feeding `input` on stdin. Rejects on non-zero exit unless `allowFailure`. */
export function run(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const { input, allowFailure = false, timeoutMs, ...spawnOptions } = options;
  const [cmd, ...args] = argv;
  if (!cmd) throw new Error('run: empty argv');
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { ...spawnOptions, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = timeoutMs ? setTimeout(() => child.kill('SIGKILL'), timeoutMs) : undefined;
    child.once('error', (err) => {
      if (timer) clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code) => {
      if (timer) clearTimeout(timer);
      const result = { code, stdout, stderr };
      if (code !== 0 && !allowFailure) reject(new CommandFailedError(argv, result));
      else resolvePromise(result);
    });
    if (input !== undefined && child.stdin) {
      // A child may exit before reading its input (e.g. `ip route get` failing at once). The resulting EPIPE
      // must not become an unhandled 'error' that kills a long-running process such as the agent; the exit
      // code and stderr tell what happened.
      child.stdin.on('error', () => undefined);
      child.stdin.end(input);
    }
  });
}
