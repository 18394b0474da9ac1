/**
 * Long-running helpers of a testbed (ipmi_sim, dnsmasq) outlive the process that starts them (`hostprov
 * testbed up` exits; `down` runs later), so they are started detached and stopped later by recorded pid —
 * after checking that the pid still belongs to the program we started.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { isAlive, stopPid } from '../lib/process';

export class DaemonExitedError extends Error {
  override readonly name = 'DaemonExitedError';
  constructor(
    readonly what: string,
    readonly logFile: string,
    readonly logTail: string,
  ) {
    super(`${what} exited while starting; ${logFile} ends with:\n${logTail}`);
  }
}

export class WaitTimeoutError extends Error {
  override readonly name = 'WaitTimeoutError';
  constructor(
    readonly what: string,
    readonly timeoutMs: number,
  ) {
    super(`timed out after ${timeoutMs} ms waiting for ${what}`);
  }
}

/** Starts `argv` in its own session with stdin from /dev/null and stdout+stderr appended to `logFile`. */
export function startDetached(argv: readonly string[], logFile: string, options: { cwd?: string } = {}): number {
  const [cmd, ...args] = argv;
  if (!cmd) throw new Error('startDetached: empty argv');
  const log = openSync(logFile, 'a');
  try {
    const child = spawn(cmd, args, { detached: true, stdio: ['ignore', log, log], cwd: options.cwd });
    if (child.pid === undefined) throw new Error(`could not start ${cmd}`);
    // Reap it if it dies while we still run; never keep our event loop alive for it.
    child.on('error', () => undefined);
    child.unref();
    return child.pid;
  } finally {
    closeSync(log);
  }
}

/** Polls `ready` until it returns true; fails early when `pid` died (with the tail of its log). */
export async function waitUntilReady(
  what: string,
  ready: () => Promise<boolean>,
  watch: { pid: number; logFile: string },
  { timeoutMs = 10_000, intervalMs = 50 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await ready()) return;
    if (!isAlive(watch.pid)) throw new DaemonExitedError(what, watch.logFile, await tail(watch.logFile));
    if (Date.now() > deadline) throw new WaitTimeoutError(what, timeoutMs);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

async function tail(file: string, lines = 15): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** The command line of `pid`, or `null` when it is gone. */
export async function processCommandLine(pid: number): Promise<string[] | null> {
  try {
    const raw = await readFile(`/proc/${pid}/cmdline`, 'utf8');
    return raw.split('\0').filter(Boolean);
  } catch {
    return null;
  }
}

/**
 * Stops a daemon we recorded earlier, but only if `pid` still runs a command line containing `marker`
 * (e.g. its config file path): after a reboot or a long time, the pid may belong to someone else.
 */
export async function stopRecordedDaemon(pid: number | null, marker: string, timeoutMs = 3_000): Promise<void> {
  if (pid === null || !isAlive(pid)) return;
  const cmdline = await processCommandLine(pid);
  if (!cmdline?.some((arg) => arg.includes(marker))) return;
  await stopPid(pid, { timeoutMs });
}
