/**
 * A host's scheduled refresh has its own phase in the interval, so a fleet's schedules of one interval do
 * not all fire at the same second (the server's test of the spec it goes into: test/workflows/refresh-events.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { refreshPhaseSeconds } from '../../../model/refresh/schedule-phase';

const sequentialIds = Array.from({ length: 1000 }, (_, i) => `host-${String(i + 1).padStart(4, '0')}`);
const uuidLikeIds = Array.from({ length: 1000 }, (_, i) => `0b3c2f5e-1d4a-4c6e-9a7b-${String(i).padStart(12, '0')}`);

/** How many of `ids` fall in each tenth of a 300 s interval. */
function tenths(ids: readonly string[]): number[] {
  const counts = new Array<number>(10).fill(0);
  for (const id of ids) counts[Math.floor(refreshPhaseSeconds(id, 300) / 30)]! += 1;
  return counts;
}

describe('refreshPhaseSeconds', () => {
  it('is a whole second inside the interval, the same for the same host and interval', () => {
    for (const interval of [10, 11, 300, 3600, 604_800]) {
      for (const id of sequentialIds.slice(0, 50)) {
        const phase = refreshPhaseSeconds(id, interval);
        expect(Number.isInteger(phase)).toBe(true);
        expect(phase).toBeGreaterThanOrEqual(0);
        expect(phase).toBeLessThan(interval);
        expect(refreshPhaseSeconds(id, interval)).toBe(phase);
      }
    }
  });

  it('spreads a thousand hosts over the interval, ids that differ in one character included', () => {
    for (const ids of [sequentialIds, uuidLikeIds]) {
      const counts = tenths(ids);
      // 100 each on average; a phase that ignored the id would put all 1000 in one tenth
      for (const count of counts) {
        expect(count).toBeGreaterThan(70);
        expect(count).toBeLessThan(130);
      }
      expect(new Set(ids.map((id) => refreshPhaseSeconds(id, 300))).size).toBeGreaterThan(250);
    }
  });
});
