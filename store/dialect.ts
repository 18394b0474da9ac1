/**
 * The two databases behind one Kysely: SQLite in a file (the default, nothing to set up) and PostgreSQL
 * when the location is a `postgres://` URL. Everything dialect-specific lives here and in `codec.ts`.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import {
  CompiledQuery,
  PostgresDialect,
  SqliteAdapter,
  SqliteDialect,
  SqliteDriver,
  type DatabaseConnection,
  type Dialect,
  type DialectAdapter,
  type Driver,
  type SqliteDialectConfig,
} from 'kysely';
import pg from 'pg';

export const StoreDialect = { SQLITE: 'sqlite', POSTGRES: 'postgres' } as const;
export type StoreDialect = (typeof StoreDialect)[keyof typeof StoreDialect];

export type StoreLocation = { dialect: typeof StoreDialect.SQLITE; file: string } | { dialect: typeof StoreDialect.POSTGRES; url: string };

const POSTGRES_URL = /^postgres(ql)?:\/\//;

/** A `postgres://` or `postgresql://` URL selects PostgreSQL; anything else is a SQLite file path. */
export function parseStoreLocation(location: string): StoreLocation {
  if (POSTGRES_URL.test(location)) return { dialect: StoreDialect.POSTGRES, url: location };
  return { dialect: StoreDialect.SQLITE, file: resolve(location) };
}

/** The location for logs: a PostgreSQL URL without its password. */
export function describeStoreLocation(location: StoreLocation): string {
  if (location.dialect === StoreDialect.SQLITE) return location.file;
  try {
    const url = new URL(location.url);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return 'postgres://(unparsable URL)';
  }
}

/** How long a writer waits for another connection's write lock on the SQLite file before giving up. */
const SQLITE_WRITE_LOCK_WAIT_MS = 10_000;
/**
 * SQLite's own busy wait blocks the thread (better-sqlite3 is synchronous), which would also stall the
 * connection holding the lock when both live in one process; so it is kept short and the wait for a write
 * transaction happens here, asynchronously.
 */
const SQLITE_BUSY_TIMEOUT_MS = 50;

function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}

/**
 * Write transactions start with `BEGIN IMMEDIATE`: the write lock is taken up front, so two connections
 * (two processes, or two stores on one file) queue for it instead of one failing with SQLITE_BUSY when it
 * upgrades a read lock mid-transaction. Within one store Kysely already runs one transaction at a time.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    const deadline = Date.now() + SQLITE_WRITE_LOCK_WAIT_MS;
    for (let pause = 5; ; pause = Math.min(pause * 2, 100)) {
      try {
        await connection.executeQuery(CompiledQuery.raw('begin immediate'));
        return;
      } catch (err) {
        if (!isBusy(err) || Date.now() >= deadline) throw err;
        await new Promise((r) => setTimeout(r, pause));
      }
    }
  }
}

/** SQLite runs DDL in transactions, so each migration is all-or-nothing there too (Kysely assumes not). */
class TransactionalDdlSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

class HostprovSqliteDialect extends SqliteDialect {
  constructor(private readonly sqliteConfig: SqliteDialectConfig) {
    super(sqliteConfig);
  }
  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.sqliteConfig);
  }
  override createAdapter(): DialectAdapter {
    return new TransactionalDdlSqliteAdapter();
  }
}

export function createKyselyDialect(location: StoreLocation): Dialect {
  if (location.dialect === StoreDialect.SQLITE) {
    mkdirSync(dirname(location.file), { recursive: true });
    const database = new Database(location.file, { timeout: SQLITE_BUSY_TIMEOUT_MS });
    database.pragma('journal_mode = WAL');
    database.pragma('foreign_keys = ON');
    return new HostprovSqliteDialect({ database });
  }
  const pool = new pg.Pool({ connectionString: location.url, max: 10 });
  // An idle client losing its server must not crash the process; the next query reports the failure.
  pool.on('error', () => undefined);
  return new PostgresDialect({ pool });
}
