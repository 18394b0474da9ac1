/**
 * The Update and Query of the per-host entity workflow (workflows/host-networks.ts). The client, the CLI,
 * tests and the workflow import the same definitions.
 */
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { HostNetworkChangeInput, HostNetworkChangeKind, HostNetworkChangeResult } from '../model/host-networks/change';

/** Queue a change for the host; returns when its child workflow has ended, with that child's result. */
export const hostNetworkChangeUpdate = defineUpdate<HostNetworkChangeResult, [HostNetworkChangeInput]>('hostNetworkChange');

export interface HostNetworksStatus {
  hostId: string;
  /** The change being carried out, if any. */
  running: { changeId: string; kind: HostNetworkChangeKind; workflowId: string } | null;
  /** Accepted changes waiting their turn, in order. */
  queued: Array<{ changeId: string; kind: HostNetworkChangeKind }>;
  /** Changes finished by this run. */
  completedThisRun: number;
}

export const hostNetworksStatusQuery = defineQuery<HostNetworksStatus>('hostNetworksStatus');
