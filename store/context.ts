/** What every repository shares: the database, its dialect, the clock, transactions and input parsing. */
import type { Kysely, Transaction } from 'kysely';
import type { z } from 'zod';
import { codecFor, type Codec } from './codec';
import { translateDbError } from './db-errors';
import { StoreDialect } from './dialect';
import { StoreError, StoreInputError } from './errors';
import type { Database } from './schema';

export type Db = Kysely<Database> | Transaction<Database>;

export class StoreContext {
  readonly codec: Codec;
  constructor(
    readonly db: Kysely<Database>,
    readonly dialect: StoreDialect,
  ) {
    this.codec = codecFor(dialect);
  }

  now(): string {
    return new Date().toISOString();
  }

  /** One transaction; database errors come out as typed store errors. */
  async write<T>(fn: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
    try {
      return await this.db.transaction().execute(fn);
    } catch (err) {
      throw translateDbError(err);
    }
  }

  async read<T>(fn: (db: Kysely<Database>) => Promise<T>): Promise<T> {
    try {
      return await fn(this.db);
    } catch (err) {
      throw translateDbError(err);
    }
  }

  /** Row locks exist on PostgreSQL; SQLite's write transaction already excludes every other writer. */
  get locksRows(): boolean {
    return this.dialect === StoreDialect.POSTGRES;
  }
}

/** Parses caller input with its schema, or throws StoreInputError listing every issue. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new StoreInputError(
    what,
    parsed.error.issues.map((i) => `${i.path.join('.') || what}: ${i.message}`),
  );
}

/** Decodes a stored row with its schema; a row that does not fit was written by something else. */
export function decodeRow<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new StoreError(
    `stored ${what} does not match the model: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
  );
}

/** Names sort the same on both databases (PostgreSQL collations differ from SQLite's byte order). */
export function byKey<T>(key: (item: T) => string): (a: T, b: T) => number {
  return (a, b) => {
    const x = key(a);
    const y = key(b);
    return x < y ? -1 : x > y ? 1 : 0;
  };
}
