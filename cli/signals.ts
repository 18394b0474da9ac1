/**
 * Stopping long-running commands (`dev`, `demo`, `worker`) by SIGINT (Ctrl-C) or SIGTERM at any moment.
 *
 * The command installs this first thing, and registers everything it starts in `resources` the moment it
 * exists. The first signal unwinds that stack at once, newest first — whatever the command is still busy
 * with (a server becoming ready, a workflow bundle, a testbed build) — and then exits. A second signal
 * hurries the unwinding: processes get SIGKILL instead of a grace period, a draining worker is abandoned,
 * but everything is still released. Exit code 128 + signal number: 130 for SIGINT, 143 for SIGTERM.
 */
import { getLogger } from '../lib/logger';
import { ResourceStack } from '../lib/resource-stack';

/** Exit codes after a stop by signal (the shell's convention, 128 + the signal number). */
export const STOP_EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const;
export type StopSignal = keyof typeof STOP_EXIT_CODES;

export interface StopHandling {
  /** What the command started; unwound on the first signal (and by the command itself when it ends). */
  readonly resources: ResourceStack;
  /** Resolves with the first stop signal. */
  readonly requested: Promise<StopSignal>;
}

let current: { handling: StopHandling; stopping: boolean } | undefined;

/** True once a stop signal arrived: the signal handler then owns the exit (code and timing). */
export function stopInProgress(): boolean {
  return current?.stopping ?? false;
}

/** Installs the handlers for this process (once; later calls return the same handling). */
export function installStopHandling(component = 'stop'): StopHandling {
  if (current) return current.handling;
  const log = getLogger(component);
  const resources = new ResourceStack(log);
  let announce!: (signal: StopSignal) => void;
  const requested = new Promise<StopSignal>((r) => (announce = r));
  const state = { handling: { resources, requested }, stopping: false };
  current = state;

  const onSignal = (signal: StopSignal): void => {
    if (state.stopping) {
      if (!resources.hurried.aborted) log.warn({ signal }, 'second stop signal: stopping without grace periods (still cleaning up)');
      resources.hurry();
      return;
    }
    state.stopping = true;
    process.exitCode = STOP_EXIT_CODES[signal];
    // What the command was busy with is abandoned and may fail in odd places (a client call retried on a
    // closed channel throws from a timer). That must not end the process before everything is released.
    const abandoned = (err: unknown): void => log.debug({ err }, 'abandoned work failed while stopping');
    process.on('uncaughtException', abandoned);
    process.on('unhandledRejection', abandoned);
    log.info(
      { signal, releasing: resources.names.reverse() },
      'stopping: releasing everything started so far (a second signal skips the grace periods)',
    );
    announce(signal);
    void resources.unwind().finally(() => {
      log.info({ signal, exitCode: STOP_EXIT_CODES[signal] }, 'stopped');
      process.exit(STOP_EXIT_CODES[signal]);
    });
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  return state.handling;
}

/** Resolves with the signal name on the first SIGINT/SIGTERM (a second one exits at once). */
export function waitForStopSignal(): Promise<string> {
  return new Promise((resolvePromise) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      process.once('SIGINT', () => process.exit(130));
      resolvePromise(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
