/**
 * The names of a host's entity workflow and of its changes' children, and the kinds of change: what a
 * workflow needs to reach a host's entity without its contract's schemas (workflows/refresh-triggers.ts, a
 * long-lived execution per host that keeps every module it evaluated in the worker's workflow cache).
 */

/** The entity workflow's type name. */
export const HOST_NETWORKS_WORKFLOW = 'hostNetworks';

/** The one workflow that serializes a host's network changes. */
export function hostNetworksWorkflowId(hostId: string): string {
  return `host-networks/${hostId}`;
}

/** The child workflow that carries out one change; `changeId` is the Update's id, so a change keeps its child across runs. */
export function changeWorkflowId(hostId: string, changeId: string): string {
  return `${hostNetworksWorkflowId(hostId)}/${changeId}`;
}

export const HostNetworkChangeKind = {
  /** A hostSetupNetworks request (attachments, bonds, removals). */
  SETUP_NETWORKS: 'setup-networks',
  /** Read the host's capabilities and record what it reports (model/refresh). */
  REFRESH: 'refresh',
  /** Re-send the configuration of drifting (or named) attachments, then refresh (model/refresh/sync.ts). */
  SYNC: 'sync',
} as const;
export type HostNetworkChangeKind = (typeof HostNetworkChangeKind)[keyof typeof HostNetworkChangeKind];
