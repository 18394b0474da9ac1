/**
 * bin/hostprov's choice between the build and the sources (scripts/build-freshness.sh), on a throwaway tree
 * shaped like a checkout: the build runs only while no source file is newer than its stamp; an installed
 * package (no .git) always runs its build.
 */
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../lib/paths';
import { run } from '../../lib/process';

const FRESHNESS = join(PROJECT_ROOT, 'scripts', 'build-freshness.sh');

async function isFresh(root: string): Promise<boolean> {
  const { code } = await run(['bash', '-c', `source "${FRESHNESS}" && hostprov_build_is_fresh "$1"`, 'check', root], {
    allowFailure: true,
  });
  return code === 0;
}

describe('build freshness (bin/hostprov runs the build or the sources)', () => {
  let root: string;
  const past = new Date(Date.now() - 60_000);
  const built = new Date(Date.now() - 30_000);

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'hostprov-fresh-'));
    mkdirSync(join(root, '.git'));
    mkdirSync(join(root, 'lib'));
    mkdirSync(join(root, 'dist'));
    for (const file of ['lib/paths.ts', 'lib/failure-converter.cjs', 'package.json', 'package-lock.json']) {
      writeFileSync(join(root, file), '');
      utimesSync(join(root, file), past, past);
    }
    writeFileSync(join(root, 'dist', 'hostprov.mjs'), '');
    writeFileSync(join(root, 'dist', '.build-stamp'), '');
    // Built a little after the sources were written (a change within the same clock tick would not count).
    utimesSync(join(root, 'dist', '.build-stamp'), built, built);
  });

  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('is fresh when every source is older than the stamp', async () => {
    expect(await isFresh(root)).toBe(true);
  });

  it.each(['lib/paths.ts', 'lib/failure-converter.cjs', 'package-lock.json'])('is stale once %s changed after the build', async (file) => {
    writeFileSync(join(root, file), 'changed');
    expect(await isFresh(root)).toBe(false);
  });

  it('ignores files that are not compiled (docs, bench results)', async () => {
    writeFileSync(join(root, 'lib', 'README.md'), 'notes');
    expect(await isFresh(root)).toBe(true);
  });

  it('is stale without a stamp (a build that did not finish) or without the compiled CLI', async () => {
    rmSync(join(root, 'dist', '.build-stamp'));
    expect(await isFresh(root)).toBe(false);
    writeFileSync(join(root, 'dist', '.build-stamp'), '');
    rmSync(join(root, 'dist', 'hostprov.mjs'));
    expect(await isFresh(root)).toBe(false);
  });

  it('trusts the build of an installed package (no .git), whatever the file times', async () => {
    rmSync(join(root, '.git'), { recursive: true });
    writeFileSync(join(root, 'lib', 'paths.ts'), 'changed');
    expect(await isFresh(root)).toBe(true);
  });
});
