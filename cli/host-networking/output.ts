/**
 * What the host networking commands print. Reads: a table or a detail view, or `--json` (the model's own
 * shapes). Writes: what changed, field by field, or `--json` a `ChangeRecord` with the row before and
 * after.
 */
import { z } from 'zod';

/** `before`/`after` of one write; `null` on the side where the row did not exist. */
export const ChangeAction = { CREATED: 'created', UPDATED: 'updated', REMOVED: 'removed' } as const;
export type ChangeAction = (typeof ChangeAction)[keyof typeof ChangeAction];

/** The `--json` answer of a write, with the entity's own schema for `before` and `after`. */
export function changeRecordSchema<T extends z.ZodType>(entity: T) {
  return z.object({ action: z.enum(ChangeAction), entity: z.string(), before: entity.nullable(), after: entity.nullable() }).strict();
}
export interface ChangeRecord<T> {
  action: ChangeAction;
  entity: string;
  before: T | null;
  after: T | null;
}

export function writeJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function writeText(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

/** Columns padded to the widest cell; `empty` when there are no rows. */
export function formatTable(header: readonly string[], rows: readonly string[][], empty: string): string {
  if (rows.length === 0) return `(${empty})`;
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all
    .map((row) =>
      row
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** `label: value` lines, labels aligned. */
export function formatFields(fields: ReadonlyArray<readonly [string, string]>): string {
  const width = Math.max(...fields.map(([label]) => label.length));
  return fields.map(([label, value]) => `${`${label}:`.padEnd(width + 1)} ${value}`).join('\n');
}

/** A value as one short cell: `-` for nothing, JSON for structures. */
export function cell(value: unknown): string {
  if (value === null || value === undefined) return '-';
  if (typeof value === 'string') return value === '' ? '""' : value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value) && value.length === 0) return '-';
  if (typeof value === 'object' && Object.keys(value).length === 0) return '-';
  return JSON.stringify(value);
}

const isRecord = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

/** Field paths whose change is bookkeeping, not what the operator asked for. */
const BOOKKEEPING = /(^|\.)(updatedAt|createdAt)$/;

function collectChanges(before: unknown, after: unknown, path: string, out: string[]): void {
  if (BOOKKEEPING.test(path)) return;
  if (isRecord(before) && isRecord(after)) {
    for (const key of new Set([...Object.keys(before), ...Object.keys(after)]))
      collectChanges(before[key], after[key], path ? `${path}.${key}` : key, out);
    return;
  }
  if (JSON.stringify(before) !== JSON.stringify(after)) out.push(`${path || 'value'}: ${cell(before)} → ${cell(after)}`);
}

/** One line per changed field, objects walked where both sides have one: `mtu: 1500 → 9000`. */
export function describeChanges(before: unknown, after: unknown): string[] {
  const out: string[] = [];
  collectChanges(before, after, '', out);
  return out;
}

/** Prints a write: JSON, or a headline and the changed fields. */
export function reportChange<T>(record: ChangeRecord<T>, json: boolean, headline: string): void {
  if (json) {
    writeJson(record);
    return;
  }
  const lines = [headline];
  if (record.action === ChangeAction.UPDATED) {
    const changes = describeChanges(record.before, record.after);
    lines.push(...(changes.length ? changes.map((c) => `  ${c}`) : ['  (nothing changed)']));
  }
  writeText(lines.join('\n'));
}
