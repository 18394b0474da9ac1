/**
 * Says when the process's event loop did not run for a while. Everything a long-lived service does (a
 * worker's activities, their agent sessions' heart-beats) waits while the loop is held, by a synchronous call
 * the kernel keeps waiting or by a machine that gives the process no CPU; the peer only sees silence. One
 * line in the service's own log tells an operator which side went quiet. The agent runs it only while a
 * client is connected (vdsm/server.ts `whileConnected`): its timer would wake an idle agent twice a second
 * (test/agent/agent-idle.test.ts).
 */
import type { Logger } from './logger';

/** How often the loop is looked at. @default for {@link watchEventLoopStalls} */
const TICK_MS = 500;
/** A gap this much longer than a tick is reported. @default for {@link watchEventLoopStalls} */
const STALL_MS = 5_000;

/** How the warning begins; tests look for it in a process's log. */
export const EVENT_LOOP_STALL_MESSAGE = 'the event loop did not run for this long';

/** Starts watching; the returned function stops. The timer never keeps the process alive. */
export function watchEventLoopStalls(log: Logger, options: { tickMs?: number; stallMs?: number } = {}): () => void {
  const tickMs = options.tickMs ?? TICK_MS;
  const stallMs = options.stallMs ?? STALL_MS;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    const stalledMs = now - last - tickMs;
    last = now;
    if (stalledMs >= stallMs)
      log.warn(
        { stalledMs: Math.round(stalledMs) },
        `${EVENT_LOOP_STALL_MESSAGE}: nothing was answered meanwhile (a blocked call, or no CPU for this process)`,
      );
  }, tickMs);
  timer.unref();
  return () => clearInterval(timer);
}
