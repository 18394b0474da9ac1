/**
 * An append-only record of every change the agent made to the host (apply, rollback, boot restore), one
 * JSON line each in `<state>/journal.jsonl`: for operators, and for tests that count applies.
 */
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';

export interface JournalEntry {
  kind: 'apply' | 'rollback' | 'restore' | 'persist';
  requestId?: string | number | null;
  ops?: number;
  outcome: 'ok' | 'failed' | 'rolled-back';
  detail?: string;
}

export class Journal {
  readonly file: string;
  constructor(stateDir: string) {
    this.file = join(stateDir, 'journal.jsonl');
  }

  write(entry: JournalEntry): void {
    appendFileSync(this.file, `${JSON.stringify({ at: new Date().toISOString(), ...entry })}\n`);
  }
}
