/**
 * Version 3: every recorded intent under the key of the request that recorded it. Recording the same request
 * again (an activity retried after its worker committed and died before reporting) then returns the first
 * snapshot and writes nothing, instead of taking the first write for the state before it.
 */
import type { ColumnDataType, Kysely, Migration } from 'kysely';
import { StoreDialect } from '../dialect';

// Kysely<any>: migrations see the schema as it was at their version, not the current `Database` type.
/* eslint-disable @typescript-eslint/no-explicit-any */
export function intentRecords(dialect: StoreDialect): Migration {
  const postgres = dialect === StoreDialect.POSTGRES;
  const time: ColumnDataType = postgres ? 'timestamptz' : 'text';
  const json: ColumnDataType = postgres ? 'jsonb' : 'text';
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('intent_records')
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('host_id', 'text', (c) => c.notNull())
        .addColumn('snapshot', json, (c) => c.notNull())
        .addColumn('recorded_at', time, (c) => c.notNull())
        .addPrimaryKeyConstraint('intent_records_pkey', ['key'])
        .addForeignKeyConstraint('intent_records_host_fkey', ['host_id'], 'hosts', ['id'], (fk) => fk.onDelete('cascade'))
        .execute();
      await db.schema.createIndex('intent_records_recorded_at_idx').on('intent_records').column('recorded_at').execute();
    },
  };
}
