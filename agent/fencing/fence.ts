/**
 * Fencing as the proxy host's agent does it for `Host.fenceNode`: run the fence agent (or take the outcome
 * of the run an earlier agent process started), map its exit, log what happened — never the password.
 */
import { getLogger, type Logger } from '../../lib/logger';
import { fenceResultFromExit, stderrTail, type FenceNodeResult } from './fence-result';
import type { FenceRequest } from './fence-request';
import { sharedFenceOptionPolicies, type FenceOptionPolicies } from './option-policies';
import { awaitFenceRun, runFenceAgent, type FenceAgentExit } from './run-fence-agent';

export const DEFAULT_FENCE_AGENT_DIR = '/usr/sbin';

/** fence_ipmilan's own budget for on/off is ~20 s per step; reboot is two steps plus waits. */
export const DEFAULT_FENCE_TIMEOUT_MS = 120_000;

export interface FenceOptions {
  /** Directory holding `fence_*` executables (VDSM: the directory of `fence_ilo`). @default '/usr/sbin' */
  fenceAgentDir?: string;
  /** Kill the agent (and what it started) after this long. @default 120000 */
  timeoutMs?: number;
  /** @default getLogger('fencing') */
  log?: Logger;
  /** Option policies per agent, from their metadata. @default the process's shared cache */
  policies?: FenceOptionPolicies;
  /** HOME for fence agents that run ipmitool (ipmitool-home.ts). @default none */
  ipmitoolHome?: string;
  /** The run's directory (fence-run.ts). @default a directory of its own in the OS's temporary directory */
  runDir?: string;
}

/** Only these fields are ever logged: the request object itself holds the password. */
function loggable(request: FenceRequest) {
  return { agent: request.agent, action: request.action, addr: request.addr, port: request.port, secure: request.secure };
}

export async function fence(request: FenceRequest, options: FenceOptions = {}): Promise<FenceNodeResult> {
  const log = options.log ?? getLogger('fencing');
  const what = loggable(request);
  log.info(what, 'running fence agent');
  let exit;
  try {
    exit = await runFenceAgent(request, {
      fenceAgentDir: options.fenceAgentDir ?? DEFAULT_FENCE_AGENT_DIR,
      timeoutMs: options.timeoutMs ?? DEFAULT_FENCE_TIMEOUT_MS,
      policies: options.policies ?? sharedFenceOptionPolicies(),
      ipmitoolHome: options.ipmitoolHome,
      ...(options.runDir ? { runDir: options.runDir } : {}),
    });
  } catch (err) {
    log.warn({ ...what, error: err instanceof Error ? err.message : String(err) }, 'fence agent could not run to completion');
    throw err;
  }
  return resultOf(request, exit, log);
}

/**
 * The outcome of the run of this request that an earlier agent process started in `runDir` at `startedAt`
 * (awaitFenceRun); `null` when it left none, and nothing of it runs.
 */
export async function fenceStartedBefore(
  request: FenceRequest,
  run: { runDir: string; startedAt: number },
  options: Pick<FenceOptions, 'log' | 'timeoutMs'> = {},
): Promise<FenceNodeResult | null> {
  const log = options.log ?? getLogger('fencing');
  const what = loggable(request);
  let exit;
  try {
    exit = await awaitFenceRun(request, run.runDir, run.startedAt, options.timeoutMs ?? DEFAULT_FENCE_TIMEOUT_MS);
  } catch (err) {
    log.warn({ ...what, error: err instanceof Error ? err.message : String(err) }, 'fence agent started before a restart did not finish');
    throw err;
  }
  if (!exit) {
    log.info(what, 'the fence agent started before a restart left no outcome; running it again');
    return null;
  }
  log.info(what, 'fence agent started before a restart finished; its outcome answers');
  return resultOf(request, exit, log);
}

function resultOf(request: FenceRequest, exit: FenceAgentExit, log: Logger): FenceNodeResult {
  const outcome = { ...loggable(request), exitCode: exit.exitCode, signal: exit.signal, durationMs: exit.durationMs };
  try {
    const result = fenceResultFromExit(request.agent, request.action, exit, request.password);
    log.info({ ...outcome, result }, 'fence agent finished');
    return result;
  } catch (err) {
    log.warn({ ...outcome, stderr: stderrTail(exit.stderr, request.password) }, 'fence agent failed');
    throw err;
  }
}
