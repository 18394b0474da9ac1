/**
 * Is a host's service reachable from here (the manager side)? For tests and for waiting until a freshly
 * booted host's agent listens.
 */
import { connect } from 'node:net';
import { WaitTimeoutError } from './daemon';

/** One TCP connect attempt; true when it is accepted within `timeoutMs`. */
export function canConnect(address: string, port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const socket = connect({ host: address, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolvePromise(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export interface WaitForTcpOptions {
  /** @default 30000 */
  timeoutMs?: number;
  /** Pause between attempts. @default 100 */
  intervalMs?: number;
}

/** Retries {@link canConnect} until it succeeds; throws {@link WaitTimeoutError} after `timeoutMs`. */
export async function waitForTcp(
  address: string,
  port: number,
  { timeoutMs = 30_000, intervalMs = 100 }: WaitForTcpOptions = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await canConnect(address, port, Math.min(1_000, timeoutMs))) return;
    if (Date.now() > deadline) throw new WaitTimeoutError(`TCP ${address}:${port}`, timeoutMs);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
