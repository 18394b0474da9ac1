/**
 * Makes the agent's V8 code cache for the build (cli/build-main.ts; the launcher that uses it is
 * cli/agent-launch.ts). V8 compiles a function on its first call, and the cache holds what was compiled
 * when it was written, so the agent that writes it first does what a host's agent does:
 * - `install`: boots and serves an install (cli/agent-cache-workload.ts) in a user and network namespace of
 *   its own (`unshare -rn`: no root needed where the kernel lets users create namespaces), so a host's
 *   agent finds its request paths compiled too (docs/performance.md#the-agents-share-of-an-install);
 * - `help`, where that namespace cannot be made or the workload fails: `agent --help`, which runs every
 *   module's top-level code. The agent works the same with either; only its first calls cost more.
 * Same Node as the build, the agent's V8 flags ({@link AGENT_V8_FLAGS}) and no NODE_OPTIONS: V8 rejects a
 * cache made under other V8 flags.
 */
import { execFile } from 'node:child_process';
import { rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { AGENT_V8_FLAGS, CODE_CACHE_OUT_ENV } from '../lib/agent-launch-files';
import type { Logger } from '../lib/logger';
import { PROJECT_ROOT } from '../lib/paths';

export const CodeCacheWorkload = {
  INSTALL: 'install',
  HELP: 'help',
} as const;
export type CodeCacheWorkload = (typeof CodeCacheWorkload)[keyof typeof CodeCacheWorkload];

export interface MakeCodeCacheOptions {
  /** The built launcher (dist/hostprov-agent.mjs), with the bundle beside it. */
  launcher: string;
  /** Where the cache goes (written whole, then renamed into place). */
  out: string;
  log: Logger;
  /** The program that makes the namespace. @default 'unshare' */
  unshare?: string;
}

const TSX_LOADER = join(PROJECT_ROOT, 'node_modules', 'tsx', 'dist', 'esm', 'index.mjs');
const WORKLOAD = join(PROJECT_ROOT, 'cli', 'agent-cache-workload.ts');
const TIMEOUT_MS = 60_000;

/** Writes the cache after an install where it can, else after `agent --help`; says which. */
export async function makeAgentCodeCache({ launcher, out, log, unshare = 'unshare' }: MakeCodeCacheOptions): Promise<CodeCacheWorkload> {
  const tmp = `${out}.${process.pid}.tmp`;
  const { NODE_OPTIONS: _ignored, ...env } = process.env;
  try {
    await execute(unshare, ['-rn', process.execPath, '--import', TSX_LOADER, WORKLOAD, launcher, tmp], env);
    await rename(tmp, out);
    return CodeCacheWorkload.INSTALL;
  } catch (err) {
    await rm(tmp, { force: true });
    log.warn({ err: errorText(err) }, 'agent code cache: no install in a namespace of its own here; made from `agent --help`');
  }
  await execute(process.execPath, [...AGENT_V8_FLAGS, launcher, 'agent', '--help'], { ...env, [CODE_CACHE_OUT_ENV]: tmp });
  await rename(tmp, out);
  return CodeCacheWorkload.HELP;
}

function execute(file: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolvePromise, reject) =>
    execFile(file, args, { env, timeout: TIMEOUT_MS }, (err, _stdout, stderr) =>
      err ? reject(new Error(`${err.message.split('\n')[0]}${stderr ? `: ${stderr.trim()}` : ''}`)) : resolvePromise(),
    ),
  );
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
