/**
 * Child processes we start are ours to stop: by pid, politely first (SIGTERM or SIGINT), then SIGKILL.
 *
 * Liveness reads /proc, not `kill(pid, 0)`: daemons we start (dhclient, a testbed host's boot) are orphans,
 * and where PID 1 reaps orphans only now and then (containers, microVMs) a killed one lingers as a zombie
 * that `kill(pid, 0)` still finds. Here a zombie counts as gone.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

export interface StopOptions {
  /** @default 'SIGTERM' */
  signal?: NodeJS.Signals;
  /** Grace period before SIGKILL. @default 10000 */
  timeoutMs?: number;
}

const TERMINATED = new Set(['Z', 'X']);

/**
 * Whether `pid` runs (a zombie does not) and its start time in clock ticks after boot, which tells a pid
 * apart from a later process that got the same number; `null` when there is no such process.
 */
export function processStat(pid: number): { alive: boolean; startTime: string } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: fields resume after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { alive: !TERMINATED.has(fields[0] ?? ''), startTime: fields[19] ?? '' };
  } catch {
    return null;
  }
}

/** True while `pid` runs; gone and zombie processes are not running. */
export function isAlive(pid: number): boolean {
  return processStat(pid)?.alive ?? false;
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

/**
 * Stops a process we only know by pid (e.g. a daemon that wrote a pid file): `signal`, then SIGKILL after
 * `timeoutMs`; resolves once it no longer runs, or 2 s after the SIGKILL at most.
 */
export async function stopPid(pid: number, { signal = 'SIGTERM', timeoutMs = 10_000 }: StopOptions = {}): Promise<void> {
  if (!isAlive(pid)) return;
  send(pid, signal);
  if (await gone(pid, timeoutMs)) return;
  send(pid, 'SIGKILL');
  await gone(pid, 2_000);
}

/** Pids of the running (not zombie) processes in process group `pgid`, read from /proc. */
export function processGroupMembers(pgid: number): number[] {
  const members: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // Fields after the command name: state, ppid, pgrp, …
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(pgrp) === pgid && !TERMINATED.has(state ?? '')) members.push(Number(name));
    } catch {
      /* exited while we looked */
    }
  }
  return members;
}

export interface GroupStopOptions extends StopOptions {
  /** When aborted, SIGKILL at once instead of waiting out `timeoutMs`. */
  hurry?: AbortSignal;
}

/**
 * Stops every process of the group `pgid` (a child spawned `detached` leads its own group, and what it
 * starts stays in it): `signal` to the group, SIGKILL to the group after `timeoutMs` or as soon as `hurry`
 * aborts. Resolves once no process of the group runs, or 2 s after the SIGKILL at most.
 */
export async function stopProcessGroup(
  pgid: number,
  { signal = 'SIGTERM', timeoutMs = 10_000, hurry }: GroupStopOptions = {},
): Promise<void> {
  const empty = () => processGroupMembers(pgid).length === 0;
  if (empty()) return;
  if (!hurry?.aborted) {
    sendGroup(pgid, signal);
    const deadline = Date.now() + timeoutMs;
    while (!empty() && Date.now() < deadline && !hurry?.aborted) await new Promise((r) => setTimeout(r, 25));
    if (empty()) return;
  }
  sendGroup(pgid, 'SIGKILL');
  const deadline = Date.now() + 2_000;
  while (!empty() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
}

function sendGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    /* the group is gone */
  }
}

function send(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    /* already gone */
  }
}

async function gone(pid: number, withinMs: number): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  while (isAlive(pid)) {
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 25));
  }
  return true;
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
