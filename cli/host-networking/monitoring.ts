/**
 * What the lifecycle and schedule commands share: the `--refresh-every`/`--every` and `--reason` flags
 * (checked with the bounds of the schedule itself), a Temporal client for one command, and how a host's
 * monitoring state reads (workflow-client/host-lifecycle.ts).
 */
import type { Client } from '@temporalio/client';
import { z } from 'zod';
import { connectClient } from '../../lib/temporal/connection';
import { HostRefreshScheduleOptions } from '../../workflow-client/schedules';
import type { HostMonitoringState } from '../../workflow-client/host-lifecycle';
import { payloadKeysFromFlags, temporalConfigFromFlags } from '../temporal-flags';
import { formatFields } from './output';

const interval = HostRefreshScheduleOptions.shape.intervalSeconds.unwrap();
const INTERVAL_BOUNDS = `${interval.minValue} to ${interval.maxValue} seconds`;

/** `--every 600`: whole seconds within the schedule's own bounds. */
export const IntervalFlag = z
  .string()
  .regex(/^\d{1,9}$/, 'a whole number of seconds')
  .transform(Number)
  .pipe(
    z
      .number()
      .min(interval.minValue ?? 0, INTERVAL_BOUNDS)
      .max(interval.maxValue ?? 0, INTERVAL_BOUNDS),
  )
  .pipe(interval);

/** `--task-queue`, as the other Temporal commands take it. */
export const TaskQueueFlag = z.string().min(1).max(200);

/** Connects with the command's Temporal flags, runs `work`, closes. */
export async function withTemporalClient<T>(raw: Record<string, unknown>, work: (client: Client) => Promise<T>): Promise<T> {
  const temporal = temporalConfigFromFlags(raw);
  const payloadKeys = payloadKeysFromFlags(raw);
  const { client, close } = await connectClient(temporal, { payloadKeys });
  try {
    return await work(client);
  } finally {
    await close();
  }
}

/**
 * `every 300s, running (137s into each interval; next 2026-12-03T21:45:17.000Z; 3 run(s) so far)` /
 * `every 300s, paused: host in maintenance (…)` / `none`.
 */
export function describeSchedule(state: HostMonitoringState['schedule']): string {
  if (!state) return 'none';
  const every = state.intervalSeconds === null ? 'no interval' : `every ${state.intervalSeconds}s`;
  const details = [
    ...(state.offsetSeconds !== null ? [`${state.offsetSeconds}s into each interval`] : []),
    ...(state.nextRunAt ? [`next ${state.nextRunAt}`] : []),
    `${state.actions} run(s) so far`,
  ];
  return `${every}, ${state.paused ? `paused${state.note ? `: ${state.note}` : ''}` : 'running'} (${details.join('; ')})`;
}

export function formatMonitoring(state: HostMonitoringState): string {
  return formatFields([
    ['host', state.hostId],
    ['monitoring', state.state],
    ['refresh schedule', describeSchedule(state.schedule)],
    ['schedule id', state.schedule?.scheduleId ?? '-'],
    ['event watch', `${state.watch.running ? 'running' : 'not running'}${state.watch.status ? ` (${state.watch.status})` : ''}`],
    ['watch workflow', state.watch.workflowId],
  ]);
}
