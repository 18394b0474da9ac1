/**
 * Heart-beat intervals as both ends of a STOMP connection use them (docs/vdsm-wire-protocol.md#heart-beats).
 * Every interval a peer names goes through {@link clampHeartbeatMs} before it drives a timer: Node runs a timer
 * longer than 2^31 - 1 ms after 1 ms instead, so an unclamped `heart-beat:0,99999999999` would make us spin.
 */

/** Non-zero intervals are raised to this, as VDSM does. */
export const MIN_HEARTBEAT_MS = 1000;
/** Intervals are lowered to this: five minutes of silence already means the peer is gone. */
export const MAX_HEARTBEAT_MS = 5 * 60_000;

/**
 * A positive interval (Infinity included) is clamped into [MIN_HEARTBEAT_MS, MAX_HEARTBEAT_MS]; 0, a negative
 * number or NaN means "no heart-beats" and gives 0.
 */
export function clampHeartbeatMs(ms: number): number {
  if (!(ms > 0)) return 0;
  return Math.min(Math.max(ms, MIN_HEARTBEAT_MS), MAX_HEARTBEAT_MS);
}
