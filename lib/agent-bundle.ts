/**
 * `hostprov agent` as one JavaScript file: esbuild bundles cli/agent-main.ts and everything it imports
 * (dependencies included), so a host starts the agent without transpiling or resolving hundreds of modules.
 * Used by `npm run build` (dist/hostprov-agent.mjs, shipped) and by the full-kernel testbed
 * (testbed/uml/agent-bundle.ts). The file must sit one level below the project root (dist/), where
 * `PROJECT_ROOT` and the files beside the sources (the dhclient script) resolve as from the sources.
 */
import { join } from 'node:path';
import { build } from 'esbuild';
import { PROJECT_ROOT } from './paths';

const ENTRY = join(PROJECT_ROOT, 'cli', 'agent-main.ts');

/** ESM output still meets CommonJS dependencies that call require(); give them one. */
const REQUIRE_SHIM =
  "import { createRequire as __hostprovCreateRequire } from 'node:module'; const require = __hostprovCreateRequire(import.meta.url);";

export interface AgentBundle {
  /** The whole agent, ready to write to a `.mjs` file. */
  readonly code: string;
  /** Every input file, relative to the project root (sorted), for callers that hash them. */
  readonly inputs: readonly string[];
}

/** `define`: identifiers replaced at build time (lib/build-info.ts). */
export async function bundleAgent(define: Record<string, string> = {}): Promise<AgentBundle> {
  const result = await build({
    entryPoints: [ENTRY],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    write: false,
    metafile: true,
    logLevel: 'silent',
    absWorkingDir: PROJECT_ROOT,
    define,
  });
  const output = result.outputFiles[0]?.text ?? '';
  return { code: `${REQUIRE_SHIM}\n${output}`, inputs: Object.keys(result.metafile.inputs).sort() };
}
