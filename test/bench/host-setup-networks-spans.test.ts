/**
 * The history reading of `bench host-setup-networks`: activity spans from scheduled and completed events,
 * matched by the scheduled event's id (not by order), with a span left open when its activity never
 * completed.
 */
import type { temporal } from '@temporalio/proto';
import { describe, expect, it } from 'vitest';
import { activitySpans } from '../../bench/host-setup-networks';

// Plain numbers where the SDK has Long: the reader only turns ids and seconds into numbers and strings.
const at = (ms: number) => ({ seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 });
const history = (events: unknown[]) => events as temporal.api.history.v1.IHistoryEvent[];

describe('activitySpans', () => {
  it('pairs each completion with its scheduled event by id, in scheduling order', () => {
    const spans = activitySpans(
      history([
        { eventId: 5, eventTime: at(1_000), activityTaskScheduledEventAttributes: { activityType: { name: 'a' } } },
        { eventId: 6, eventTime: at(1_250), activityTaskScheduledEventAttributes: { activityType: { name: 'b' } } },
        { eventId: 8, eventTime: at(1_400), activityTaskCompletedEventAttributes: { scheduledEventId: 6 } },
        { eventId: 9, eventTime: at(2_005), activityTaskCompletedEventAttributes: { scheduledEventId: 5 } },
        { eventId: 10, eventTime: at(2_100), activityTaskScheduledEventAttributes: { activityType: { name: 'c' } } },
      ]),
    );
    expect(spans.map((s) => [s.name, s.scheduled, s.completed])).toEqual([
      ['a', 1_000, 2_005],
      ['b', 1_250, 1_400],
      ['c', 2_100, Number.NaN],
    ]);
  });
});
