/**
 * Queries of the install-host workflow and of a host's network-event watch. The CLI, tests and the workflow import the same definitions.
 */
import { defineQuery } from '@temporalio/workflow';
import { InstallOutcome, type InstallHostResult, type StepRecord } from '../model/install-host/contract';

export interface InstallStatus {
  /** Current phase, same value as the `InstallPhase` search attribute. */
  phase: InstallPhase;
  steps: StepRecord[];
  /** Set once the workflow has decided its outcome. */
  result: InstallHostResult | null;
}

export const InstallPhase = {
  STARTING: 'starting',
  WAIT_AGENT: 'wait-agent',
  PROBE: 'probe',
  ROUTE: 'route',
  DEVISE: 'devise',
  RECORD: 'record',
  APPLY: 'apply',
  COMPENSATE: 'compensate',
  COMMIT: 'commit',
  REBOOT: 'reboot',
  VERIFY: 'verify',
  // the last phase is the outcome
  ...InstallOutcome,
} as const;
export type InstallPhase = (typeof InstallPhase)[keyof typeof InstallPhase];

export const installStatusQuery = defineQuery<InstallStatus>('installStatus');

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
