/**
 * Test-only pause points for the kill-point tests (test/agent/pending-transaction.test.ts). An agent started
 * with `HOSTPROV_TEST_PAUSE_AT=<point>` in its environment stops at that point of a `setupNetworks`, creates
 * `<runtime dir>/paused-at-<point>` and waits there for ever, so that a test can `kill -9` it at an exact place
 * of a change instead of racing a timer. An agent started with `HOSTPROV_TEST_CRASH_AT=<point>` kills itself
 * (SIGKILL) there instead, once per boot: where the test cannot reach the process (a full-kernel guest), a
 * supervisor starts it again, as systemd's `Restart=on-failure` does, and that agent finds the marker
 * `<runtime dir>/crashed-at-<point>` and goes on. Only whoever starts the agent process can set the
 * variables; nothing on the wire reaches them. Unset (always, outside these tests), no hook exists and no
 * code path changes.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../../lib/logger';

export const TEST_PAUSE_ENV = 'HOSTPROV_TEST_PAUSE_AT';
export const TEST_CRASH_ENV = 'HOSTPROV_TEST_CRASH_AT';

export const PausePoint = {
  /** The pending transaction is recorded; nothing on the host has changed yet. */
  BEFORE_APPLY: 'before-apply',
  /** Between the two halves of the change's first `ip -batch` (run as two processes for this purpose). */
  MID_BATCH: 'mid-batch',
  /** Applied and verified; a `blockingdhcp` request is about to wait for its leases (its DHCP clients run). */
  AWAITING_LEASES: 'awaiting-leases',
  /** Applied, verified and recorded as awaiting `Host.confirmConnectivity`; the wait has not begun. */
  AWAITING_CONFIRMATION: 'awaiting-confirmation',
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

/** The file an agent creates before it kills itself at `point`: its restart goes on past the point. */
export function crashedMarkerFile(runtimeDir: string, point: PausePoint): string {
  return join(runtimeDir, `crashed-at-${point}`);
}

export function createCrashHook(at: PausePoint, runtimeDir: string, log: Logger): PauseHook {
  const marker = crashedMarkerFile(runtimeDir, at);
  if (existsSync(marker)) return async () => undefined;
  log.warn({ point: at }, `TEST HOOK ${TEST_CRASH_ENV} is set: the agent will kill itself at this point of a setupNetworks, once per boot`);
  return async (point) => {
    if (point !== at || existsSync(marker)) return;
    writeFileSync(marker, `${process.pid}\n`);
    process.kill(process.pid, 'SIGKILL');
    await new Promise<never>(() => undefined);
  };
}
