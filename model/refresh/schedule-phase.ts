/**
 * Where in its interval a host's scheduled refresh falls. A Temporal interval fires at
 * `epoch + n × every + offset`; with no offset every host's schedule of the same interval fires at the same
 * second (every five minutes, on the five minutes), and the fleet's refreshes arrive at the workers and the
 * agents together. Each host gets its own offset instead, derived from its id, so the same host keeps its
 * phase across updates and restarts and a fleet spreads evenly over the interval
 * (docs/engine-host-networking.md#refresh-from-capabilities).
 */

/** FNV-1a over the id's UTF-16 code units, then murmur3's finalizer so close ids land far apart. */
function hostIdHash(hostId: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < hostId.length; i += 1) {
    h ^= hostId.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Whole seconds into each interval at which the host's scheduled refresh fires: `0 ≤ phase < intervalSeconds`. */
export function refreshPhaseSeconds(hostId: string, intervalSeconds: number): number {
  return hostIdHash(hostId) % intervalSeconds;
}
