/**
 * The query of a host's network-event watch (workflows/refresh-triggers.ts). Its own module, so that a watch,
 * a long-lived execution per host, evaluates no other workflow's contract.
 */
import { defineQuery } from '@temporalio/workflow';

/** What a host's network-event watch (`watchHostNetworkEvents`) has done in its current run. */
export interface HostEventWatchStatus {
  hostId: string;
  /** Host network events seen by this run. */
  events: number;
  /**
   * Times this run's watch subscribed again after a time it was not subscribed (a lost session or worker,
   * an unreachable agent), each followed by a refresh as an event is.
   */
  resubscriptions: number;
  /** Refreshes this run queued because of them, oldest first: the change id and the refresh's workflow id. */
  refreshes: Array<{ changeId: string; workflowId: string }>;
}

export const hostEventWatchStatusQuery = defineQuery<HostEventWatchStatus>('hostEventWatchStatus');
