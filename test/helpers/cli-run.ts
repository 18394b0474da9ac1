/**
 * Running `bin/hostprov <command>` as an operator would, to stop it at a chosen moment: the moment is a
 * line of its output (a log message or a stdout line), awaited as it arrives, never a sleep.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isAlive } from '../../lib/process';
import { PROJECT_ROOT } from '../../lib/paths';

const BIN = join(PROJECT_ROOT, 'bin', 'hostprov');

export interface CliExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class CliRun {
  readonly child: ChildProcess;
  /** Resolves after the exit and the last output. */
  readonly closed: Promise<CliExit>;
  private out = '';
  private exit: CliExit | undefined;
  private readonly listeners = new Set<() => void>();

  /**
   * Starts `bin/hostprov ...args` in its own process group, as a shell starts a foreground job, so that
   * {@link ctrlC} reaches exactly what a terminal's Ctrl-C would. Logs are JSON at `info`.
   */
  constructor(args: readonly string[], env: Record<string, string> = {}) {
    this.child = spawn(BIN, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
      env: { ...process.env, HOSTPROV_LOG_FORMAT: 'json', HOSTPROV_LOG_LEVEL: 'info', ...env },
    });
    const collect = (d: Buffer): void => {
      this.out += d.toString();
      for (const notify of this.listeners) notify();
    };
    this.child.stdout?.on('data', collect);
    this.child.stderr?.on('data', collect);
    this.closed = new Promise((resolvePromise) =>
      this.child.once('close', (code, signal) => {
        this.exit = { code, signal };
        for (const notify of this.listeners) notify();
        resolvePromise(this.exit);
      }),
    );
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new Error('hostprov did not start');
    return this.child.pid;
  }

  output(): string {
    return this.out;
  }

  /** Resolves as soon as the output contains `text`; rejects if the command ends first or after `timeoutMs`. */
  waitFor(text: string, timeoutMs = 90_000): Promise<void> {
    return new Promise((resolvePromise, reject) => {
      const check = (): void => {
        if (this.out.includes(text)) done(() => resolvePromise());
        else if (this.exit)
          done(() =>
            reject(new Error(`hostprov ended (${JSON.stringify(this.exit)}) before printing ${JSON.stringify(text)}:\n${this.tail()}`)),
          );
      };
      const timer = setTimeout(
        () => done(() => reject(new Error(`no ${JSON.stringify(text)} within ${timeoutMs} ms:\n${this.tail()}`))),
        timeoutMs,
      );
      const done = (settle: () => void): void => {
        clearTimeout(timer);
        this.listeners.delete(check);
        settle();
      };
      this.listeners.add(check);
      check();
    });
  }

  /** The first JSON log line whose message is `msg`. */
  logLine(msg: string): Record<string, unknown> | undefined {
    for (const line of this.out.split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        const entry = JSON.parse(line) as Record<string, unknown>;
        if (entry.msg === msg) return entry;
      } catch {
        /* a partial line */
      }
    }
    return undefined;
  }

  /** A terminal's Ctrl-C: SIGINT to the whole foreground process group (hostprov and its own children). */
  ctrlC(): void {
    process.kill(-this.pid, 'SIGINT');
  }

  /** What `kill` or a service manager sends: SIGTERM to hostprov's pid only. */
  term(): void {
    process.kill(this.pid, 'SIGTERM');
  }

  /** Last resort for a failed test: SIGKILL to the group. */
  kill(): void {
    try {
      process.kill(-this.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }

  private tail(): string {
    return this.out.slice(-4000);
  }
}

/** Pids of running processes whose command line mentions `text` (e.g. a test's own data directory). */
export function processesMentioning(text: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, 'utf8').includes(text) && isAlive(Number(name))) found.push(Number(name));
    } catch {
      /* exited while we looked */
    }
  }
  return found;
}
