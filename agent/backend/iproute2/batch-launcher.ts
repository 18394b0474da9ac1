/**
 * Runs each `ip -batch -` of an apply in a process of its own, started ahead of time: the owner calls
 * {@link IpBatchLauncher.prepare} when it is idle (the agent does after every network verb), and the spare
 * process waits on its stdin for the next apply. Starting `ip -n <ns>` (fork, exec, namespace switch) took
 * about 3 ms of every apply, and the fork blocks the event loop while it copies the agent's page tables;
 * a spare takes its input at once. Without a spare (the first apply, a second batch in one plan, an IPv6
 * rule batch), the process is started on demand as before.
 *
 * Every batch still gets a fresh process, used once, which keeps what apply.ts relies on:
 * - `ip -batch` (no `-force`) stops at the first failing line and says "Command failed -:N", N counted from
 *   the first line of *this* input, so a failure is attributed to exactly one op;
 * - nothing of an earlier batch carries over into the next (iproute2 keeps caches for the life of a process,
 *   see ip-session.ts).
 * A spare that no longer acts on the target namespace (deleted and created again under the same name, see
 * ip-session.ts) or has exited is replaced by a new process at use.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger } from '../../../lib/logger';
import type { RunResult } from '../../../lib/process';
import { ipArgv, netnsIdentity, type NetnsTarget } from '../target';

/** Which `ip` a batch runs in (see FamilyFlag in batch.ts). */
export type BatchFamily = 'inet6' | 'any';

interface Launched {
  child: ChildProcess;
  /** Identity of the target namespace when the process started (`dev:ino` of /run/netns/<name>). */
  netnsId: string | null;
  result: Promise<RunResult>;
}

export class IpBatchLauncher {
  private readonly spares = new Map<BatchFamily, Launched[]>();
  private closed = false;
  /** Processes started so far (tests read it). */
  starts = 0;

  constructor(
    private readonly target: NetnsTarget,
    private readonly log: Logger,
  ) {}

  /** Runs `input` (batch lines, each ending in a newline) in a fresh `ip [-6] -batch -` and returns how it ended. */
  async run(family: BatchFamily, input: string): Promise<RunResult> {
    const launched = this.take(family);
    const { child } = launched;
    // A spare is unreferenced (the agent's exit must not wait for it); one in use keeps the loop alive.
    child.ref();
    for (const stream of [child.stdout, child.stderr]) (stream as unknown as { ref?: () => void } | null)?.ref?.();
    child.stdin?.end(input);
    return launched.result;
  }

  /** Ends the spares (the agent stops). */
  close(): void {
    this.closed = true;
    for (const spares of this.spares.values()) for (const spare of spares) spare.child.kill('SIGKILL');
    this.spares.clear();
  }

  /**
   * Starts spares for `family` until `count` are waiting (an apply may run two batches at once, apply.ts);
   * call it when idle (each fork blocks the event loop).
   */
  prepare(family: BatchFamily, count = 1): void {
    const spares = this.spares.get(family) ?? [];
    this.spares.set(family, spares);
    while (!this.closed && spares.length < count) {
      const spare = this.launch(family);
      spares.push(spare);
      spare.child.unref();
      for (const stream of [spare.child.stdin, spare.child.stdout, spare.child.stderr])
        (stream as unknown as { unref?: () => void } | null)?.unref?.();
      // A spare that ends unused (its namespace went away, or it was killed) is not handed out.
      void spare.result.then(() => {
        const at = spares.indexOf(spare);
        if (at >= 0) spares.splice(at, 1);
      });
    }
  }

  /** Spares waiting for `family` (tests read it). */
  spareCount(family: BatchFamily): number {
    return this.spares.get(family)?.length ?? 0;
  }

  private take(family: BatchFamily): Launched {
    const spares = this.spares.get(family) ?? [];
    for (let spare = spares.shift(); spare; spare = spares.shift()) {
      if (spare.child.exitCode === null && spare.child.signalCode === null && spare.netnsId === netnsIdentity(this.target)) return spare;
      spare.child.kill('SIGKILL');
    }
    return this.launch(family);
  }

  private launch(family: BatchFamily): Launched {
    const [file, ...args] = ipArgv(this.target, family === 'inet6' ? ['-6', '-batch', '-'] : ['-batch', '-']);
    const netnsId = netnsIdentity(this.target);
    const child = spawn(file ?? 'ip', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.starts += 1;
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    // ip may exit before reading its input (it could not enter the namespace): the exit code tells, not EPIPE.
    child.stdin?.on('error', () => undefined);
    const result = new Promise<RunResult>((resolve) => {
      child.once('error', (err) => resolve({ code: null, stdout, stderr: stderr || err.message }));
      child.once('close', (code) => resolve({ code, stdout, stderr }));
    });
    this.log.trace({ pid: child.pid, family, netns: this.target.netns }, 'ip -batch process started');
    return { child, netnsId, result };
  }
}
