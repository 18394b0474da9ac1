/**
 * A host's monitoring goes with the host (docs/host-networks.md#host-lifecycle-monitoring-goes-with-the-host):
 * activating it ensures its refresh Schedule (created, or resumed, with the interval asked for) and its
 * network-event watch; putting it in maintenance pauses the Schedule with the reason as its note and stops
 * the watch. Both are idempotent, so an engine (or an operator retrying) may call them again at any time.
 * Removing the host ends both for good (`removeHostMonitoring`: the Schedule deleted, the watch stopped).
 *
 * The state is not stored separately: it *is* the Schedule (absent, paused with a note, or running at an
 * interval) and the watch (running or not), read back by `hostMonitoringState`. One source of truth means a
 * store and Temporal can never disagree about whether a host is monitored.
 */
import { ScheduleNotFoundError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { z } from 'zod';
import { TASK_QUEUE } from '../lib/temporal/constants';
import { ExternalId, hasNoControlCharacters } from '../model/host-networking/values';
import { eventWatchWorkflowId, startHostEventWatch } from './refresh';
import {
  deleteHostRefreshSchedule,
  describeHostRefreshSchedule,
  ensureHostRefreshSchedule,
  HostRefreshScheduleOptions,
  pauseHostRefreshSchedule,
  type HostRefreshScheduleState,
} from './schedules';

/** What a host's monitoring adds up to. */
export const HostMonitoring = {
  /** Schedule running and watch running. */
  ACTIVE: 'active',
  /** Schedule paused and no watch: the host is in maintenance (the note says why). */
  MAINTENANCE: 'maintenance',
  /** Neither a schedule nor a watch: the host was never activated. */
  UNMONITORED: 'unmonitored',
  /** Any other mix (e.g. a watch stopped by hand): activate or maintenance puts it right. */
  PARTIAL: 'partial',
} as const;
export type HostMonitoring = (typeof HostMonitoring)[keyof typeof HostMonitoring];

export interface HostEventWatchState {
  workflowId: string;
  running: boolean;
  /** Temporal's status of the latest run (`RUNNING`, `CANCELLED`, ...), `null` when there never was one. */
  status: string | null;
}

export interface HostMonitoringState {
  hostId: string;
  state: HostMonitoring;
  schedule: HostRefreshScheduleState | null;
  watch: HostEventWatchState;
}

/** A note on the schedule: shown in the Web UI and by `hostprov host-networks schedule`. */
export const MaintenanceReason = z
  .string()
  .trim()
  .min(1, 'a reason says something')
  .max(500, 'at most 500 characters')
  .refine(hasNoControlCharacters, 'no control characters');

/** @default "host in maintenance" */
export const DEFAULT_MAINTENANCE_REASON = 'host in maintenance';

export const ActivateHostOptions = z
  .object({
    hostId: ExternalId,
    /** Seconds between scheduled refreshes. @default the schedule's current interval, or 300 for a new one */
    intervalSeconds: HostRefreshScheduleOptions.shape.intervalSeconds.unwrap().optional(),
    /** @default "host-provisioning" */
    taskQueue: z.string().min(1).max(200).default(TASK_QUEUE),
  })
  .strict();
export type ActivateHostOptions = z.input<typeof ActivateHostOptions>;

export const MaintenanceOptions = z
  .object({
    hostId: ExternalId,
    /** @default "host in maintenance" */
    reason: MaintenanceReason.default(DEFAULT_MAINTENANCE_REASON),
    /** Where the schedule's action runs, should maintenance have to create the schedule. @default "host-provisioning" */
    taskQueue: z.string().min(1).max(200).default(TASK_QUEUE),
    /** How long to wait for the cancelled watch to end before terminating it. @default 30000 */
    watchStopTimeoutMs: z.number().int().min(0).max(600_000).default(30_000),
  })
  .strict();
export type MaintenanceOptions = z.input<typeof MaintenanceOptions>;

export const RemoveHostMonitoringOptions = z
  .object({
    hostId: ExternalId,
    /** How long to wait for the cancelled watch to end before terminating it. @default 30000 */
    watchStopTimeoutMs: MaintenanceOptions.shape.watchStopTimeoutMs,
  })
  .strict();
export type RemoveHostMonitoringOptions = z.input<typeof RemoveHostMonitoringOptions>;

/** What `removeHostMonitoring` found and ended. */
export interface RemovedHostMonitoring {
  hostId: string;
  /** Whether there was a refresh schedule (now deleted). */
  scheduleDeleted: boolean;
  /** Whether a watch was running (now ended: `CANCELLED`, or `TERMINATED` when no worker answered). */
  watchStopped: boolean;
}

/**
 * Ends the host's monitoring for good, before the host is forgotten (`hostprov hosts remove`): deletes its
 * refresh schedule and stops its event watch as maintenance does (cancelled, terminated when no worker
 * answers within the timeout). Idempotent: what is already gone is left as it is.
 */
export async function removeHostMonitoring(client: Client, options: RemoveHostMonitoringOptions): Promise<RemovedHostMonitoring> {
  const o = RemoveHostMonitoringOptions.parse(options);
  const schedule = await describeHostRefreshSchedule(client, o.hostId);
  if (schedule) await deleteHostRefreshSchedule(client, o.hostId);
  const watchStopped = await stopHostEventWatch(client, o.hostId, o.watchStopTimeoutMs);
  return { hostId: o.hostId, scheduleDeleted: schedule !== null, watchStopped };
}

/**
 * Activates the host's monitoring: the refresh schedule exists, unpaused, at the interval asked for (or the
 * one it had), and the event watch runs (started, or the running one kept). Returns the state after.
 */
export async function activateHost(client: Client, options: ActivateHostOptions): Promise<HostMonitoringState> {
  const o = ActivateHostOptions.parse(options);
  const before = await describeHostRefreshSchedule(client, o.hostId);
  const intervalSeconds = o.intervalSeconds ?? before?.intervalSeconds ?? undefined;
  await ensureHostRefreshSchedule(client, {
    hostId: o.hostId,
    taskQueue: o.taskQueue,
    ...(intervalSeconds !== undefined ? { intervalSeconds } : {}),
    ...(before?.paused ? { paused: false, note: 'host activated' } : {}),
  });
  await startHostEventWatch(client, o.hostId, { taskQueue: o.taskQueue });
  return hostMonitoringState(client, o.hostId);
}

/**
 * Puts the host's monitoring in maintenance: the refresh schedule is paused with `reason` as its note
 * (created paused if the host never had one, so the state reads back as maintenance), and the event watch
 * is cancelled and waited for (it ends `CANCELLED`, not failed; see `stopHostEventWatch`). Returns the
 * state after.
 */
export async function putHostInMaintenance(client: Client, options: MaintenanceOptions): Promise<HostMonitoringState> {
  const o = MaintenanceOptions.parse(options);
  const schedule = await describeHostRefreshSchedule(client, o.hostId);
  if (!schedule) await ensureHostRefreshSchedule(client, { hostId: o.hostId, taskQueue: o.taskQueue, paused: true });
  if (!schedule?.paused || schedule.note !== o.reason) await pauseScheduleTolerantly(client, o.hostId, o.reason);
  await stopHostEventWatch(client, o.hostId, o.watchStopTimeoutMs);
  return hostMonitoringState(client, o.hostId);
}

async function pauseScheduleTolerantly(client: Client, hostId: string, note: string): Promise<void> {
  try {
    await pauseHostRefreshSchedule(client, hostId, note);
  } catch (err) {
    // Deleted meanwhile by someone else: nothing polls the host, which is what maintenance wants.
    if (!(err instanceof ScheduleNotFoundError)) throw err;
  }
}

/**
 * Cancels the host's event watch and waits for it to end (`CANCELLED`; a watch that is not running is left
 * as it is). A cancellation only takes effect when a worker runs the watch's next workflow task; when none
 * does within `timeoutMs` (no worker polls its task queue), the run is terminated instead, so maintenance
 * never leaves a watch behind. Terminated is not failed: the watch holds nothing to undo. Resolves with
 * whether a running watch was stopped.
 */
export async function stopHostEventWatch(client: Client, hostId: string, timeoutMs = 30_000): Promise<boolean> {
  const handle = client.workflow.getHandle(eventWatchWorkflowId(ExternalId.parse(hostId)));
  try {
    const described = await handle.describe();
    if (described.status.name !== 'RUNNING') return false;
    await handle.cancel();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    throw err;
  }
  let timer: NodeJS.Timeout | undefined;
  const ended = await Promise.race([
    handle.result().then(
      () => true,
      () => true,
    ),
    new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
  ]);
  clearTimeout(timer);
  if (!ended) await handle.terminate(`not stopped within ${timeoutMs} ms of its cancellation (no worker?)`).catch(() => undefined);
  return true;
}

/** The host's event watch: its latest run's status. */
export async function hostEventWatchState(client: Client, hostId: string): Promise<HostEventWatchState> {
  const workflowId = eventWatchWorkflowId(ExternalId.parse(hostId));
  try {
    const described = await client.workflow.getHandle(workflowId).describe();
    return { workflowId, running: described.status.name === 'RUNNING', status: described.status.name };
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return { workflowId, running: false, status: null };
    throw err;
  }
}

/** The host's monitoring, read from its schedule and its watch (see the module comment). */
export async function hostMonitoringState(client: Client, hostId: string): Promise<HostMonitoringState> {
  const id = ExternalId.parse(hostId);
  const [schedule, watch] = await Promise.all([describeHostRefreshSchedule(client, id), hostEventWatchState(client, id)]);
  return { hostId: id, state: monitoringOf(schedule, watch), schedule, watch };
}

function monitoringOf(schedule: HostRefreshScheduleState | null, watch: HostEventWatchState): HostMonitoring {
  if (schedule && !schedule.paused && watch.running) return HostMonitoring.ACTIVE;
  if (schedule?.paused && !watch.running) return HostMonitoring.MAINTENANCE;
  if (!schedule && !watch.running) return HostMonitoring.UNMONITORED;
  return HostMonitoring.PARTIAL;
}
