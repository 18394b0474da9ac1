/**
 * Each fence agent's option policy, built from its metadata (`fence_<agent> -o metadata`) on first use and
 * kept. An agent replaced on disk (package update) is read again: the cache key includes the executable's
 * identity (device, inode, size, mtime).
 */
import { spawn } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { FenceAgentMetadataError, parseFenceAgentMetadata } from './agent-metadata';
import { fenceOptionPolicy, type FenceOptionPolicy } from './option-policy';

/** Metadata is a few kB; an agent printing more is not printing metadata. */
const METADATA_LIMIT = 1024 * 1024;

/** @default 15000 — a Python agent starts in well under a second; this only bounds a hung one. */
export const DEFAULT_METADATA_TIMEOUT_MS = 15_000;

/** Runs `<path> -o metadata` (no shell) and returns its stdout. */
export async function readFenceAgentMetadataXml(path: string, agent: string, timeoutMs: number): Promise<string> {
  return new Promise<string>((resolvePromise, reject) => {
    const child = spawn(path, ['-o', 'metadata'], {
      stdio: ['ignore', 'pipe', 'ignore'],
      env: { ...process.env, PYTHONWARNINGS: 'ignore::DeprecationWarning' },
    });
    const chunks: Buffer[] = [];
    let size = 0;
    let failure: FenceAgentMetadataError | null = null;
    const stop = (why: string) => {
      failure ??= new FenceAgentMetadataError(agent, why);
      child.kill('SIGKILL');
    };
    const timer = setTimeout(() => stop(`no answer within ${timeoutMs} ms`), timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > METADATA_LIMIT) stop(`more than ${METADATA_LIMIT} bytes`);
      else chunks.push(chunk);
    });
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new FenceAgentMetadataError(agent, err.message));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (failure) reject(failure);
      else if (code !== 0) reject(new FenceAgentMetadataError(agent, `exited with ${code ?? signal}`));
      else resolvePromise(Buffer.concat(chunks).toString('utf8'));
    });
  });
}

export interface FenceOptionPoliciesOptions {
  /** @default 15000 */
  timeoutMs?: number;
}

export class FenceOptionPolicies {
  readonly #cache = new Map<string, { identity: string; policy: Promise<FenceOptionPolicy> }>();
  readonly #timeoutMs: number;
  /** How many times an agent's metadata was read (tests check the cache with it). */
  reads = 0;

  constructor(options: FenceOptionPoliciesOptions = {}) {
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_METADATA_TIMEOUT_MS;
  }

  /** The policy of the agent at `path` (`fence_<agent>`). */
  async policyFor(path: string, agent: string): Promise<FenceOptionPolicy> {
    const info = await stat(path);
    const identity = `${info.dev}:${info.ino}:${info.size}:${info.mtimeMs}`;
    const cached = this.#cache.get(path);
    if (cached?.identity === identity) return cached.policy;
    this.reads += 1;
    const policy = readFenceAgentMetadataXml(path, agent, this.#timeoutMs).then((xml) =>
      fenceOptionPolicy(parseFenceAgentMetadata(agent, xml)),
    );
    this.#cache.set(path, { identity, policy });
    // A failed read is not kept: the next request tries again.
    policy.catch(() => {
      if (this.#cache.get(path)?.policy === policy) this.#cache.delete(path);
    });
    return policy;
  }
}

let shared: FenceOptionPolicies | undefined;

/** The process's cache, used when a caller brings none: an agent's metadata is read once per process. */
export function sharedFenceOptionPolicies(): FenceOptionPolicies {
  shared ??= new FenceOptionPolicies();
  return shared;
}
