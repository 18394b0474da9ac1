/**
 * Runs `<fenceAgentDir>/fence_<agent>` with the request on stdin, the way VDSM does, bounded by a timeout.
 * The agent gets its own process group so a timeout also kills what it started (ipmitool).
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { FenceOptionRefusedError, parseFenceOptions } from '../../model/fencing/fence-options';
import { FenceAgentMissingError, FenceAgentTimeoutError } from './errors';
import { FENCE_AGENT_NAME, InvalidFenceOptionsError, renderFenceAgentInput, type FenceRequest } from './fence-request';
import { IPMITOOL_PARAMETER, prepareIpmitoolHome } from './ipmitool-home';
import type { FenceOptionPolicies } from './option-policies';

export interface FenceAgentRunOptions {
  /** Directory holding `fence_*` executables. */
  fenceAgentDir: string;
  timeoutMs: number;
  /** Where the agent's option policy comes from (its metadata, read once). */
  policies: FenceOptionPolicies;
  /**
   * HOME for fence agents that run ipmitool, made at first use (ipmitool-home.ts). @default none: every
   * agent gets this process's HOME
   */
  ipmitoolHome?: string;
}

export interface FenceAgentExit {
  /** `null` when the agent was killed by a signal. */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  durationMs: number;
}

/** Output beyond this is dropped (an agent gone verbose must not eat memory); we only need the tail. */
const OUTPUT_LIMIT = 64 * 1024;

/** Time between SIGTERM and SIGKILL of a timed-out agent's process group. */
const KILL_GRACE_MS = 2_000;

function keepTail(buffer: string, chunk: string): string {
  const joined = buffer + chunk;
  return joined.length > OUTPUT_LIMIT ? joined.slice(-OUTPUT_LIMIT) : joined;
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    /* the group is gone */
  }
}

export class InvalidFenceAgentNameError extends Error {
  override readonly name = 'InvalidFenceAgentNameError';
  constructor(readonly agent: string) {
    super(`invalid fence agent name ${JSON.stringify(agent)} (expected ${FENCE_AGENT_NAME})`);
  }
}

/** Path of the agent's executable; throws {@link FenceAgentMissingError} when there is none. */
export async function resolveFenceAgent(agent: string, fenceAgentDir: string): Promise<string> {
  if (!FENCE_AGENT_NAME.test(agent)) throw new InvalidFenceAgentNameError(agent);
  const path = join(fenceAgentDir, `fence_${agent}`);
  try {
    await access(path, constants.X_OK);
  } catch {
    throw new FenceAgentMissingError(agent, path);
  }
  return path;
}

/**
 * The options as stdin lines, checked against the agent's own metadata; throws
 * {@link InvalidFenceOptionsError}. No options need no metadata (and no extra agent run).
 */
export async function checkedFenceOptions(request: FenceRequest, path: string, policies: FenceOptionPolicies): Promise<string[]> {
  if (request.options.trim() === '') return [];
  try {
    // The static rule first: what no fence agent may get is refused without running this one.
    parseFenceOptions(request.options);
    return (await policies.policyFor(path, request.agent)).check(request.options);
  } catch (err) {
    if (err instanceof FenceOptionRefusedError) throw new InvalidFenceOptionsError(err);
    throw err;
  }
}

/**
 * The HOME `options.ipmitoolHome` names, for an agent whose metadata declares that it runs ipmitool; else
 * null. Never fails a fence: metadata that cannot be read, or a directory that cannot be made, leaves the
 * agent this process's HOME.
 */
async function ipmitoolHomeFor(request: FenceRequest, path: string, options: FenceAgentRunOptions): Promise<string | null> {
  if (!options.ipmitoolHome) return null;
  try {
    if (!(await options.policies.policyFor(path, request.agent)).declares(IPMITOOL_PARAMETER)) return null;
    return prepareIpmitoolHome(options.ipmitoolHome);
  } catch {
    return null;
  }
}

export async function runFenceAgent(request: FenceRequest, options: FenceAgentRunOptions): Promise<FenceAgentExit> {
  const path = await resolveFenceAgent(request.agent, options.fenceAgentDir);
  const input = renderFenceAgentInput(request, await checkedFenceOptions(request, path, options.policies));
  const home = await ipmitoolHomeFor(request, path, options);
  const started = Date.now();
  return new Promise<FenceAgentExit>((resolvePromise, reject) => {
    const child = spawn(path, [], {
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
      // fence-agents import a module Python 3.11 deprecates; the warning would bury the agent's own message.
      env: {
        ...process.env,
        PATH: `/usr/sbin:/usr/bin:/sbin:/bin${process.env.PATH ? `:${process.env.PATH}` : ''}`,
        PYTHONWARNINGS: 'ignore::DeprecationWarning',
        ...(home ? { HOME: home } : {}),
      },
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout = keepTail(stdout, d)));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr = keepTail(stderr, d)));
    let killTimer: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid === undefined) return;
      const pid = child.pid;
      signalGroup(pid, 'SIGTERM');
      killTimer = setTimeout(() => signalGroup(pid, 'SIGKILL'), KILL_GRACE_MS);
    }, options.timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      if (killTimer) clearTimeout(killTimer);
      reject(err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (killTimer) clearTimeout(killTimer);
      if (timedOut) reject(new FenceAgentTimeoutError(request.agent, request.action, options.timeoutMs));
      else resolvePromise({ exitCode: code, signal, stdout, stderr, durationMs: Date.now() - started });
    });
    // The agent may exit before reading everything (e.g. a usage error): that is its answer, not ours.
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
  });
}
