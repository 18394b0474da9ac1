/**
 * How ensureHostRefreshSchedule changes an existing Schedule: one update that carries the paused state, never
 * a pause or unpause after it (the server's scheduler applies a pending patch before a pending update, so
 * the update would undo it). A recording double of the client beside the real-server test in
 * test/workflows/refresh-events.test.ts, which cannot make the two arrive together on purpose.
 */
import type { Client, ScheduleDescription, ScheduleUpdateOptions } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { refreshPhaseSeconds } from '../../model/refresh/schedule-phase';
import { ensureHostRefreshSchedule } from '../../workflow-client/schedules';

function recordingClient(state: { paused: boolean; note?: string }) {
  const calls: string[] = [];
  const updates: ScheduleUpdateOptions[] = [];
  const previous = { spec: {}, action: {}, policies: {}, state } as unknown as ScheduleDescription;
  const handle = {
    describe: async () => previous,
    update: async (fn: (p: ScheduleDescription) => ScheduleUpdateOptions) => {
      calls.push('update');
      updates.push(fn(previous));
    },
    pause: async () => void calls.push('pause'),
    unpause: async () => void calls.push('unpause'),
  };
  const client = { schedule: { getHandle: () => handle } } as unknown as Client;
  return { client, calls, updates };
}

describe('ensureHostRefreshSchedule on an existing Schedule', () => {
  it('resumes it in the update that sets the interval', async () => {
    const { client, calls, updates } = recordingClient({ paused: true, note: 'replacing a disk' });
    await ensureHostRefreshSchedule(client, { hostId: 'h1', intervalSeconds: 7200, paused: false, note: 'host activated' });
    expect(calls).toEqual(['update']);
    expect(updates[0]?.state).toEqual({ paused: false, note: 'host activated' });
    expect(updates[0]?.spec).toEqual({ intervals: [{ every: '7200s', offset: `${refreshPhaseSeconds('h1', 7200)}s` }] });
  });

  it('pauses it in the update too, and keeps its state when not told', async () => {
    const paused = recordingClient({ paused: false });
    await ensureHostRefreshSchedule(paused.client, { hostId: 'h1', paused: true });
    expect(paused.calls).toEqual(['update']);
    expect(paused.updates[0]?.state).toEqual({ paused: true, note: 'paused on update' });

    const kept = recordingClient({ paused: true, note: 'replacing a disk' });
    await ensureHostRefreshSchedule(kept.client, { hostId: 'h1', intervalSeconds: 600 });
    expect(kept.calls).toEqual(['update']);
    expect(kept.updates[0]?.state).toEqual({ paused: true, note: 'replacing a disk' });
  });
});
