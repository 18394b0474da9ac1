/**
 * What makes a host refresh besides an operator: its Temporal Schedule (`scheduledHostRefresh`, the
 * schedule's action) and its agent's `|net|host_conn|no_id` event (`watchHostNetworkEvents`, one long-lived
 * execution per host). Both queue the refresh in the host's entity workflow (`requestRefresh`), so it
 * runs one at a time with every other change of the host.
 */
import {
  continueAsNew,
  getExternalWorkflowHandle,
  log,
  ParentClosePolicy,
  patched,
  proxyActivities,
  setHandler,
  startChild,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
  WorkflowIdReusePolicy,
  type ActivityOptions,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { RefreshActivities } from '../activities/types';
import type { HostNetworkChange } from '../model/host-networks/change';
import {
  changeWorkflowId,
  HOST_NETWORKS_WORKFLOW,
  HostNetworkChangeKind,
  hostNetworksWorkflowId,
} from '../model/host-networks/workflow-ids';
import {
  hostEventsTaskQueue,
  RefreshReason,
  REFRESH_CONTRACT_VERSION,
  WATCH_HEARTBEAT_TIMEOUT_SECONDS,
  WatchGap,
} from '../model/refresh/triggers';
import { HostIdKey } from '../model/search-attributes';
import { NON_RETRYABLE_FAILURE_TYPES } from '../model/failures';
import { hostEventWatchStatusQuery, type HostEventWatchStatus } from './host-event-watch-messages';
import type { hostNetworks } from './host-networks';
import { queueHostNetworkChangeSignal } from './host-networks-messages';

/** What a trigger queued: the change's id and the workflow id of the refresh that will carry it out. */
export interface QueuedRefresh {
  changeId: string;
  workflowId: string;
}

/**
 * Queues a refresh of the host in its entity workflow (so it never runs in the middle of a change), with
 * the `queueHostNetworkChange` signal; when the entity is not running, starts it with the refresh as its
 * first pending change. Returns at once: the refresh runs as the entity's child `workflowId`.
 */
export async function requestRefresh(hostId: string, reason: RefreshReason): Promise<QueuedRefresh> {
  const changeId = `${reason}-${uuid4()}`;
  const change: HostNetworkChange = {
    kind: HostNetworkChangeKind.REFRESH,
    request: { version: REFRESH_CONTRACT_VERSION, hostId, reason, skipManagementNetwork: false },
  };
  const entityId = hostNetworksWorkflowId(hostId);
  for (let attempt = 0; ; attempt += 1) {
    try {
      await getExternalWorkflowHandle(entityId).signal(queueHostNetworkChangeSignal, { changeId, change });
      break;
    } catch (err) {
      if (attempt >= 2) throw err;
    }
    try {
      await startChild<typeof hostNetworks>(HOST_NETWORKS_WORKFLOW, {
        workflowId: entityId,
        args: [{ hostId, pending: [{ changeId, change }] }],
        parentClosePolicy: ParentClosePolicy.ABANDON,
        workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
        staticSummary: `network changes of host ${hostId}`.slice(0, 200),
      });
      break;
    } catch (err) {
      // Started by someone else between the signal and the start: signal it.
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
  }
  return { changeId, workflowId: changeWorkflowId(hostId, changeId) };
}

/** The action of a host's refresh Schedule (workflow-client/schedules.ts): queues one refresh in the host's entity workflow. */
export async function scheduledHostRefresh(input: { hostId: string }): Promise<QueuedRefresh> {
  upsertSearchAttributes([{ key: HostIdKey, value: input.hostId }]);
  return requestRefresh(input.hostId, RefreshReason.SCHEDULE);
}

/**
 * The watch runs until an event comes, heart-beating; a dead worker is noticed within the heartbeat timeout
 * and the watch starts again. An unreachable agent (a reboot, a network change) is retried for ever, at
 * most every 30 s, so the watch outlives it.
 */
const watchEvents: ActivityOptions = {
  startToCloseTimeout: '24 hours',
  heartbeatTimeout: WATCH_HEARTBEAT_TIMEOUT_SECONDS * 1000,
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', nonRetryableErrorTypes: [...NON_RETRYABLE_FAILURE_TYPES] },
};

/** `patched()` id of the watch's activity on its own task queue (`hostEventsTaskQueue`), not the worker's. */
export const WATCH_ON_OWN_TASK_QUEUE_PATCH = 'watch-on-own-task-queue';

/**
 * `patched()` id of counting a run's resubscriptions with its events towards {@link EVENTS_PER_RUN}: a host
 * whose agent keeps restarting would otherwise grow one run's history without end. Asked once per run, at
 * its start: a run replayed from before it keeps counting events alone.
 */
export const WATCH_COUNTS_RESUBSCRIPTIONS_PATCH = 'watch-counts-resubscriptions';

/** Events (and, from the patch above, resubscriptions) one run handles before it continues as new, keeping its history short. */
const EVENTS_PER_RUN = 200;

/**
 * One per host (workflow id `host-network-events/<hostId>`): listens to the agent's events and queues a
 * refresh of the host in its entity workflow after each `|net|host_conn|*` one, within seconds instead of
 * at the next scheduled run. Between one event and the next subscription there is a moment without one;
 * the refresh queued for the first event reads the host after it, so a change in that moment is seen.
 */
export async function watchHostNetworkEvents(input: { hostId: string }): Promise<void> {
  const { hostId } = input;
  upsertSearchAttributes([{ key: HostIdKey, value: hostId }]);
  const status: HostEventWatchStatus = { hostId, events: 0, resubscriptions: 0, refreshes: [] };
  setHandler(hostEventWatchStatusQuery, () => status);
  const summary = `watch |net|host_conn| of host ${hostId}`;
  const onOwnQueue = proxyActivities<RefreshActivities>({
    ...watchEvents,
    summary,
    taskQueue: hostEventsTaskQueue(workflowInfo().taskQueue),
  });
  const onWorkerQueue = proxyActivities<RefreshActivities>({ ...watchEvents, summary });
  const countsResubscriptions = patched(WATCH_COUNTS_RESUBSCRIPTIONS_PATCH);

  while (status.events + (countsResubscriptions ? status.resubscriptions : 0) < EVENTS_PER_RUN) {
    // Asked before every watch, not once per run: a run recorded before the patch replays its watches on the
    // worker's queue, and its next watch after an upgrade moves to the own queue.
    const activities = patched(WATCH_ON_OWN_TASK_QUEUE_PATCH) ? onOwnQueue : onWorkerQueue;
    const seen = await activities.waitForHostNetworkEvent({ hostId });
    // No event: the host went unwatched for a while (activities/refresh.ts), before this watch ended or until
    // the next one subscribes, so it is read as after an event. A result recorded before `unwatched` existed
    // is a move: the only reason then.
    if (seen.event !== null) {
      status.events += 1;
      log.info('host network event', { hostId, event: seen.event });
    } else if (seen.unwatched === undefined || seen.unwatched === WatchGap.MOVING) {
      log.info('host event watch moving to its own task queue', { hostId });
    } else {
      status.resubscriptions += 1;
      log.info('host event watch subscribed again after a time unwatched: refreshing the host', { hostId, unwatched: seen.unwatched });
    }
    // Queued at once; the watch goes on while the entity runs it (after any change in progress).
    const queued = await requestRefresh(hostId, RefreshReason.EVENT);
    status.refreshes.push(queued);
  }
  await continueAsNew<typeof watchHostNetworkEvents>(input);
}
