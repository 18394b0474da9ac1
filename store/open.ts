/**
 * Opening the store: a SQLite file path (created if missing) or a `postgres://` URL; the schema is
 * migrated forward before the store is handed out.
 */
import { Kysely } from 'kysely';
import { createAttachmentRepository } from './attachments';
import { createClusterRepository } from './clusters';
import { StoreContext } from './context';
import { createKyselyDialect, describeStoreLocation, parseStoreLocation } from './dialect';
import { StoreError, StoreOpenError } from './errors';
import { createHostRepository } from './hosts';
import { migrateToLatest } from './migrate';
import { createNetworkRepository } from './networks';
import type { Database } from './schema';
import type { HostNetworkingStore } from './store';

/** The SQLite file the worker keeps in its data directory (the name predates the wider model). */
export const DEFAULT_STORE_FILE = 'attachments.sqlite';

export async function openStore(location: string): Promise<HostNetworkingStore> {
  if (!location.trim()) throw new StoreOpenError('no store location given (a SQLite file path or a postgres:// URL)');
  const parsed = parseStoreLocation(location);
  let db: Kysely<Database>;
  try {
    db = new Kysely<Database>({ dialect: createKyselyDialect(parsed) });
  } catch (err) {
    throw new StoreOpenError(
      `cannot open the store at ${describeStoreLocation(parsed)}: ${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    );
  }
  try {
    await migrateToLatest(db as Kysely<unknown>, parsed.dialect);
  } catch (err) {
    await db.destroy().catch(() => undefined);
    if (err instanceof StoreError) throw err;
    throw new StoreOpenError(
      `cannot open the store at ${describeStoreLocation(parsed)}: ${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    );
  }
  const ctx = new StoreContext(db, parsed.dialect);
  let closed: Promise<void> | undefined;
  return {
    dialect: parsed.dialect,
    networks: createNetworkRepository(ctx),
    clusters: createClusterRepository(ctx),
    hosts: createHostRepository(ctx),
    attachments: createAttachmentRepository(ctx),
    async migrations() {
      const rows = await db
        .selectFrom('kysely_migration' as never)
        .select('name' as never)
        .orderBy('name' as never)
        .execute();
      return rows.map((r) => (r as { name: string }).name);
    },
    close() {
      closed ??= db.destroy();
      return closed;
    },
  };
}
