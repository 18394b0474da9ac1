/** The full-kernel agent bundles under dist/: a new one removes those of older sources, and only those. */
import { mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { removeStaleBundles, STALE_BUNDLE_MS } from '../../testbed/uml/agent-bundle';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('removeStaleBundles', () => {
  it('removes bundles written longer ago than the limit, and keeps recent ones and every other file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hostprov-bundles-'));
    dirs.push(dir);
    const now = Date.now();
    const files: Record<string, number> = {
      'hostprov-agent-0123456789ab.mjs': now - STALE_BUNDLE_MS - 60_000,
      'hostprov-agent-ba9876543210.mjs': now - STALE_BUNDLE_MS + 60_000,
      // The shipped agent and its launcher, a half-written bundle and other names are never ours to remove.
      'hostprov-agent.cjs': now - 10 * STALE_BUNDLE_MS,
      'hostprov-agent.mjs': now - 10 * STALE_BUNDLE_MS,
      'hostprov-agent-0123456789ab.mjs.123.456.tmp': now - 10 * STALE_BUNDLE_MS,
      'hostprov-agent-XYZ.mjs': now - 10 * STALE_BUNDLE_MS,
    };
    for (const [name, mtime] of Object.entries(files)) {
      writeFileSync(join(dir, name), '');
      utimesSync(join(dir, name), mtime / 1000, mtime / 1000);
    }
    expect(await removeStaleBundles(dir, now)).toEqual(['hostprov-agent-0123456789ab.mjs']);
    expect(readdirSync(dir).sort()).toEqual(
      Object.keys(files)
        .filter((n) => n !== 'hostprov-agent-0123456789ab.mjs')
        .sort(),
    );
  });
});
