/**
 * A long-lived `ip -j -d -batch -` process that answers reads (and `Host.getRoute`'s `route get`, read.ts):
 * the agent reads the kernel state before and after every change, and spawning `ip` processes for every read
 * was most of the fixed cost of a small `Host.setupNetworks` (bench/results/agent.md). iproute2 flushes its
 * output after every JSON command, so each command written to stdin comes back as exactly one line on
 * stdout, in order.
 *
 * The session is only an optimisation: every failure ends it and the next read starts a fresh one.
 * - A command that fails makes `ip -batch` (no `-force`) print the error and exit: the read in progress
 *   rejects with {@link IpSessionError} carrying ip's stderr.
 * - A read that does not complete within `timeoutMs` kills the process.
 * - Acting on a named namespace (`ip -n`), the process holds the namespace it opened at start; if the name
 *   now points at another namespace (deleted and created again), the session is restarted first.
 * - iproute2 caches interface index → name for the life of the process and prints names of other links
 *   (a port's `master`, an address's or a route's `dev`) from that cache, so after a rename they would be
 *   stale. The caller detects renames (read.ts) and calls {@link IpJsonSession.restart}.
 * Reads are serialized (one batch in flight; an idle session writes a read's commands at once); applies do
 * not go through the session (apply.ts spawns one `ip -batch` per plan step, so a failed line stops exactly
 * that step).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger } from '../../../lib/logger';
import { IpSessionError } from '../errors';
import { JsonArraySplitter, type ParsedJsonArray } from './json-array-splitter';
import { ipArgv, netnsIdentity, type NetnsTarget } from '../target';

/** @default for {@link IpJsonSession}'s `timeoutMs`. */
const DEFAULT_TIMEOUT_MS = 10_000;
/** `\n`: ends every JSON line. */
const NEWLINE = 0x0a;
/**
 * A line is split as it arrives ({@link IpJsonSession.runParsingArrays}) once this much of it is in: about
 * a dozen links with their details. A dump of 5 links cost ~20 µs more CPU split than parsed whole
 * (docs/performance.md#where-a-change-of-100-networks-spends-its-time).
 */
const SPLIT_FROM_BYTES = 16 * 1024;
/** ip's stderr kept for the error message. */
const STDERR_KEEP = 4096;

interface Pending {
  expected: number;
  lines: Array<string | ParsedJsonArray>;
  /** How every array element of these commands' output begins, to parse them as they arrive; null: no split. */
  elementStart: string | null;
  /** The current line's elements so far (with `elementStart`). */
  splitter: JsonArraySplitter | null;
  resolve: (lines: Array<string | ParsedJsonArray>) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

interface Running {
  child: ChildProcess;
  /** Identity of the target namespace when the process started (`dev:ino` of /run/netns/<name>). */
  netnsId: string | null;
  /** The current line's bytes so far: decoded once it is complete, not chunk by chunk. */
  partial: Buffer[];
  /** Bytes in `partial`. */
  partialBytes: number;
  stderr: string;
  pending: Pending | null;
  exited: boolean;
}

export class IpJsonSession {
  private running: Running | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  /** Reads asked for and not settled yet (the one in flight included). */
  private unsettled = 0;
  /** Processes started so far (tests and the bench read it). */
  starts = 0;

  constructor(
    private readonly target: NetnsTarget,
    /** `null`: no family flag (both families where the command lists both). */
    private readonly familyFlag: '-4' | '-6' | null,
    private readonly log: Logger,
    private readonly timeoutMs = DEFAULT_TIMEOUT_MS,
  ) {}

  /** The live process's pid, null when none runs (it starts with the next read). */
  get pid(): number | null {
    return this.running && !this.running.exited ? (this.running.child.pid ?? null) : null;
  }

  /** Runs `commands` (each printing one JSON line) and returns their output lines, in order. */
  async run(commands: readonly string[]): Promise<string[]> {
    return (await this.enqueue(commands, null)) as string[];
  }

  /**
   * Like {@link run}, for commands that print arrays whose elements all begin with `elementStart`: each
   * line's elements are parsed while ip prints them (json-array-splitter.ts). A line comes back as its
   * parsed elements, or as its text when it could not be split (the caller parses it whole).
   */
  runParsingArrays(commands: readonly string[], elementStart: string): Promise<Array<string | ParsedJsonArray>> {
    return this.enqueue(commands, elementStart);
  }

  private enqueue(commands: readonly string[], elementStart: string | null): Promise<Array<string | ParsedJsonArray>> {
    // An idle session hands the commands to ip at once, not a microtask later: ip then dumps while the caller
    // goes on synchronously (the DHCP scan beside the read blocks the event loop for a moment).
    const result =
      this.unsettled === 0
        ? new Promise<Array<string | ParsedJsonArray>>((resolve) => resolve(this.runNow(commands, elementStart)))
        : this.queue.then(() => this.runNow(commands, elementStart));
    this.unsettled += 1;
    const settled = (): void => {
      this.unsettled -= 1;
    };
    this.queue = result.then(settled, settled);
    return result;
  }

  /** Ends the process; the next read starts a new one (after a rename, see the file comment). */
  restart(): void {
    const running = this.running;
    this.running = null;
    if (running && !running.exited) running.child.kill('SIGKILL');
  }

  close(): void {
    this.restart();
  }

  private runNow(commands: readonly string[], elementStart: string | null): Promise<Array<string | ParsedJsonArray>> {
    const running = this.current();
    return new Promise<Array<string | ParsedJsonArray>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.fail(running, `no answer within ${this.timeoutMs} ms`);
      }, this.timeoutMs);
      running.pending = { expected: commands.length, lines: [], elementStart, splitter: null, resolve, reject, timer };
      running.child.stdin?.write(`${commands.join('\n')}\n`);
    });
  }

  /** The live process, started (again) if there is none or it no longer acts on the target namespace. */
  private current(): Running {
    const netnsId = netnsIdentity(this.target);
    if (this.running && !this.running.exited && this.running.netnsId === netnsId) return this.running;
    if (this.running) this.restart();
    return this.start(netnsId);
  }

  private start(netnsId: string | null): Running {
    const [file, ...args] = ipArgv(this.target, [...(this.familyFlag ? [this.familyFlag] : []), '-j', '-d', '-batch', '-']);
    const child = spawn(file ?? 'ip', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.starts += 1;
    const running: Running = { child, netnsId, partial: [], partialBytes: 0, stderr: '', pending: null, exited: false };
    this.running = running;
    // The agent's exit must not wait for it; its stdin closing at our exit ends it anyway.
    child.unref();
    for (const stream of [child.stdin, child.stdout, child.stderr]) (stream as unknown as { unref?: () => void } | null)?.unref?.();
    child.stdin?.on('error', () => undefined);
    child.stderr?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: Buffer) => this.onStdout(running, chunk));
    child.stderr?.on('data', (chunk: string) => {
      running.stderr = (running.stderr + chunk).slice(-STDERR_KEEP);
    });
    child.on('error', (err) => this.fail(running, err.message));
    child.on('close', (code, signal) => this.fail(running, `ip exited (${signal ?? `code ${code}`})`));
    this.log.debug({ pid: child.pid, family: this.familyFlag, netns: this.target.netns }, 'ip read session started');
    return running;
  }

  /**
   * ip writes a line of 100 links in hundreds of small writes (it flushes after every link), which arrive in
   * tens of chunks: each chunk is only searched for the end of the line, and a line is decoded once, unless
   * its elements are parsed as they arrive ({@link runParsingArrays}).
   */
  private onStdout(running: Running, chunk: Buffer): void {
    let start = 0;
    for (let newline = chunk.indexOf(NEWLINE); newline >= 0; newline = chunk.indexOf(NEWLINE, start)) {
      const tail = chunk.subarray(start, newline);
      running.partial.push(tail);
      start = newline + 1;
      const pending = running.pending;
      const splitter = pending?.splitter;
      splitter?.feed(tail);
      const parsed = splitter?.finish() ?? null;
      if (pending) pending.splitter = null;
      const line = parsed ?? Buffer.concat(running.partial).toString('utf8');
      running.partial = [];
      running.partialBytes = 0;
      if (typeof line === 'string' && line.trim() === '') continue;
      if (!pending) {
        this.fail(running, 'output without a read in progress');
        return;
      }
      pending.lines.push(line);
      if (pending.lines.length === pending.expected) {
        running.pending = null;
        clearTimeout(pending.timer);
        pending.resolve(pending.lines);
      }
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      running.partial.push(rest);
      running.partialBytes += rest.length;
      const pending = running.pending;
      if (pending?.splitter) pending.splitter.feed(rest);
      else if (pending?.elementStart && running.partialBytes >= SPLIT_FROM_BYTES) {
        // Only a long line gains from it: a short one costs more to split than to parse whole.
        pending.splitter = new JsonArraySplitter(pending.elementStart);
        for (const bytes of running.partial) pending.splitter.feed(bytes);
      }
    }
  }

  /** Ends `running` for good, rejecting the read in progress with ip's own words. */
  private fail(running: Running, why: string): void {
    running.exited = true;
    if (this.running === running) this.running = null;
    if (running.child.exitCode === null && running.child.signalCode === null) running.child.kill('SIGKILL');
    const pending = running.pending;
    running.pending = null;
    if (!pending) return;
    clearTimeout(pending.timer);
    const stderr = running.stderr.trim();
    const command = this.familyFlag ? `ip ${this.familyFlag} -batch` : 'ip -batch';
    pending.reject(new IpSessionError(command, stderr ? `${why}: ${stderr}` : why, stderr));
  }
}
