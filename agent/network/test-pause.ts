/**
 * Test-only pause points for the kill-point tests (test/agent/pending-transaction.test.ts). An agent started
 * with `HOSTPROV_TEST_PAUSE_AT=<point>` in its environment stops at that point of a `setupNetworks`, creates
 * `<runtime dir>/paused-at-<point>` and waits there for ever, so that a test can `kill -9` it at an exact place
 * of a change instead of racing a timer. Only whoever starts the agent process can set the variable; nothing
 * on the wire reaches it. Unset (always, outside these tests), no hook exists and no code path changes.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../../lib/logger';

export const TEST_PAUSE_ENV = 'HOSTPROV_TEST_PAUSE_AT';

export const PausePoint = {
  /** The pending transaction is recorded; nothing on the host has changed yet. */
  BEFORE_APPLY: 'before-apply',
  /** Between the two halves of the change's first `ip -batch` (run as two processes for this purpose). */
  MID_BATCH: 'mid-batch',
  /** Applied and verified; a `blockingdhcp` request is about to wait for its leases (its DHCP clients run). */
  AWAITING_LEASES: 'awaiting-leases',
  /** `commitOnSuccess` only: the confirmation arrived and is recorded; the commit has not run yet. */
  BEFORE_COMMIT: 'before-commit',
} as const;
export type PausePoint = (typeof PausePoint)[keyof typeof PausePoint];

export type PauseHook = (point: PausePoint) => Promise<void>;

/** The file a paused agent creates, for the test to wait on. */
export function pausedMarkerFile(runtimeDir: string, point: PausePoint): string {
  return join(runtimeDir, `paused-at-${point}`);
}

export function createPauseHook(at: PausePoint, runtimeDir: string, log: Logger): PauseHook {
  log.warn({ point: at }, `TEST HOOK ${TEST_PAUSE_ENV} is set: the agent will stop at this point of a setupNetworks until it is killed`);
  return async (point) => {
    if (point !== at) return;
    log.warn({ point }, 'test pause point reached: waiting to be killed');
    writeFileSync(pausedMarkerFile(runtimeDir, point), `${process.pid}\n`);
    await new Promise<never>(() => undefined);
  };
}
