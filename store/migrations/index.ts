/**
 * Every schema version, in order. Names sort in the order they apply; a migration, once released, is never
 * edited: a change is a new file.
 */
import type { Migration } from 'kysely';
import type { StoreDialect } from '../dialect';
import { legacyAttachments } from './0001_legacy_attachments';
import { hostNetworking } from './0002_host_networking';
import { intentRecords } from './0003_intent_records';

export function migrationsFor(dialect: StoreDialect): Record<string, Migration> {
  return {
    '0001_legacy_attachments': legacyAttachments,
    '0002_host_networking': hostNetworking(dialect),
    '0003_intent_records': intentRecords(dialect),
  };
}
