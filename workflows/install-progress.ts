/**
 * The install's visible state: phase (also the `InstallPhase` search attribute), per-step records with
 * timings (the query, the result, the Web UI's "current details"). Workflow-sandbox code.
 */
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import { setCurrentDetails, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import { InstallOutcome, type InstallHostResult, type StepRecord } from '../model/install-host/contract';
import { InstallPhase, installStatusQuery } from './messages';
import { ClusterIdKey, HostNameKey, InstallPhaseKey } from '../model/search-attributes';
import { StepLog } from './step-log';

/**
 * The phases an install can spend time in, and its outcomes: the `InstallPhase` search attribute shows
 * only these when the short steps run as local activities. Those steps run inside one workflow task, whose
 * commands reach the server together when it ends, so an upsert per short phase would only add events.
 */
const PHASES_WORTH_A_SEARCH: ReadonlySet<InstallPhase> = new Set<InstallPhase>([
  InstallPhase.WAIT_AGENT,
  InstallPhase.RECORD,
  InstallPhase.APPLY,
  InstallPhase.COMPENSATE,
  InstallPhase.REBOOT,
  ...Object.values(InstallOutcome),
]);

export interface InstallProgressOptions {
  /**
   * Upsert the search attribute on every phase, and the host's identity with the starting phase at once
   * (executions that ran every step as an activity). Otherwise the identity goes with the first phase
   * worth a search.
   */
  everyPhaseVisible: boolean;
}

export class InstallProgress {
  private phaseNow: InstallPhase = InstallPhase.STARTING;
  private readonly log = new StepLog(() => this.publish());
  get steps(): StepRecord[] {
    return this.log.steps;
  }

  result: InstallHostResult | null = null;

  /** The host's identity, until it goes out with the first upsert. */
  private identity: SearchAttributeUpdatePair[] | null;

  constructor(
    hostName: string,
    clusterId: string,
    private readonly options: InstallProgressOptions,
  ) {
    setHandler(installStatusQuery, () => ({ phase: this.phaseNow, steps: this.steps, result: this.result }));
    this.identity = [
      { key: HostNameKey, value: hostName },
      { key: ClusterIdKey, value: clusterId },
    ];
    if (options.everyPhaseVisible) this.upsertPhase();
  }

  get phase(): InstallPhase {
    return this.phaseNow;
  }

  enter(phase: InstallPhase): void {
    if (phase === this.phaseNow) return;
    this.phaseNow = phase;
    if (this.options.everyPhaseVisible || PHASES_WORTH_A_SEARCH.has(phase)) this.upsertPhase();
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

  private upsertPhase(): void {
    upsertSearchAttributes([...(this.identity ?? []), { key: InstallPhaseKey, value: this.phaseNow }]);
    this.identity = null;
  }

  private publish(): void {
    setCurrentDetails(this.log.details(`**Phase:** ${this.phaseNow}`));
  }
}
