/**
 * The agent as one JavaScript file, for full-kernel (User-Mode Linux) hosts: there Node runs about 15 times
 * slower, and tsx loading hundreds of TypeScript files through hostfs takes many seconds per start. esbuild
 * (already here as tsx's and vite's compiler) bundles cli/agent-main.ts and everything it imports. The
 * bundle lives under the checkout's dist/, so `PROJECT_ROOT` and files beside the sources (the dhclient
 * script) resolve as they do from the sources. Rebuilt when any source file of the agent changes.
 */
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { build } from 'esbuild';
import { PROJECT_ROOT } from '../../lib/paths';
import { BUILD_DIR, buildOnce } from './kernel';

const ENTRY = join(PROJECT_ROOT, 'cli', 'agent-main.ts');

/** ESM output still meets CommonJS dependencies that call require(); give them one. */
const REQUIRE_SHIM = "import { createRequire as __hostprovCreateRequire } from 'node:module'; const require = __hostprovCreateRequire(import.meta.url);";

/** Builds (or reuses) the bundle and returns its path; the name carries a hash of every input file. */
export async function agentBundle(): Promise<string> {
  // First pass only to learn the inputs; esbuild is fast enough (well under a second) to do it twice.
  const probe = await build({ entryPoints: [ENTRY], bundle: true, platform: 'node', format: 'esm', target: 'node20', write: false, metafile: true, logLevel: 'silent' });
  const hash = createHash('sha256');
  for (const input of Object.keys(probe.metafile.inputs).sort()) {
    hash.update(input);
    hash.update(await readFile(join(PROJECT_ROOT, input)));
  }
  const path = join(BUILD_DIR, `hostprov-agent-${hash.digest('hex').slice(0, 12)}.mjs`);
  return buildOnce(path, async (tmp) => {
    const output = probe.outputFiles[0]?.text ?? '';
    await writeFile(tmp, `${REQUIRE_SHIM}\n${output}`);
  });
}

/** The bundle's path relative to the checkout, for messages. */
export function describeBundle(path: string): string {
  return relative(PROJECT_ROOT, path);
}
