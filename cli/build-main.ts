/**
 * `npm run build` (through scripts/build, which also keeps the stamp bin/hostprov checks): writes into dist/
 *   - hostprov.mjs          the CLI (esbuild), with its commands in hostprov-chunk-*.mjs beside it, loaded on
 *                           use; dependencies stay in node_modules, where the native ones (Temporal's core
 *                           bridge, better-sqlite3) and webpack must live;
 *   - hostprov-agent.cjs    the agent alone, dependencies included (lib/agent-bundle.ts), with its V8 code
 *                           cache hostprov-agent.cjs.code-cache, made here by running the agent once
 *                           (cli/agent-code-cache.ts);
 *   - hostprov-agent.mjs    what `hostprov agent` runs: starts the bundle with that cache (cli/agent-launch.ts);
 *   - workflow-bundle.js    the workflows, bundled once here instead of at every worker start.
 * Bundles rather than `tsc` output: the sources import without file extensions (moduleResolution Bundler),
 * which Node's ESM loader does not resolve. The outputs sit in dist/, one level below the root, like the
 * sources they come from, so PROJECT_ROOT (lib/paths.ts) is the same from both.
 * Argument: the build id to stamp in (scripts/build: UTC time and commit).
 */
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { build } from 'esbuild';
import { AgentBundleFormat, bundleAgent } from '../lib/agent-bundle';
import { makeAgentCodeCache } from './agent-code-cache';
import {
  AGENT_BUILD_PATH,
  AGENT_BUNDLE_PATH,
  AGENT_CODE_CACHE_PATH,
  CLI_BUILD_PATH,
  CLI_CHUNK_PREFIX,
  DIST_DIR,
  WORKFLOW_BUNDLE_PATH,
} from '../lib/build-info';
import { getLogger } from '../lib/logger';
import { PROJECT_ROOT } from '../lib/paths';
import { bundleWorkflows } from '../worker/bundle';

const log = getLogger('build');

async function main(buildId: string): Promise<void> {
  const started = Date.now();
  await mkdir(DIST_DIR, { recursive: true });
  const define = { __HOSTPROV_BUILD__: JSON.stringify(buildId) };
  await Promise.all([
    removeStaleChunks()
      .then(() =>
        build({
          // One entry and chunks beside it: each command's module is a chunk loaded when that command runs, so
          // a command pays only for its own dependencies (docs/performance.md#starting-the-cli).
          entryPoints: { [basename(CLI_BUILD_PATH, '.mjs')]: join(PROJECT_ROOT, 'cli', 'main.ts') },
          outdir: DIST_DIR,
          splitting: true,
          chunkNames: `${CLI_CHUNK_PREFIX}[hash]`,
          outExtension: { '.js': '.mjs' },
          bundle: true,
          packages: 'external',
          platform: 'node',
          format: 'esm',
          target: 'node20',
          sourcemap: 'linked',
          define,
          logLevel: 'warning',
          absWorkingDir: PROJECT_ROOT,
        }),
      )
      .then(() => log.info({ path: CLI_BUILD_PATH }, 'CLI built')),
    buildAgent(define),
    bundleWorkflows(log).then((code) => writeAtomically(WORKFLOW_BUNDLE_PATH, code)),
  ]);
  log.info({ ms: Date.now() - started, buildId }, 'build done');
}

/** The agent bundle, its launcher, then the bundle's code cache (which needs both). */
async function buildAgent(define: Record<string, string>): Promise<void> {
  await rm(AGENT_CODE_CACHE_PATH, { force: true });
  const [{ code }] = await Promise.all([
    bundleAgent({ define, format: AgentBundleFormat.CJS }),
    build({
      entryPoints: [join(PROJECT_ROOT, 'cli', 'agent-launch.ts')],
      outfile: AGENT_BUILD_PATH,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      logLevel: 'warning',
      absWorkingDir: PROJECT_ROOT,
    }),
  ]);
  await writeAtomically(AGENT_BUNDLE_PATH, code);
  const codeCache = await makeAgentCodeCache({ launcher: AGENT_BUILD_PATH, out: AGENT_CODE_CACHE_PATH, log });
  log.info({ path: AGENT_BUNDLE_PATH, bytes: code.length, launcher: AGENT_BUILD_PATH, codeCache }, 'agent built');
}

/** Chunks of an earlier build: their names change with their content, so they would only pile up. */
async function removeStaleChunks(): Promise<void> {
  for (const file of await readdir(DIST_DIR)) if (file.startsWith(CLI_CHUNK_PREFIX)) await rm(join(DIST_DIR, file), { force: true });
}

/** A reader (a worker starting) never sees half a file. */
async function writeAtomically(path: string, content: string): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, content);
  await rename(tmp, path);
}

const buildId = process.argv[2];
if (!buildId) {
  process.stderr.write('usage: cli/build-main.ts <build id> (run through `npm run build`)\n');
  process.exit(2);
}
main(buildId).catch((err: unknown) => {
  log.error({ err }, 'build failed');
  process.exit(1);
});
