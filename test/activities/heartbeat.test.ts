/**
 * activities/heartbeat.ts: an activity that ends within the heartbeat interval sends no heartbeat at all
 * (the heartbeat timeout counts from the attempt's start, so a beat at the start told the server nothing
 * and cost a call and a write); one that runs longer beats every interval. The SDK's own activity
 * environment counts the heartbeats.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { MockActivityEnvironment } from '@temporalio/testing';
import { describe, expect, it } from 'vitest';
import { heartbeating } from '../../activities/heartbeat';

async function heartbeatsOf(runMs: number, everyMs: number): Promise<number> {
  const env = new MockActivityEnvironment();
  let beats = 0;
  env.on('heartbeat', () => (beats += 1));
  const activity = heartbeating(async (ms: number) => {
    await sleep(ms);
    return ms;
  }, everyMs);
  await expect(env.run(activity, runMs)).resolves.toBe(runMs);
  return beats;
}

describe('heartbeating', () => {
  it('sends nothing for an activity that ends within one interval', async () => {
    expect(await heartbeatsOf(20, 1000)).toBe(0);
  });

  it('beats every interval while the activity runs', async () => {
    // 50 ms apart over 400 ms: about 7 beats; timers under load may drift, never to none or one.
    expect(await heartbeatsOf(400, 50)).toBeGreaterThanOrEqual(3);
  });
});
