/** Where things live in a checkout (or an installed package): tools, data, fixtures. */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TEMPORAL_CLI_VERSION } from './temporal/constants';

/**
 * The checkout (or installed package) root: one level above this file, and equally one level above the
 * build's dist/*.mjs, into which this module is bundled (cli/build.ts). Modules locate files through this,
 * never through their own import.meta.url, so that they work the same from the sources and the build.
 */
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Default home of the dev stack's persistent state (Temporal SQLite file, attachment store). */
export const DEFAULT_DATA_DIR = join(PROJECT_ROOT, '.data');

export class TemporalCliMissingError extends Error {
  override readonly name = 'TemporalCliMissingError';
  constructor(readonly path: string) {
    super(`Temporal CLI not found at ${path}; run ./run setup (it builds it from the Go module proxy) or set HOSTPROV_TEMPORAL_CLI`);
  }
}

/** The Temporal CLI binary: `HOSTPROV_TEMPORAL_CLI` if set, else the one `scripts/build-temporal-cli` built. */
export function temporalCliPath(): string {
  const path = process.env.HOSTPROV_TEMPORAL_CLI ?? join(PROJECT_ROOT, '.tools', 'temporal-cli', `v${TEMPORAL_CLI_VERSION}`, 'temporal');
  if (!existsSync(path)) throw new TemporalCliMissingError(path);
  return path;
}
