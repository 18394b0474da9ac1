/**
 * Refreshing a host's networks on demand, and starting its network-event watch. The refresh result is
 * checked against the zod contract on the way out, so a caller gets the typed report or a clear error.
 */
import { WorkflowIdConflictPolicy, type Client, type WorkflowHandle } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import { TASK_QUEUE } from '../lib/temporal/constants';
import { ExternalId } from '../model/host-networking/values';
import {
  REFRESH_CONTRACT_VERSION,
  REFRESH_HOST_NETWORKS_WORKFLOW,
  RefreshHostNetworksInput,
  RefreshHostNetworksResult,
  RefreshReason,
  WATCH_HOST_NETWORK_EVENTS_WORKFLOW,
} from '../model/refresh/contract';
import { hostEventWatchStatusQuery, type HostEventWatchStatus } from '../workflows/messages';

export interface RefreshClientOptions {
  /** @default "host-provisioning" */
  taskQueue?: string;
}

/** Runs one refresh of the host (reason `on-demand`) and returns its validated result. */
export async function refreshHostNetworksNow(client: Client, hostId: string, { taskQueue = TASK_QUEUE }: RefreshClientOptions = {}): Promise<RefreshHostNetworksResult> {
  const input = RefreshHostNetworksInput.parse({ version: REFRESH_CONTRACT_VERSION, hostId, reason: RefreshReason.ON_DEMAND });
  const raw = await client.workflow.execute(REFRESH_HOST_NETWORKS_WORKFLOW, {
    taskQueue,
    workflowId: `refresh-host-networks/${input.hostId}/${input.reason}/${randomUUID()}`,
    args: [input],
  });
  return RefreshHostNetworksResult.parse(raw);
}

export function eventWatchWorkflowId(hostId: string): string {
  return `host-network-events/${hostId}`;
}

/** Starts the host's network-event watch, or attaches to the running one. */
export async function startHostEventWatch(client: Client, hostId: string, { taskQueue = TASK_QUEUE }: RefreshClientOptions = {}): Promise<WorkflowHandle> {
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
