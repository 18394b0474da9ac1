/**
 * Heart-beats while an activity runs. With a heartbeat timeout in the activity's options (workflows/
 * activity-options.ts), Temporal notices a worker that died in the middle of the activity (kill -9, a lost
 * machine) within that timeout and retries it on another worker, instead of after its whole start-to-close
 * budget. Activities that heartbeat with details of their own (the confirm loop, the agent wait) do so
 * themselves, well within their heartbeat timeouts.
 */
import { Context } from '@temporalio/activity';

/** How often a running activity says it is alive; well inside any heartbeat timeout we use. */
export const HEARTBEAT_INTERVAL_MS = 1000;

export function heartbeating<A extends unknown[], R>(
  activity: (...args: A) => Promise<R>,
  everyMs = HEARTBEAT_INTERVAL_MS,
): (...args: A) => Promise<R> {
  return async (...args: A): Promise<R> => {
    const beat = heartbeatOf(Context.current());
    // No beat at the start: the heartbeat timeout already counts from the attempt's start, so it would tell
    // the server nothing, and it cost every short activity a heartbeat call and a write on the server
    // (docs/performance.md#heartbeats-of-short-activities). The first beat comes one interval in, inside any timeout.
    const timer = setInterval(() => beat(), everyMs);
    try {
      return await activity(...args);
    } finally {
      clearInterval(timer);
    }
  };
}

/**
 * `ctx.heartbeat`, or nothing for a local activity: it has no activity task on the server to keep alive
 * (its worker keeps the workflow task alive instead), so its heartbeats would have nowhere to go.
 */
export function heartbeatOf(ctx: Context): (details?: unknown) => void {
  return ctx.info.isLocal ? () => undefined : (details) => ctx.heartbeat(details);
}
