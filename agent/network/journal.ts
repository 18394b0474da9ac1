/**
 * An append-only record of every change the agent made to the host (apply, rollback, boot restore), one
 * JSON line each in `<state>/journal.jsonl`: for operators, and for tests that count applies.
 *
 * A host agent runs for years: when the file would pass `maxBytes` it moves to `journal.jsonl.1` (replacing
 * the older one) and a new file starts, so the journal keeps at least the last `maxBytes` of history and
 * never more than twice that.
 */
import { appendFileSync, chmodSync, readFileSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PRIVATE_FILE_MODE } from '../../lib/private-dir';

export interface JournalEntry {
  /**
   * `recover-*`: what a restarted agent did with a transaction its previous process left unfinished (rolled it
   * back, kept it, or discarded it as void after a reboot); see NetworkService.recoverPendingTransaction.
   * `dns`: resolv.conf's nameservers and search domains written from a DHCP lease, outside any change
   * (NetworkService.followLeaseDns).
   */
  kind: 'apply' | 'rollback' | 'restore' | 'persist' | 'recover-rollback' | 'recover-keep' | 'recover-discard' | 'dns';
  requestId?: string | number | null;
  ops?: number;
  outcome: 'ok' | 'failed' | 'rolled-back';
  detail?: string;
}

/** A journal line as read back: the entry and when it was written. */
export type JournalRecord = JournalEntry & { at: string };

export interface JournalOptions {
  /** Size at which the file is rotated. @default 8 MiB */
  maxBytes?: number;
}

/** The journal of an agent whose state directory is `stateDir`. */
export function journalFile(stateDir: string): string {
  return join(stateDir, 'journal.jsonl');
}

export class Journal {
  readonly file: string;
  readonly previousFile: string;
  readonly #maxBytes: number;
  #size: number;

  constructor(stateDir: string, options: JournalOptions = {}) {
    this.file = journalFile(stateDir);
    this.previousFile = `${this.file}.1`;
    this.#maxBytes = options.maxBytes ?? 8 * 1024 * 1024;
    this.#size = sizeOf(this.file);
    // A journal an older version left readable to others becomes private like a new one.
    for (const file of [this.file, this.previousFile]) chmodIfExists(file, PRIVATE_FILE_MODE);
  }

  write(entry: JournalEntry): void {
    const line = `${JSON.stringify({ at: new Date().toISOString(), ...entry })}\n`;
    const bytes = Buffer.byteLength(line);
    if (this.#size > 0 && this.#size + bytes > this.#maxBytes) {
      renameSync(this.file, this.previousFile);
      this.#size = 0;
    }
    appendFileSync(this.file, line, { mode: PRIVATE_FILE_MODE });
    this.#size += bytes;
  }
}

/**
 * The entries of a journal file, oldest first; none if it does not exist yet. A last line without its
 * newline is one the agent is still writing, and is left out rather than misread.
 */
export function readJournal(file: string): JournalRecord[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const complete = text.slice(0, text.lastIndexOf('\n') + 1);
  return complete
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as JournalRecord);
}

function chmodIfExists(file: string, mode: number): void {
  try {
    chmodSync(file, mode);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
}
