/**
 * The agent's half of the connectivity check (docs/setup-networks.md#the-connectivity-check): `Host.confirmConnectivity` records a
 * timestamp (and touches `<runtime>/client.log` like VDSM); a change survives only if a confirmation
 * arrives *after* it was applied and within the timeout.
 */
import { closeSync, openSync, utimesSync } from 'node:fs';
import { join } from 'node:path';

interface Waiter {
  after: number;
  resolve: (confirmed: boolean) => void;
  timer: NodeJS.Timeout;
}

export class ConnectivityCheck {
  private lastConfirmation = 0;
  private readonly waiters = new Set<Waiter>();
  private readonly clientLog: string;

  constructor(runtimeDir: string) {
    this.clientLog = join(runtimeDir, 'client.log');
  }

  /** A client proved it reaches us. Safe to call concurrently with anything (served while setupNetworks runs). */
  confirm(): void {
    const now = performance.now();
    this.lastConfirmation = now;
    try {
      closeSync(openSync(this.clientLog, 'a'));
      const t = new Date();
      utimesSync(this.clientLog, t, t);
    } catch {
      // the timestamp in memory is what counts; the file is for operators
    }
    for (const waiter of this.waiters) {
      if (now > waiter.after) {
        clearTimeout(waiter.timer);
        this.waiters.delete(waiter);
        waiter.resolve(true);
      }
    }
  }

  /** `performance.now()` stamp to pass to {@link waitForConfirmation}. */
  now(): number {
    return performance.now();
  }

  /** Resolves true on the first confirmation later than `after`, false after `timeoutMs`. */
  waitForConfirmation(after: number, timeoutMs: number): Promise<boolean> {
    if (this.lastConfirmation > after) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter: Waiter = {
        after,
        resolve,
        timer: setTimeout(() => {
          this.waiters.delete(waiter);
          resolve(false);
        }, timeoutMs),
      };
      this.waiters.add(waiter);
    });
  }
}
