/**
 * Everything a long-running command has started (a server process, a worker, a testbed), registered the
 * moment it exists, so that a stop at any moment — a signal half-way through the start included — releases
 * exactly that, newest first (a worker before the server it polls, the server before the network it needs).
 *
 * Steps that start something check {@link ResourceStack.stopping} first: once unwinding began, nothing new
 * is started. Whatever is still registered after that (a start that was already in flight) is released at
 * once.
 */
import type { Logger } from './logger';

/** The reason of {@link ResourceStack.stopping}: a start step that sees it stops without starting more. */
export class StoppingError extends Error {
  override readonly name = 'StoppingError';
  constructor(what = 'stopping') {
    super(`${what}: not starting anything new`);
  }
}

export interface ReleaseContext {
  /**
   * Aborted when the user asks a second time: skip grace periods (SIGKILL instead of waiting for a
   * polite exit), but still release everything.
   */
  readonly hurry: AbortSignal;
}

export type Release = (context: ReleaseContext) => Promise<void>;

interface Entry {
  name: string;
  release: Release;
}

export class ResourceStack {
  private readonly entries: Entry[] = [];
  private readonly stoppingController = new AbortController();
  private readonly hurryController = new AbortController();
  private unwinding: Promise<void> | undefined;
  private finished = false;
  private readonly failures: Array<{ name: string; error: unknown }> = [];

  constructor(private readonly log: Logger) {}

  /** Aborted as soon as unwinding begins: a start in progress stops at its next check, nothing new starts. */
  get stopping(): AbortSignal {
    return this.stoppingController.signal;
  }

  /** Aborted by {@link hurry}. */
  get hurried(): AbortSignal {
    return this.hurryController.signal;
  }

  /** Names of what is registered and not yet released, oldest first. */
  get names(): string[] {
    return this.entries.map((e) => e.name);
  }

  /** What failed to release so far (also logged as it happens). */
  get releaseFailures(): ReadonlyArray<{ name: string; error: unknown }> {
    return this.failures;
  }

  /**
   * Registers `name`. Call it right after the thing exists (a spawned process: right after `spawn`
   * returned). If unwinding already finished, `release` runs at once.
   */
  push(name: string, release: Release): void {
    const entry = { name, release };
    this.entries.push(entry);
    this.log.debug({ resource: name }, 'registered for release');
    // The unwind loop picks it up if it is still running; otherwise nobody would.
    if (this.unwinding && this.finished) void this.releaseEntries();
  }

  /** Releases everything, newest first; every entry once, even when an earlier one failed. Idempotent. */
  unwind(): Promise<void> {
    if (!this.stoppingController.signal.aborted) this.stoppingController.abort(new StoppingError());
    this.unwinding ??= this.releaseEntries().finally(() => {
      this.finished = true;
    });
    return this.unwinding;
  }

  /** Skips grace periods from now on (a second Ctrl-C); unwinding continues. */
  hurry(): void {
    if (!this.hurryController.signal.aborted) this.hurryController.abort(new StoppingError('hurried'));
  }

  private async releaseEntries(): Promise<void> {
    for (let entry = this.entries.pop(); entry; entry = this.entries.pop()) {
      const started = Date.now();
      try {
        await entry.release({ hurry: this.hurryController.signal });
        this.log.debug({ resource: entry.name, ms: Date.now() - started }, 'released');
      } catch (error) {
        this.failures.push({ name: entry.name, error });
        this.log.error({ resource: entry.name, err: error }, 'releasing failed; continuing with the rest');
      }
    }
  }
}
