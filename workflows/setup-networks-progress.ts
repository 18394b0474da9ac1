/**
 * A hostSetupNetworks execution's visible state: phase (also the `SetupNetworksPhase` search attribute),
 * per-step records with timings (the status query, the result, the Web UI's "current details").
 * Workflow-sandbox code.
 */
import { setCurrentDetails, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import type { StepRecord } from '../model/install-host/contract';
import { ClusterIdKey, HostNameKey, SetupNetworksPhaseKey } from '../model/search-attributes';
import { SetupNetworksPhase, setupNetworksStatusQuery } from './host-setup-networks-messages';
import type { HostSetupNetworksResult } from '../model/host-setup-networks/contract';
import { StepLog } from './step-log';

export class SetupNetworksProgress {
  private phaseNow: SetupNetworksPhase = SetupNetworksPhase.STARTING;
  private readonly log: StepLog;
  get steps(): StepRecord[] {
    return this.log.steps;
  }

  result: HostSetupNetworksResult | null = null;

  constructor(private readonly hostId: string) {
    this.log = new StepLog(() => this.publish(), { hostId });
    setHandler(setupNetworksStatusQuery, () => ({ phase: this.phaseNow, steps: this.steps, result: this.result }));
    upsertSearchAttributes([
      { key: HostNameKey, value: hostId },
      { key: SetupNetworksPhaseKey, value: this.phaseNow },
    ]);
  }

  /** Once the store names the host and its cluster. */
  identify(hostName: string, clusterId: string): void {
    upsertSearchAttributes([
      { key: HostNameKey, value: hostName },
      { key: ClusterIdKey, value: clusterId },
    ]);
  }

  enter(phase: SetupNetworksPhase): void {
    if (phase === this.phaseNow) return;
    this.phaseNow = phase;
    upsertSearchAttributes([{ key: SetupNetworksPhaseKey, value: phase }]);
    this.publish();
  }

  /** Runs one step, recording start, duration, status and a one-line summary of what it did. */
  step<T>(name: string, summary: string, fn: () => Promise<T>, describe?: (value: T) => string): Promise<T> {
    return this.log.run(name, summary, fn, describe);
  }

  /** Records a decision taken inside the workflow (no activity). */
  note(name: string, status: StepRecord['status'], summary: string): void {
    this.log.note(name, status, summary);
  }

  private publish(): void {
    setCurrentDetails(this.log.details(`**Host:** ${this.hostId} **Phase:** ${this.phaseNow}`));
  }
}
