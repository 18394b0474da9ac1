/**
 * The install's visible state: phase (also the `InstallPhase` search attribute), per-step records with
 * timings (the query, the result, the Web UI's "current details"). Workflow-sandbox code.
 */
import { setCurrentDetails, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import type { InstallHostResult, StepRecord } from '../model/install-host/contract';
import { InstallPhase, installStatusQuery } from './messages';
import { ClusterIdKey, HostNameKey, InstallPhaseKey } from '../model/search-attributes';
import { StepLog } from './step-log';

export class InstallProgress {
  private phaseNow: InstallPhase = InstallPhase.STARTING;
  private readonly log = new StepLog(() => this.publish());
  get steps(): StepRecord[] {
    return this.log.steps;
  }

  result: InstallHostResult | null = null;

  constructor(hostName: string, clusterId: string) {
    setHandler(installStatusQuery, () => ({ phase: this.phaseNow, steps: this.steps, result: this.result }));
    upsertSearchAttributes([
      { key: HostNameKey, value: hostName },
      { key: ClusterIdKey, value: clusterId },
      { key: InstallPhaseKey, value: this.phaseNow },
    ]);
  }

  get phase(): InstallPhase {
    return this.phaseNow;
  }

  enter(phase: InstallPhase): void {
    if (phase === this.phaseNow) return;
    this.phaseNow = phase;
    upsertSearchAttributes([{ key: InstallPhaseKey, value: phase }]);
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
    setCurrentDetails(this.log.details(`**Phase:** ${this.phaseNow}`));
  }
}
