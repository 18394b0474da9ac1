/**
 * The per-step records every workflow shows its operators (the status query, the result, the Web UI's
 * "current details"): one place that times a step, records its outcome and summary, and logs it.
 * Workflow-sandbox code; it issues no commands, so recorded histories replay unchanged.
 */
import { log } from '@temporalio/workflow';
import { StepStatus, type StepRecord } from '../model/install-host/contract';

export class StepLog {
  readonly steps: StepRecord[] = [];

  /**
   * @param changed called after every change, so the owner republishes its details
   * @param logFields added to each step's log line
   */
  constructor(
    private readonly changed: () => void,
    private readonly logFields: Record<string, unknown> = {},
  ) {}

  /** Runs one step, recording start, duration, status and a one-line summary of what it did. */
  async run<T>(name: string, summary: string, fn: () => Promise<T>, describe?: (value: T) => string): Promise<T> {
    const record: StepRecord = { name, status: StepStatus.RUNNING, startedAt: new Date().toISOString(), summary };
    this.steps.push(record);
    this.changed();
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
      log.info(`step ${name} ${record.status}`, { ...this.logFields, step: name, durationMs: record.durationMs, summary: record.summary });
      this.changed();
    }
  }

  /** Records a decision taken inside the workflow (no activity). */
  note(name: string, status: StepRecord['status'], summary: string): void {
    this.steps.push({ name, status, startedAt: new Date().toISOString(), durationMs: 0, summary });
    this.changed();
  }

  /** The steps as a Markdown table, under `heading`. */
  details(heading: string): string {
    const lines = this.steps.map(
      (s) => `| ${s.name} | ${s.status} | ${s.durationMs ?? ''} | ${s.summary.replace(/\|/g, '\\|').slice(0, 200)} |`,
    );
    return [heading, '', '| step | status | ms | summary |', '|---|---|---|---|', ...lines].join('\n');
  }
}
