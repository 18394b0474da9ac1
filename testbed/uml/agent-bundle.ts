/**
 * The agent as one JavaScript file for full-kernel (User-Mode Linux) hosts: there Node runs about 15 times
 * slower, and tsx loading hundreds of TypeScript files through hostfs takes many seconds per start. The
 * bundle (lib/agent-bundle.ts) lives under the checkout's dist/ and is named by a hash of every input file,
 * so it is rebuilt exactly when a source file of the agent changes, whether or not `npm run build` ran.
 * Each such change leaves the last bundle behind (about a megabyte): a new one removes those older than
 * {@link STALE_BUNDLE_MS}.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { bundleAgent } from '../../lib/agent-bundle';
import { PROJECT_ROOT } from '../../lib/paths';
import { BUILD_DIR, buildOnce } from './kernel';

/** Builds (or reuses) the bundle and returns its path; the name carries a hash of every input file. */
export async function agentBundle(): Promise<string> {
  // Bundled once to learn the inputs; esbuild is fast enough (well under a second) that reuse is not worth it.
  const bundle = await bundleAgent();
  const hash = createHash('sha256');
  for (const input of bundle.inputs) {
    hash.update(input);
    hash.update(await readFile(join(PROJECT_ROOT, input)));
  }
  const path = join(BUILD_DIR, `hostprov-agent-${hash.digest('hex').slice(0, 12)}.mjs`);
  return buildOnce(path, async (tmp) => {
    await writeFile(tmp, bundle.code);
    await removeStaleBundles(BUILD_DIR, Date.now());
  });
}

/**
 * Bundles of other sources are kept this long after they were written: a test run that began before the
 * sources changed may still start guests from its own (those in flight keep their open file anyway).
 */
export const STALE_BUNDLE_MS = 60 * 60 * 1000;
const BUNDLE_NAME = /^hostprov-agent-[0-9a-f]{12}\.mjs$/;

/** Removes the bundles in `dir` written more than {@link STALE_BUNDLE_MS} before `now`; returns their names. */
export async function removeStaleBundles(dir: string, now: number): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await readdir(dir)) {
    if (!BUNDLE_NAME.test(name)) continue;
    const path = join(dir, name);
    const written = await stat(path).then(
      (s) => s.mtimeMs,
      () => now,
    );
    if (now - written <= STALE_BUNDLE_MS) continue;
    await rm(path, { force: true });
    removed.push(name);
  }
  return removed.sort();
}

/** The bundle's path relative to the checkout, for messages. */
export function describeBundle(path: string): string {
  return relative(PROJECT_ROOT, path);
}
