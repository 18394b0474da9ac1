/**
 * `Host.fenceNode`: the proxy host runs the target's power-management agent (docs/vdsm-verbs.md#fencenode).
 *
 * Params (positional order = VDSM schema order): `addr, port, agent, username, password, action,
 * secure=false, options='', policy=null`. Engines send `port` and `secure` as strings or as
 * numbers/booleans; both are accepted.
 *
 * Ports: `port` becomes the agent's `port=` line, which fence agents read as the *plug* (outlet, VM name),
 * exactly as VDSM passes it. The BMC's UDP port for `ipmilan` is the agent option `ipport`, so pass it in
 * `options`: `{ agent: 'ipmilan', addr: '198.18.7.200', options: 'ipport=9623', … }`.
 *
 * `options`: `key=value` items (or bare flags) separated by newlines, commas or spaces, one stdin line
 * each. Only parameters the fence agent declares in its own metadata pass, and none that runs a program,
 * names a file or overrides a line the verb writes (`action`, `passwd`, `ip`, …), in any spelling; see
 * model/fencing/fence-options.ts and agent/fencing/option-policy.ts.
 *
 * `policy`: accepted and validated, but never skips fencing — this agent has no storage leases or gluster
 * bricks to consult, which is all VDSM's policy checks look at.
 */
import { tmpdir } from 'node:os';
import { z } from 'zod';
import type { Logger } from '../../lib/logger';
import { getLogger } from '../../lib/logger';
import { VdsmBoolean } from '../../model/vdsm/boolean-schema';
import { JsonRpcCode, VdsmError } from '../../model/vdsm/error-codes';
import { fence, fenceStartedBefore, DEFAULT_FENCE_AGENT_DIR, DEFAULT_FENCE_TIMEOUT_MS } from '../fencing/fence';
import { fenceRunDir, pruneFenceRuns } from '../fencing/fence-run';
import { FENCE_AGENT_NAME } from '../fencing/fence-request';
import { fenceFingerprint, RepeatedFences } from '../fencing/repeated-fences';
import { sharedFenceOptionPolicies, type FenceOptionPolicies } from '../fencing/option-policies';
import { FenceAction } from '../../model/vdsm/fence-node';
import type { VerbDefinition } from '../../vdsm/verbs';

export const FENCE_NODE_METHOD = 'Host.fenceNode';

/** VDSM schema order: positional params map onto these names. */
export const FENCE_NODE_PARAMS = ['addr', 'port', 'agent', 'username', 'password', 'action', 'secure', 'options', 'policy'] as const;

/** A value that ends up as one stdin line must not be able to start another (e.g. a second `action=`). */
const SingleLine = z.string().refine((v) => !/[\r\n\0]/.test(v), { message: 'must not contain line breaks or NUL' });

/**
 * An optional VDSM boolean. The engine sends `""` for a flag it leaves unset (its fence command always passes
 * `secure` as `""`), so `""` and `null` mean "not given", like a missing key.
 */
const OptionalFlag = z.union([z.union([z.literal(''), z.null(), z.undefined()]).transform(() => undefined), VdsmBoolean]).optional();

const FencingPolicySchema = z
  .object({
    storageDomainHostIdMap: z.record(z.string(), z.unknown()).optional(),
    skipFencingIfGlusterBricksUp: OptionalFlag,
    skipFencingIfGlusterQuorumNotMet: OptionalFlag,
    glusterServerUuid: z.string().optional(),
  })
  .loose();

export const FenceNodeParamsSchema = z.object({
  addr: SingleLine.pipe(z.string().trim().min(1, { message: 'must name the power-management device' })),
  port: z
    .union([SingleLine, z.number().int().min(0).max(65535), z.null()])
    .optional()
    .transform((v) => (v === null || v === undefined ? '' : String(v))),
  agent: z.string().regex(FENCE_AGENT_NAME, { message: 'must be a fence agent name ([a-z0-9_]+, without fence_)' }),
  username: SingleLine,
  password: SingleLine,
  action: z.enum(FenceAction),
  secure: OptionalFlag.transform((v) => v ?? false),
  options: z
    .union([z.string(), z.null()])
    .optional()
    .transform((v) => v ?? ''),
  policy: z
    .union([FencingPolicySchema, z.null()])
    .optional()
    .transform((v) => v ?? null),
});
export type FenceNodeParams = z.infer<typeof FenceNodeParamsSchema>;

export interface FenceNodeVerbOptions {
  /** Directory holding the `fence_*` agents. @default '/usr/sbin' */
  fenceAgentDir?: string;
  /** Kill an agent that runs longer. @default 120000 */
  timeoutMs?: number;
  /** @default getLogger('verb.fenceNode') */
  log?: Logger;
  /** Each agent's option policy, read from its metadata once. @default the process's shared cache */
  policies?: FenceOptionPolicies;
  /** HOME for fence agents that run ipmitool (agent/fencing/ipmitool-home.ts). @default none */
  ipmitoolHome?: string;
  /**
   * Answer a power action asked again under the same request id with the first one's answer instead of
   * acting again (agent/fencing/repeated-fences.ts). Off in `vdsm` compatibility mode. @default true
   */
  joinRepeatedIds?: boolean;
  /** Where the answers to repeats are kept across agent restarts (the runtime directory). @default in memory only */
  repeatsFile?: string;
  /**
   * Where the fence agents' runs keep their output and exit status (agent/fencing/fence-run.ts); in the
   * runtime directory, a restarted agent takes the outcome of a run the previous process started.
   * @default the OS's temporary directory
   */
  runsDir?: string;
}

/** Turns zod issues into a JSON-RPC "invalid params" error; messages name fields, never values. */
export function parseFenceNodeParams(params: Record<string, unknown>): FenceNodeParams {
  const parsed = FenceNodeParamsSchema.safeParse(params);
  if (parsed.success) return parsed.data;
  const detail = parsed.error.issues.map((i) => `${i.path.join('.') || 'params'}: ${i.message}`).join('; ');
  throw new VdsmError(JsonRpcCode.INVALID_PARAMS, `${FENCE_NODE_METHOD}: invalid params: ${detail}`);
}

export function createFenceNodeVerb(options: FenceNodeVerbOptions = {}): VerbDefinition {
  const log = options.log ?? getLogger('verb.fenceNode');
  const fenceAgentDir = options.fenceAgentDir ?? DEFAULT_FENCE_AGENT_DIR;
  const timeoutMs = options.timeoutMs ?? DEFAULT_FENCE_TIMEOUT_MS;
  const policies = options.policies ?? sharedFenceOptionPolicies();
  const runsDir = options.runsDir ?? tmpdir();
  // One directory per joined request id in the runtime directory, where a restarted agent finds the run of a
  // repeat's first request; elsewhere (the OS's temporary directory) no later process looks.
  const runDirOf = (key: string | null) => fenceRunDir(runsDir, options.runsDir ? key : null);
  const repeated =
    options.joinRepeatedIds === false
      ? null
      : new RepeatedFences({
          ...(options.repeatsFile ? { file: options.repeatsFile } : {}),
          onFileTrouble: (why) =>
            log.warn({ file: options.repeatsFile, why }, 'cannot use the record of power actions kept for repeated requests'),
        });
  if (options.runsDir) {
    // What an earlier agent process left: runs that ended with no repeat to ask for their outcome.
    const kept = new Set((repeated?.startedBeforeKeys() ?? []).map(runDirOf));
    try {
      const removed = pruneFenceRuns(runsDir, kept);
      if (removed) log.info({ runsDir, removed }, 'removed the fence runs no repeat can ask about any more');
    } catch (err) {
      log.warn({ runsDir, error: err instanceof Error ? err.message : String(err) }, 'cannot clear the fence runs left from before');
    }
  }
  return {
    method: FENCE_NODE_METHOD,
    params: FENCE_NODE_PARAMS,
    handler: async (params, ctx) => {
      const request = parseFenceNodeParams(params);
      const requestLog = log.child({ requestId: ctx.requestId, flowId: ctx.flowId });
      if (request.policy)
        requestLog.info({ agent: request.agent, action: request.action }, 'fencing policy given; nothing here can skip fencing');
      const fencing = { fenceAgentDir, timeoutMs, log: requestLog, policies, ipmitoolHome: options.ipmitoolHome };
      let result;
      if (repeated) {
        const outcome = await repeated.run(ctx.requestId, request.action, fenceFingerprint(request), {
          start: (key) => fence(request, { ...fencing, runDir: runDirOf(key) }),
          startedBefore: (startedAt, key) => fenceStartedBefore(request, { runDir: runDirOf(key), startedAt }, fencing),
        });
        if (outcome.repeated)
          requestLog.info(
            { agent: request.agent, action: request.action },
            "a repeated request: answered with the first one's outcome, not run again",
          );
        result = outcome.result;
      } else result = await fence(request, { ...fencing, runDir: runDirOf(null) });
      // VDSM filters the reply to these two keys.
      return result.operationStatus === undefined
        ? { power: result.power }
        : { power: result.power, operationStatus: result.operationStatus };
    },
  };
}
