/**
 * The install's visible state: phase (also the `InstallPhase` search attribute), per-step records with
 * timings (the query, the result, the Web UI's "current details"). Workflow-sandbox code.
 */
import { log, setCurrentDetails, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import { StepStatus, type InstallHostResult, type StepRecord } from '../model/install-host/contract';
import { InstallPhase, installStatusQuery } from './messages';
import { ClusterIdKey, HostNameKey, InstallPhaseKey } from '../model/search-attributes';

export class InstallProgress {
  private phaseNow: InstallPhase = InstallPhase.STARTING;
  readonly steps: StepRecord[] = [];
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
      log.info(`step ${name} ${record.status}`, { step: name, durationMs: record.durationMs, summary: record.summary });
      this.publish();
    }
  }

  /** Records a decision taken inside the workflow (no activity), e.g. the device choice. */
  note(name: string, status: StepRecord['status'], summary: string): void {
    this.steps.push({ name, status, startedAt: new Date().toISOString(), durationMs: 0, summary });
    this.publish();
  }

  private publish(): void {
    const lines = this.steps.map(
      (s) => `| ${s.name} | ${s.status} | ${s.durationMs ?? ''} | ${s.summary.replace(/\|/g, '\\|').slice(0, 200)} |`,
    );
    setCurrentDetails([`**Phase:** ${this.phaseNow}`, '', '| step | status | ms | summary |', '|---|---|---|---|', ...lines].join('\n'));
  }
}
