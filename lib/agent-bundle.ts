/**
 * `hostprov agent` as one JavaScript file: esbuild bundles cli/agent-main.ts and everything it imports
 * (dependencies included), so a host starts the agent without transpiling or resolving hundreds of modules.
 * Used by `npm run build` (dist/hostprov-agent.cjs, shipped, started through dist/hostprov-agent.mjs; see
 * cli/agent-launch.ts) and by the full-kernel testbed (testbed/uml/agent-bundle.ts). The file must sit one
 * level below the project root (dist/), where `PROJECT_ROOT` and the files beside the sources (the dhclient
 * script) resolve as from the sources.
 */
import { join } from 'node:path';
import { build } from 'esbuild';
import { PROJECT_ROOT } from './paths';

const ENTRY = join(PROJECT_ROOT, 'cli', 'agent-main.ts');

/** ESM output still meets CommonJS dependencies that call require(); give them one. */
const REQUIRE_SHIM =
  "import { createRequire as __hostprovCreateRequire } from 'node:module'; const require = __hostprovCreateRequire(import.meta.url);";

/** CommonJS output has no import.meta: the sources' `import.meta.url` (lib/paths.ts) becomes this file's URL. */
const IMPORT_META_URL = '__hostprovImportMetaUrl';
const IMPORT_META_SHIM = `var ${IMPORT_META_URL} = require('node:url').pathToFileURL(__filename).href;`;

export const AgentBundleFormat = {
  /** An ES module (`.mjs`), run by `node <file>`. */
  ESM: 'esm',
  /**
   * A CommonJS script (`.cjs`), whitespace and syntax minified: what cli/agent-launch.ts compiles with a V8
   * code cache (vm.Script takes scripts, not modules, on Node 20). Names stay, so stack traces still name
   * the functions. Also runs on its own: `node hostprov-agent.cjs agent …`.
   */
  CJS: 'cjs',
} as const;
export type AgentBundleFormat = (typeof AgentBundleFormat)[keyof typeof AgentBundleFormat];

export interface AgentBundleOptions {
  /** Identifiers replaced at build time (lib/build-info.ts). @default none */
  define?: Record<string, string>;
  /** @default 'esm' */
  format?: AgentBundleFormat;
}

export interface AgentBundle {
  /** The whole agent, ready to write to a `.mjs` (ESM) or `.cjs` (CJS) file. */
  readonly code: string;
  /** Every input file, relative to the project root (sorted), for callers that hash them. */
  readonly inputs: readonly string[];
}

export async function bundleAgent({ define = {}, format = AgentBundleFormat.ESM }: AgentBundleOptions = {}): Promise<AgentBundle> {
  const cjs = format === AgentBundleFormat.CJS;
  const result = await build({
    entryPoints: [ENTRY],
    bundle: true,
    platform: 'node',
    format,
    target: 'node20',
    write: false,
    metafile: true,
    logLevel: 'silent',
    absWorkingDir: PROJECT_ROOT,
    define: cjs ? { ...define, 'import.meta.url': IMPORT_META_URL } : define,
    // Less source for V8 to read and hash at every start; identifiers are kept (no minifyIdentifiers).
    ...(cjs ? { minifyWhitespace: true, minifySyntax: true } : {}),
  });
  const output = result.outputFiles[0]?.text ?? '';
  return { code: `${cjs ? IMPORT_META_SHIM : REQUIRE_SHIM}\n${output}`, inputs: Object.keys(result.metafile.inputs).sort() };
}
