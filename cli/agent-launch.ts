/**
 * dist/hostprov-agent.mjs, what `bin/hostprov agent` runs from the build: starts the agent bundle
 * (dist/hostprov-agent.cjs, lib/agent-bundle.ts) with the V8 code cache the build made for it, so a start
 * does not parse and compile the whole agent again (docs/performance.md#starting-the-agent).
 *
 * The cache holds V8's compiled code for the bundle as the build's Node compiled it while loading the agent
 * (`agent --help`: every module's top-level code has run). V8 checks it against the source and against its
 * own version and flags, and rejects one that does not match (another Node, other V8 flags); the bundle is
 * then compiled as usual. Node 20 has no compile cache of its own (`module.enableCompileCache` came in 22.1),
 * and `vm.Script` takes scripts, not modules: hence a CommonJS bundle. Only Node built-ins here: this file
 * must load before anything else.
 *
 * Environment (build and tests only): HOSTPROV_AGENT_CODE_CACHE_OUT=<file> writes the code cache there at
 * exit; HOSTPROV_AGENT_CODE_CACHE_REPORT=1 says on stderr whether the cache was used.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';
import {
  AGENT_BUNDLE_FILE,
  AGENT_CODE_CACHE_FILE,
  CODE_CACHE_OUT_ENV,
  CODE_CACHE_REPORT_ENV,
  CodeCacheUse,
} from '../lib/agent-launch-files';

const dir = dirname(fileURLToPath(import.meta.url));
const bundle = join(dir, AGENT_BUNDLE_FILE);

function readCache(): Buffer | undefined {
  try {
    return readFileSync(join(dir, AGENT_CODE_CACHE_FILE));
  } catch {
    return undefined; // no cache (a build without one): compile as usual
  }
}

const cachedData = readCache();
// The function Node wraps every CommonJS module in, so the bundle sees what `node hostprov-agent.cjs` gives it.
const script = new Script(`(function (exports, require, module, __filename, __dirname) {${readFileSync(bundle, 'utf8')}\n})`, {
  filename: bundle,
  ...(cachedData ? { cachedData } : {}),
});
if (process.env[CODE_CACHE_REPORT_ENV] === '1') {
  const use = !cachedData ? CodeCacheUse.ABSENT : script.cachedDataRejected ? CodeCacheUse.REJECTED : CodeCacheUse.USED;
  process.stderr.write(`hostprov agent code cache: ${use}\n`);
}
const out = process.env[CODE_CACHE_OUT_ENV];
// At exit the cache also holds what running compiled (each module's top-level code), not only the outline.
if (out) process.once('exit', () => writeFileSync(out, script.createCachedData()));
const module = { exports: {} };
(script.runInThisContext() as (...args: unknown[]) => void)(module.exports, createRequire(bundle), module, bundle, dir);
