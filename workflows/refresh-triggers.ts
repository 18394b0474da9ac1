/**
 * What makes a host refresh besides an operator: its Temporal Schedule (`scheduledHostRefresh`, the
 * schedule's action) and its agent's `|net|host_conn|no_id` event (`watchHostNetworkEvents`, one long-lived
 * execution per host). Both ask for a refresh through `requestRefresh`, the one place that decides how a
 * refresh is run for a host.
 */
import {
  condition,
  continueAsNew,
  executeChild,
  isCancellation,
  log,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';
import type { RefreshActivities } from '../activities/types';
import { RefreshReason, REFRESH_CONTRACT_VERSION, type RefreshHostNetworksResult } from '../model/refresh/contract';
import { HostIdKey } from '../model/search-attributes';
import { NON_RETRYABLE_FAILURE_TYPES } from '../model/failures';
import { hostEventWatchStatusQuery, type HostEventWatchStatus } from './messages';
import { refreshHostNetworks } from './refresh-host-networks';

/** Workflow id of a host's refresh run for `reason` (unique per run: a host keeps a history of refreshes). */
export function refreshWorkflowId(hostId: string, reason: RefreshReason): string {
  return `refresh-host-networks/${hostId}/${reason}/${uuid4()}`;
}

/** Runs one refresh of the host as a child (workflow id `workflowId`) and returns its result. */
export async function requestRefresh(hostId: string, reason: RefreshReason, workflowId = refreshWorkflowId(hostId, reason)): Promise<RefreshHostNetworksResult> {
  return executeChild(refreshHostNetworks, { workflowId, args: [{ version: REFRESH_CONTRACT_VERSION, hostId, reason }] });
}

/** The action of a host's refresh Schedule (workflow-client/schedules.ts). */
export async function scheduledHostRefresh(input: { hostId: string }): Promise<RefreshHostNetworksResult> {
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
  heartbeatTimeout: '10 seconds',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', nonRetryableErrorTypes: [...NON_RETRYABLE_FAILURE_TYPES] },
};

/** Events one run handles before it continues as new, keeping its history short. */
const EVENTS_PER_RUN = 200;

/**
 * One per host (workflow id `host-network-events/<hostId>`): listens to the agent's events and refreshes
 * the host after each `|net|host_conn|*` one, within seconds instead of at the next scheduled run. The
 * listening goes on while a refresh runs, and events that come meanwhile are folded into one more refresh
 * after it, so none is lost and a burst does not queue a refresh per event.
 */
export async function watchHostNetworkEvents(input: { hostId: string }): Promise<void> {
  const { hostId } = input;
  upsertSearchAttributes([{ key: HostIdKey, value: hostId }]);
  const status: HostEventWatchStatus = { hostId, events: 0, refreshes: [] };
  setHandler(hostEventWatchStatusQuery, () => status);
  const activities = proxyActivities<RefreshActivities>({ ...watchEvents, summary: `watch |net|host_conn| of host ${hostId}` });

  let pending = false;
  let watching = true;
  const refreshing = (async () => {
    for (;;) {
      await condition(() => pending || !watching);
      if (!pending) return;
      pending = false;
      const workflowId = refreshWorkflowId(hostId, RefreshReason.EVENT);
      try {
        const result = await requestRefresh(hostId, RefreshReason.EVENT, workflowId);
        status.refreshes.push({ workflowId, outcome: result.outcome, syncState: result.sync?.state ?? null });
      } catch (err) {
        if (isCancellation(err)) throw err;
        // A failed refresh is visible in its own execution; the watch goes on.
        log.warn('refresh after a host network event failed', { hostId, error: err instanceof Error ? err.message : String(err) });
        status.refreshes.push({ workflowId, outcome: 'failed', syncState: null });
      }
    }
  })();

  while (status.events < EVENTS_PER_RUN) {
    const seen = await activities.waitForHostNetworkEvent({ hostId });
    status.events += 1;
    log.info('host network event', { hostId, event: seen.event, run: workflowInfo().runId });
    pending = true;
  }
  watching = false;
  await refreshing;
  await continueAsNew<typeof watchHostNetworkEvents>(input);
}
