/**
 * Queries of the install-host workflow. The CLI, tests and the workflow import the same definitions.
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
