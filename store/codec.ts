/** Column values to and from each dialect (see `schema.ts`): booleans, instants and JSON documents. */
import { StoreDialect } from './dialect';

export interface Codec {
  bool(value: boolean): boolean | number;
  json(value: unknown): string;
  nullableJson(value: unknown): string | null;
}

export function codecFor(dialect: StoreDialect): Codec {
  return {
    bool: (value) => (dialect === StoreDialect.SQLITE ? (value ? 1 : 0) : value),
    json: (value) => JSON.stringify(value),
    nullableJson: (value) => (value === null || value === undefined ? null : JSON.stringify(value)),
  };
}

export function readBool(value: boolean | number): boolean {
  return value === true || value === 1;
}

/** timestamptz arrives as a Date, SQLite text as the ISO string it was written as. */
export function readTime(value: Date | string): string {
  return value instanceof Date ? value.toISOString() : value;
}

export function readNullableTime(value: Date | string | null): string | null {
  return value === null ? null : readTime(value);
}

/** jsonb arrives parsed, SQLite text as the JSON it was written as (documents are objects or arrays, never bare strings). */
export function readJson(value: unknown): unknown {
  return typeof value === 'string' ? (JSON.parse(value) as unknown) : value;
}
