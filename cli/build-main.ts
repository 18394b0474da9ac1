/**
 * `npm run build` (through scripts/build, which also keeps the stamp bin/hostprov checks): writes into dist/
 *   - hostprov.mjs          the CLI (esbuild), with its commands in hostprov-chunk-*.mjs beside it, loaded on
 *                           use; dependencies stay in node_modules, where the native ones (Temporal's core
 *                           bridge, better-sqlite3) and webpack must live;
 *   - hostprov-agent.mjs    the agent alone, dependencies included (lib/agent-bundle.ts);
 *   - workflow-bundle.js    the workflows, bundled once here instead of at every worker start.
 * Bundles rather than `tsc` output: the sources import without file extensions (moduleResolution Bundler),
 * which Node's ESM loader does not resolve. The outputs sit in dist/, one level below the root, like the
 * sources they come from, so PROJECT_ROOT (lib/paths.ts) is the same from both.
 * Argument: the build id to stamp in (scripts/build: UTC time and commit).
 */
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { build } from 'esbuild';
import { bundleAgent } from '../lib/agent-bundle';
import { AGENT_BUILD_PATH, CLI_BUILD_PATH, CLI_CHUNK_PREFIX, DIST_DIR, WORKFLOW_BUNDLE_PATH } from '../lib/build-info';
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
    bundleAgent(define).then(async ({ code }) => {
      await writeAtomically(AGENT_BUILD_PATH, code);
      log.info({ path: AGENT_BUILD_PATH, bytes: code.length }, 'agent built');
    }),
    bundleWorkflows(log).then((code) => writeAtomically(WORKFLOW_BUNDLE_PATH, code)),
  ]);
  log.info({ ms: Date.now() - started, buildId }, 'build done');
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
