/**
 * The store suite runs on both databases: a SQLite file in a temporary directory, and a database of its
 * own on a throwaway PostgreSQL (testbed/postgres.ts) that the test file starts once and stops afterwards.
 * `HOSTPROV_TEST_POSTGRES=off` leaves PostgreSQL out, with a printed reason.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { StoreDialect } from '../../store/dialect';
import { openStore } from '../../store/open';
import type { HostNetworkingStore } from '../../store/store';
import { startThrowawayPostgres, type ThrowawayPostgres } from '../../testbed/postgres';
import { skipBecause } from './skip';

export interface StoreDialectFixture {
  readonly dialect: StoreDialect;
  /** A new, empty database: a SQLite file path or a PostgreSQL URL. */
  freshLocation(): Promise<string>;
  /** A store on a new, empty database. */
  freshStore(): Promise<{ store: HostNetworkingStore; location: string }>;
  /** One raw SQL statement against a location, behind the store's back; returns the rows it yields. */
  sql(location: string, statement: string): Promise<Array<Record<string, unknown>>>;
}

async function sqliteStatement(file: string, statement: string): Promise<Array<Record<string, unknown>>> {
  const db = new Database(file);
  try {
    db.pragma('foreign_keys = ON');
    const prepared = db.prepare(statement);
    if (prepared.reader) return prepared.all() as Array<Record<string, unknown>>;
    prepared.run();
    return [];
  } finally {
    db.close();
  }
}

async function postgresStatement(url: string, statement: string): Promise<Array<Record<string, unknown>>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(statement)).rows as Array<Record<string, unknown>>;
  } finally {
    await client.end();
  }
}

/** Call at the top of a test file: registers the hooks that create and remove the databases. */
export function useStoreDialects(): StoreDialectFixture[] {
  let dir = '';
  let server: ThrowawayPostgres | undefined;
  let count = 0;
  const opened: HostNetworkingStore[] = [];
  const postgresOff = process.env.HOSTPROV_TEST_POSTGRES === 'off';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hostprov-store-'));
    if (!postgresOff) server = await startThrowawayPostgres();
  });
  afterAll(async () => {
    for (const store of opened) await store.close();
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const fixture = (dialect: StoreDialect, freshLocation: () => Promise<string>, sql: StoreDialectFixture['sql']): StoreDialectFixture => ({
    dialect,
    freshLocation,
    async freshStore() {
      const location = await freshLocation();
      const store = await openStore(location);
      opened.push(store);
      return { store, location };
    },
    sql,
  });

  const sqlite = fixture(StoreDialect.SQLITE, async () => join(dir, `store-${++count}.sqlite`), sqliteStatement);
  const postgres = fixture(
    StoreDialect.POSTGRES,
    async () => {
      if (!server) throw new Error('PostgreSQL is not running');
      return server.createDatabase(`store_${process.pid}_${++count}`);
    },
    postgresStatement,
  );
  return skipBecause(postgresOff ? 'HOSTPROV_TEST_POSTGRES=off' : null, 'the PostgreSQL half of the store suite')
    ? [sqlite]
    : [sqlite, postgres];
}
