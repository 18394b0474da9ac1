/**
 * One Temporal Schedule per host refreshes its networks every interval (docs/engine-host-networking.md#refresh-from-capabilities).
 * The schedule's action starts `scheduledHostRefresh`, a tiny workflow that runs the refresh as a child, so
 * a scheduled refresh goes the same way as any other. Overlaps are skipped: a refresh still running when
 * the next is due makes that one unnecessary. Pausing and resuming the schedule goes with the host (a host
 * taken out of service is not polled).
 */
import { ScheduleNotFoundError, ScheduleOverlapPolicy, type Client, type ScheduleHandle } from '@temporalio/client';
import { z } from 'zod';
import { TASK_QUEUE } from '../lib/temporal/constants';
import { ExternalId } from '../model/host-networking/values';
import { SCHEDULED_HOST_REFRESH_WORKFLOW } from '../model/refresh/contract';
import { refreshPhaseSeconds } from '../model/refresh/schedule-phase';

/** @default 300 (five minutes, the engine's order of magnitude for capability polling of a quiet host) */
export const DEFAULT_REFRESH_INTERVAL_SECONDS = 300;

export const HostRefreshScheduleOptions = z
  .object({
    hostId: ExternalId,
    /** Seconds between refreshes. @default 300 */
    intervalSeconds: z
      .number()
      .int()
      .min(10)
      .max(7 * 24 * 3600)
      .default(DEFAULT_REFRESH_INTERVAL_SECONDS),
    /** @default "host-provisioning" */
    taskQueue: z.string().min(1).max(200).default(TASK_QUEUE),
    /** Create the schedule paused. @default false */
    paused: z.boolean().default(false),
    /** The note that goes with `paused` (why), for the Web UI. */
    note: z.string().min(1).max(500).optional(),
  })
  .strict();
export type HostRefreshScheduleOptions = z.input<typeof HostRefreshScheduleOptions>;

export function refreshScheduleId(hostId: string): string {
  return `host-networks-refresh/${hostId}`;
}

/** Workflow id of the executions the schedule starts (Temporal appends the scheduled time). */
export function scheduledRefreshWorkflowId(hostId: string): string {
  return `scheduled-refresh/${hostId}`;
}

export interface HostRefreshScheduleState {
  scheduleId: string;
  intervalSeconds: number | null;
  /** Seconds into each interval at which it fires (its host's own phase; 0 on a schedule made before phases). */
  offsetSeconds: number | null;
  /** When it fires next (ISO 8601); `null` while paused. */
  nextRunAt: string | null;
  paused: boolean;
  note: string | null;
  /** Actions taken so far. */
  actions: number;
}

/** Every `intervalSeconds`, at the host's own phase in the interval (model/refresh/schedule-phase.ts). */
function refreshSpec(hostId: string, intervalSeconds: number) {
  return { intervals: [{ every: `${intervalSeconds}s`, offset: `${refreshPhaseSeconds(hostId, intervalSeconds)}s` }] };
}

function action(hostId: string, taskQueue: string) {
  return {
    type: 'startWorkflow' as const,
    workflowType: SCHEDULED_HOST_REFRESH_WORKFLOW,
    args: [{ hostId }],
    taskQueue,
    workflowId: scheduledRefreshWorkflowId(hostId),
  };
}

/** Creates the host's schedule, or updates its interval and action if it exists (paused state kept unless `paused` is given). */
export async function ensureHostRefreshSchedule(client: Client, options: HostRefreshScheduleOptions): Promise<ScheduleHandle> {
  const o = HostRefreshScheduleOptions.parse(options);
  const scheduleId = refreshScheduleId(o.hostId);
  const handle = client.schedule.getHandle(scheduleId);
  try {
    await handle.describe();
  } catch (err) {
    if (!(err instanceof ScheduleNotFoundError)) throw err;
    return client.schedule.create({
      scheduleId,
      spec: refreshSpec(o.hostId, o.intervalSeconds),
      action: action(o.hostId, o.taskQueue),
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: `${Math.max(60, o.intervalSeconds)}s` },
      state: { paused: o.paused, note: o.note ?? (o.paused ? 'created paused' : `refresh host ${o.hostId} every ${o.intervalSeconds}s`) },
    });
  }
  // The paused state goes in the same update, not in a pause or unpause after it: the server's scheduler
  // applies a pending patch before a pending update when both arrive together, and the update then puts back
  // the paused state it carries (go.temporal.io/server service/worker/scheduler/workflow.go, processSignals).
  const paused = options.paused;
  await handle.update((previous) => ({
    ...previous,
    spec: refreshSpec(o.hostId, o.intervalSeconds),
    action: action(o.hostId, o.taskQueue),
    state:
      paused === undefined
        ? previous.state
        : { ...previous.state, paused, note: o.note ?? (paused ? 'paused on update' : 'resumed on update') },
  }));
  return handle;
}

/**
 * Changes only the interval of the host's existing schedule (its action, task queue and paused state stay).
 * @throws ScheduleNotFoundError when the host has no schedule.
 */
export async function setHostRefreshInterval(client: Client, hostId: string, intervalSeconds: number): Promise<void> {
  const o = HostRefreshScheduleOptions.parse({ hostId, intervalSeconds });
  await client.schedule
    .getHandle(refreshScheduleId(o.hostId))
    .update((previous) => ({ ...previous, spec: refreshSpec(o.hostId, o.intervalSeconds) }));
}

/** Pauses the host's refresh schedule (the host is out of service); `note` says why, for the Web UI. */
export async function pauseHostRefreshSchedule(client: Client, hostId: string, note = 'host paused'): Promise<void> {
  await client.schedule.getHandle(refreshScheduleId(ExternalId.parse(hostId))).pause(note);
}

export async function resumeHostRefreshSchedule(client: Client, hostId: string, note = 'host resumed'): Promise<void> {
  await client.schedule.getHandle(refreshScheduleId(ExternalId.parse(hostId))).unpause(note);
}

/** Removes the host's schedule; a host without one is not an error. */
export async function deleteHostRefreshSchedule(client: Client, hostId: string): Promise<void> {
  try {
    await client.schedule.getHandle(refreshScheduleId(ExternalId.parse(hostId))).delete();
  } catch (err) {
    if (!(err instanceof ScheduleNotFoundError)) throw err;
  }
}

/** The schedule's interval and state, or `null` when the host has none. */
export async function describeHostRefreshSchedule(client: Client, hostId: string): Promise<HostRefreshScheduleState | null> {
  const scheduleId = refreshScheduleId(ExternalId.parse(hostId));
  try {
    const d = await client.schedule.getHandle(scheduleId).describe();
    const interval = d.spec.intervals?.[0];
    const next = d.info.nextActionTimes[0];
    return {
      scheduleId,
      intervalSeconds: interval ? Math.round(interval.every / 1000) : null,
      offsetSeconds: interval ? Math.round(interval.offset / 1000) : null,
      nextRunAt: !d.state.paused && next ? next.toISOString() : null,
      paused: d.state.paused,
      note: d.state.note ?? null,
      actions: d.info.numActionsTaken,
    };
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return null;
    throw err;
  }
}
