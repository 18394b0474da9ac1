/**
 * The agent as one JavaScript file for full-kernel (User-Mode Linux) hosts: there Node runs about 15 times
 * slower, and tsx loading hundreds of TypeScript files through hostfs takes many seconds per start. The
 * bundle (lib/agent-bundle.ts) lives under the checkout's dist/ and is named by a hash of every input file,
 * so it is rebuilt exactly when a source file of the agent changes, whether or not `npm run build` ran.
 */
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
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
  return buildOnce(path, (tmp) => writeFile(tmp, bundle.code));
}

/** The bundle's path relative to the checkout, for messages. */
export function describeBundle(path: string): string {
  return relative(PROJECT_ROOT, path);
}
