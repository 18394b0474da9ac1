/**
 * Refreshing and syncing a host's networks on demand (through its entity workflow), and starting its
 * network-event watch. The refresh result is
 * checked against the zod contract on the way out, so a caller gets the typed report or a clear error.
 */
import { WorkflowIdConflictPolicy, type Client, type WorkflowHandle } from '@temporalio/client';
import { TASK_QUEUE } from '../lib/temporal/constants';
import { ExternalId } from '../model/host-networking/values';
import {
  REFRESH_CONTRACT_VERSION,
  RefreshHostNetworksInput,
  RefreshHostNetworksResult,
  RefreshReason,
  WATCH_HOST_NETWORK_EVENTS_WORKFLOW,
} from '../model/refresh/contract';
import { HostNetworkChangeKind } from '../model/host-networks/change';
import { SyncHostNetworksRequest, SyncHostNetworksResult, type SyncHostNetworksRequestInput } from '../model/refresh/sync';
import { requestHostNetworkChange } from './host-networks';
import { hostEventWatchStatusQuery, type HostEventWatchStatus } from '../workflows/host-event-watch-messages';

export interface RefreshClientOptions {
  /** @default "host-provisioning" */
  taskQueue?: string;
}

/**
 * Runs one refresh of the host (reason `on-demand`) through its entity workflow, after any change in
 * progress, and returns its validated result.
 */
export async function refreshHostNetworksNow(
  client: Client,
  hostId: string,
  { taskQueue = TASK_QUEUE }: RefreshClientOptions = {},
): Promise<RefreshHostNetworksResult> {
  const request = RefreshHostNetworksInput.parse({ version: REFRESH_CONTRACT_VERSION, hostId, reason: RefreshReason.ON_DEMAND });
  const done = await requestHostNetworkChange(client, { kind: HostNetworkChangeKind.REFRESH, request }, { taskQueue });
  return RefreshHostNetworksResult.parse(done.result);
}

/** Syncs the host's drifting attachments (or those named) through its entity workflow; returns the validated result. */
export async function syncHostNetworksNow(
  client: Client,
  request: SyncHostNetworksRequestInput,
  { taskQueue = TASK_QUEUE }: RefreshClientOptions = {},
): Promise<SyncHostNetworksResult> {
  const parsed = SyncHostNetworksRequest.parse(request);
  const done = await requestHostNetworkChange(client, { kind: HostNetworkChangeKind.SYNC, request: parsed }, { taskQueue });
  return SyncHostNetworksResult.parse(done.result);
}

export function eventWatchWorkflowId(hostId: string): string {
  return `host-network-events/${hostId}`;
}

/** Starts the host's network-event watch, or attaches to the running one. */
export async function startHostEventWatch(
  client: Client,
  hostId: string,
  { taskQueue = TASK_QUEUE }: RefreshClientOptions = {},
): Promise<WorkflowHandle> {
  const id = ExternalId.parse(hostId);
  return client.workflow.start(WATCH_HOST_NETWORK_EVENTS_WORKFLOW, {
    taskQueue,
    workflowId: eventWatchWorkflowId(id),
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    args: [{ hostId: id }],
  });
}

export async function hostEventWatchStatus(client: Client, hostId: string): Promise<HostEventWatchStatus> {
  return client.workflow.getHandle(eventWatchWorkflowId(ExternalId.parse(hostId))).query(hostEventWatchStatusQuery);
}
