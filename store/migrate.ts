/** Runs the schema forward to the latest version (`migrations/`); the store does this on every open. */
import type { Kysely } from 'kysely';
import { Migrator } from 'kysely';
import type { StoreDialect } from './dialect';
import { StoreOpenError } from './errors';
import { migrationsFor } from './migrations';

export interface MigrationReport {
  /** Migrations this call applied, in order (empty when the schema was current). */
  applied: string[];
  /** Every migration the database has now, in order. */
  current: string[];
}

export async function migrateToLatest(db: Kysely<unknown>, dialect: StoreDialect): Promise<MigrationReport> {
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrationsFor(dialect) } });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    throw new StoreOpenError(
      `migrating the store${failed ? ` (at ${failed})` : ''} failed: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  const current = (await migrator.getMigrations()).filter((m) => m.executedAt).map((m) => m.name);
  return { applied: (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName), current };
}
