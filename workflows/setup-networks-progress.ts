/**
 * A hostSetupNetworks execution's visible state: phase (also the `SetupNetworksPhase` search attribute),
 * per-step records with timings (the status query, the result, the Web UI's "current details").
 * Workflow-sandbox code.
 */
import { log, setCurrentDetails, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import { StepStatus, type StepRecord } from '../model/install-host/contract';
import { ClusterIdKey, HostNameKey, SetupNetworksPhaseKey } from '../model/search-attributes';
import { SetupNetworksPhase, setupNetworksStatusQuery } from './host-setup-networks-messages';
import type { HostSetupNetworksResult } from '../model/host-setup-networks/contract';

export class SetupNetworksProgress {
  private phaseNow: SetupNetworksPhase = SetupNetworksPhase.STARTING;
  readonly steps: StepRecord[] = [];
  result: HostSetupNetworksResult | null = null;

  constructor(private readonly hostId: string) {
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
  async step<T>(name: string, summary: string, fn: () => Promise<T>, describe?: (value: T) => string): Promise<T> {
    const record: StepRecord = { name, status: StepStatus.RUNNING, startedAt: new Date().toISOString(), summary };
    this.steps.push(record);
    this.publish();
    const started = Date.now();
    try {
      const value = await fn();
      record.status = StepStatus.OK;
      if (describe) record.summary = describe(value);
      return value;
    } catch (err) {
      record.status = StepStatus.FAILED;
      record.summary = `${summary}: ${err instanceof Error ? err.message : String(err)}`;
      throw err;
    } finally {
      record.durationMs = Date.now() - started;
      log.info(`step ${name} ${record.status}`, {
        hostId: this.hostId,
        step: name,
        durationMs: record.durationMs,
        summary: record.summary,
      });
      this.publish();
    }
  }

  /** Records a decision taken inside the workflow (no activity), e.g. the validation. */
  note(name: string, status: StepRecord['status'], summary: string): void {
    this.steps.push({ name, status, startedAt: new Date().toISOString(), durationMs: 0, summary });
    this.publish();
  }

  private publish(): void {
    const lines = this.steps.map(
      (s) => `| ${s.name} | ${s.status} | ${s.durationMs ?? ''} | ${s.summary.replace(/\|/g, '\\|').slice(0, 200)} |`,
    );
    setCurrentDetails(
      [`**Host:** ${this.hostId} **Phase:** ${this.phaseNow}`, '', '| step | status | ms | summary |', '|---|---|---|---|', ...lines].join(
        '\n',
      ),
    );
  }
}
