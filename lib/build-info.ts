/**
 * Whether this process runs the build (dist/, made by `npm run build`, cli/build.ts) or the TypeScript
 * sources through tsx, and where the build's artefacts are. The build defines `__HOSTPROV_BUILD__` (esbuild
 * `define`) as its build id (time and commit, also in dist/BUILD_ID); from the sources the name is not
 * defined at all.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { AGENT_BUNDLE_FILE, AGENT_CODE_CACHE_FILE } from './agent-launch-files';
import { PROJECT_ROOT } from './paths';

declare const __HOSTPROV_BUILD__: string | undefined;

/** The build id of the running build, or undefined when running from the sources. */
export const RUNNING_BUILD: string | undefined = typeof __HOSTPROV_BUILD__ === 'string' ? __HOSTPROV_BUILD__ : undefined;

/** Everything `npm run build` writes (git-ignored, shipped in the npm package). */
export const DIST_DIR = join(PROJECT_ROOT, 'dist');

/** The whole CLI, dependencies left to node_modules. */
export const CLI_BUILD_PATH = join(DIST_DIR, 'hostprov.mjs');
/** Prefix of the CLI's chunks beside it (cli/build-main.ts). */
export const CLI_CHUNK_PREFIX = 'hostprov-chunk-';

/** What `hostprov agent` runs from the build: the launcher (cli/agent-launch.ts) of the two files below. */
export const AGENT_BUILD_PATH = join(DIST_DIR, 'hostprov-agent.mjs');
/** `hostprov agent` alone, dependencies included: one self-contained file for hosts (runs on its own too). */
export const AGENT_BUNDLE_PATH = join(DIST_DIR, AGENT_BUNDLE_FILE);
/** V8's code cache for {@link AGENT_BUNDLE_PATH}, made by the build with the build's Node. */
export const AGENT_CODE_CACHE_PATH = join(DIST_DIR, AGENT_CODE_CACHE_FILE);

/** The workflows, bundled by the Temporal SDK (webpack) at build time instead of at every worker start. */
export const WORKFLOW_BUNDLE_PATH = join(DIST_DIR, 'workflow-bundle.js');

/**
 * The prebuilt workflow bundle, when this process runs the build that wrote it; otherwise undefined and the
 * worker bundles workflows/ at start. A bundle beside sources run through tsx is never used: it may be older
 * than the workflow code being edited, and replaying histories against stale code would be wrong.
 */
export function prebuiltWorkflowBundle(): string | undefined {
  return RUNNING_BUILD !== undefined && existsSync(WORKFLOW_BUNDLE_PATH) ? WORKFLOW_BUNDLE_PATH : undefined;
}
