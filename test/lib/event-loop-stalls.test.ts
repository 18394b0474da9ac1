/** lib/event-loop-stalls.ts: a loop held longer than the limit is reported once, with how long; a busy but running loop is not. */
import { describe, expect, it } from 'vitest';
import { EVENT_LOOP_STALL_MESSAGE, watchEventLoopStalls } from '../../lib/event-loop-stalls';
import { capturingLogger } from '../testbed/helpers/fixture';

const hold = (ms: number): void => {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // the loop is held, as by a synchronous call that does not return
  }
};
const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('event loop stall watch', () => {
  it('reports a loop held past the limit, once and with its length, and not the short holds around it', async () => {
    const captured = capturingLogger();
    const stop = watchEventLoopStalls(captured.log, { tickMs: 20, stallMs: 1_000 });
    try {
      for (let i = 0; i < 5; i++) {
        hold(50);
        await tick(25);
      }
      hold(1_500);
      await tick(100);
    } finally {
      stop();
    }
    const stalls = captured.lines
      .map((line) => JSON.parse(line) as { msg: string; stalledMs?: number })
      .filter((l) => l.stalledMs !== undefined);
    expect(stalls).toHaveLength(1);
    expect(stalls[0]?.stalledMs).toBeGreaterThanOrEqual(1_000);
    expect(stalls[0]?.msg.startsWith(EVENT_LOOP_STALL_MESSAGE)).toBe(true);
  });
});
