/**
 * The `--database` flag of the host networking commands and one store session per command: open, run,
 * close, with every store error turned into an operator's message and exit code (`StoreErrorExit`).
 */
import { join } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { DEFAULT_DATA_DIR } from '../../lib/paths';
import { DEFAULT_STORE_FILE, openStore } from '../../store/open';
import type { HostNetworkingStore } from '../../store/store';
import { parseFlags } from '../flags';
import { cliErrorFromStore } from './store-errors';

/** The worker's store when neither runs with `--database`: `hostprov worker` and `hostprov dev` keep it here. */
export const DEFAULT_DATABASE = join(DEFAULT_DATA_DIR, 'worker', DEFAULT_STORE_FILE);

export function withDatabaseOption(command: Command): Command {
  return command.option(
    '--database <url|file>',
    'the store: a postgres:// URL (password from PGPASSWORD or ~/.pgpass) or a SQLite file',
    DEFAULT_DATABASE,
  );
}

const DatabaseFlag = z.object({ database: z.string().trim().min(1, 'a SQLite file or a postgres:// URL') });

/** The store location from the flags; checked before anything is opened. */
export function databaseFromFlags(raw: Record<string, unknown>): string {
  return parseFlags(DatabaseFlag, { database: raw.database }).database;
}

/** Opens the store, runs `work`, closes it; store errors leave as UsageErrors with their exit codes. */
export async function withStore<T>(database: string, work: (store: HostNetworkingStore) => Promise<T>): Promise<T> {
  let store: HostNetworkingStore;
  try {
    store = await openStore(database);
  } catch (err) {
    throw cliErrorFromStore(err);
  }
  try {
    return await work(store);
  } catch (err) {
    throw cliErrorFromStore(err);
  } finally {
    await store.close();
  }
}
