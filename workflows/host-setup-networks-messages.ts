/** The status query and phases of the hostSetupNetworks workflow; the client, tests and the workflow share them. */
import { defineQuery } from '@temporalio/workflow';
import { HostSetupNetworksOutcome, type HostSetupNetworksResult } from '../model/host-setup-networks/contract';
import type { StepRecord } from '../model/install-host/contract';

export const SetupNetworksPhase = {
  STARTING: 'starting',
  LOAD: 'load',
  PROBE: 'probe',
  VALIDATE: 'validate',
  RECORD: 'record',
  APPLY: 'apply',
  COMPENSATE: 'compensate',
  COMMIT: 'commit',
  REFRESH: 'refresh',
  // the last phase is the outcome
  ...HostSetupNetworksOutcome,
} as const;
export type SetupNetworksPhase = (typeof SetupNetworksPhase)[keyof typeof SetupNetworksPhase];

export interface SetupNetworksStatus {
  phase: SetupNetworksPhase;
  steps: StepRecord[];
  result: HostSetupNetworksResult | null;
}

export const setupNetworksStatusQuery = defineQuery<SetupNetworksStatus>('setupNetworksStatus');
