import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Journal, readJournal } from '../../../agent/network/journal';

const linesOf = (file: string): Array<{ requestId: number }> =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { requestId: number });

describe('agent journal', () => {
  const dirs: string[] = [];
  const stateDir = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'hostprov-journal-'));
    dirs.push(dir);
    return dir;
  };
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('rotates at the size limit, keeping the newest entries and one previous file', () => {
    const dir = stateDir();
    const journal = new Journal(dir, { maxBytes: 1000 });
    for (let i = 1; i <= 40; i += 1) journal.write({ kind: 'apply', requestId: i, ops: 3, outcome: 'ok' });

    const current = linesOf(journal.file).map((e) => e.requestId);
    const previous = linesOf(journal.previousFile).map((e) => e.requestId);
    expect(statSync(journal.file).size).toBeLessThanOrEqual(1000);
    expect(statSync(journal.previousFile).size).toBeLessThanOrEqual(1000);
    expect(current.at(-1)).toBe(40);
    // Nothing between the two files is lost: the previous file ends right before the current one starts.
    expect(previous.at(-1)).toBe(current[0]! - 1);
    expect([...previous, ...current]).toEqual(Array.from({ length: previous.length + current.length }, (_, k) => previous[0]! + k));
  });

  it('continues an existing file across agent restarts and counts its size', () => {
    const dir = stateDir();
    new Journal(dir, { maxBytes: 1000 }).write({ kind: 'restore', outcome: 'ok' });
    const again = new Journal(dir, { maxBytes: 1000 });
    again.write({ kind: 'apply', requestId: 1, outcome: 'ok' });
    expect(linesOf(again.file)).toHaveLength(2);
    for (let i = 2; i <= 20; i += 1) again.write({ kind: 'apply', requestId: i, outcome: 'ok' });
    expect(statSync(again.file).size).toBeLessThanOrEqual(1000);
  });

  it('reads back complete entries only, and nothing from a journal not yet written', () => {
    const dir = stateDir();
    const journal = new Journal(dir);
    expect(readJournal(journal.file)).toEqual([]);
    journal.write({ kind: 'apply', requestId: 'r-1', ops: 2, outcome: 'ok' });
    appendFileSync(journal.file, '{"at":"2026-11-21T00:00:00.000Z","kind":"rollb');
    expect(readJournal(journal.file)).toEqual([{ at: expect.any(String), kind: 'apply', requestId: 'r-1', ops: 2, outcome: 'ok' }]);
  });
});
