/**
 * Runs `<fenceAgentDir>/fence_<agent>` with the request on stdin, the way VDSM does, bounded by a timeout.
 * The agent runs in a process group of its own, led by the wrapper of fence-run.ts: a timeout also kills
 * what it started (ipmitool), and the death of this process does not cut a power action short. Its outcome
 * is read from the run's directory, by this process or, after a restart, by the next one.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stopProcessGroup } from '../../lib/process';
import { FenceOptionRefusedError, parseFenceOptions } from '../../model/fencing/fence-options';
import { FenceAgentMissingError, FenceAgentTimeoutError } from './errors';
import { FENCE_AGENT_NAME, InvalidFenceOptionsError, renderFenceAgentInput, type FenceRequest } from './fence-request';
import {
  fenceRunCommand,
  fenceRunDir,
  fenceRunLeader,
  leadsFenceRun,
  outputTail,
  prepareFenceRunDir,
  recordedExit,
  removeFenceRunDir,
} from './fence-run';
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
  /**
   * The run's directory (fence-run.ts): made empty here, removed once the outcome is read. @default a
   * directory of its own in the OS's temporary directory
   */
  runDir?: string;
}

export interface FenceAgentExit {
  /** `null` when the agent was killed by a signal. */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  durationMs: number;
}

/** Only this much of each output is read (an agent gone verbose must not eat memory); we only need the tail. */
const OUTPUT_LIMIT = 64 * 1024;

/** Time between SIGTERM and SIGKILL of a timed-out agent's process group. */
const KILL_GRACE_MS = 2_000;

/** How often a run that another agent process started is looked at. */
const ORPHAN_POLL_MS = 100;

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    /* the group is gone */
  }
}

/** The run's exit and output, read from its directory, which then goes. */
function collectExit(runDir: string, exit: { exitCode: number | null; signal: NodeJS.Signals | null }, startedAt: number): FenceAgentExit {
  const result = {
    ...exit,
    stdout: outputTail(runDir, 'stdout', OUTPUT_LIMIT),
    stderr: outputTail(runDir, 'stderr', OUTPUT_LIMIT),
    durationMs: Date.now() - startedAt,
  };
  removeFenceRunDir(runDir);
  return result;
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
  const runDir = options.runDir ?? fenceRunDir(tmpdir(), null);
  prepareFenceRunDir(runDir);
  const started = Date.now();
  const wrapper = fenceRunCommand(runDir, path);
  return new Promise<FenceAgentExit>((resolvePromise, reject) => {
    const child = spawn(wrapper.file, wrapper.args, {
      detached: true,
      stdio: ['pipe', 'ignore', 'ignore'],
      // fence-agents import a module Python 3.11 deprecates; the warning would bury the agent's own message.
      env: {
        ...process.env,
        PATH: `/usr/sbin:/usr/bin:/sbin:/bin${process.env.PATH ? `:${process.env.PATH}` : ''}`,
        PYTHONWARNINGS: 'ignore::DeprecationWarning',
        ...(home ? { HOME: home } : {}),
      },
    });
    let timedOut = false;
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
      removeFenceRunDir(runDir);
      reject(err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (killTimer) clearTimeout(killTimer);
      if (timedOut) {
        removeFenceRunDir(runDir);
        reject(new FenceAgentTimeoutError(request.agent, request.action, options.timeoutMs));
        return;
      }
      // The wrapper exits with the agent's status; killed itself, it recorded none.
      resolvePromise(collectExit(runDir, recordedExit(runDir) ?? { exitCode: code, signal }, started));
    });
    // The agent may exit before reading everything (e.g. a usage error): that is its answer, not ours.
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
  });
}

/**
 * The outcome of a run that an earlier agent process started in `runDir` at `startedAt`: read at once if it
 * is over, awaited while it runs, killed (with everything it started) once `timeoutMs` from its start has
 * passed, as its own process would have done. `null` when it left no outcome: it never started, or was
 * killed before it could record one; nothing of it runs then.
 */
export async function awaitFenceRun(
  request: FenceRequest,
  runDir: string,
  startedAt: number,
  timeoutMs: number,
): Promise<FenceAgentExit | null> {
  // Looked for among all processes once; then only that one is looked at, on a host of thousands.
  let leader: number | null = null;
  for (;;) {
    const exit = recordedExit(runDir);
    if (exit) return collectExit(runDir, exit, startedAt);
    leader = leader !== null && leadsFenceRun(leader, runDir) ? leader : fenceRunLeader(runDir);
    if (leader === null) {
      // It may have recorded its status between the two looks.
      const last = recordedExit(runDir);
      if (last) return collectExit(runDir, last, startedAt);
      removeFenceRunDir(runDir);
      return null;
    }
    if (Date.now() - startedAt >= timeoutMs) {
      await stopProcessGroup(leader, { timeoutMs: KILL_GRACE_MS });
      removeFenceRunDir(runDir);
      throw new FenceAgentTimeoutError(request.agent, request.action, timeoutMs);
    }
    await new Promise((r) => setTimeout(r, ORPHAN_POLL_MS));
  }
}
