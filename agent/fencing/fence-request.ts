/**
 * What a fence agent is asked to do, and the exact stdin VDSM feeds it (docs/vdsm-verbs.md#fencenode):
 * `agent=`, `ipaddr=`, `login=`, `action=`, `passwd=`, then `port=` if non-empty, `secure=yes` if set, then
 * the caller's options.
 */
import { FenceStdinKey, type FenceOptionRefusal, type FenceOptionRefusedError } from '../../model/fencing/fence-options';
import { JsonRpcCode, VdsmError } from '../../model/vdsm/error-codes';
import type { FenceAction } from '../../model/vdsm/fence-node';

export interface FenceRequest {
  /** Address of the power-management device (e.g. the BMC). */
  readonly addr: string;
  /** The fence agent's *plug* (`port=` line), `''` for none. Not the BMC's UDP port: see `ipport=` options. */
  readonly port: string;
  /** Agent name without the `fence_` prefix, e.g. `ipmilan`. */
  readonly agent: string;
  readonly username: string;
  /** Never logged. */
  readonly password: string;
  readonly action: FenceAction;
  readonly secure: boolean;
  /** Extra agent options: `key=value` items or flags, checked by the agent's option policy before use. */
  readonly options: string;
}

/** Fence agent names are plain words: no path separators, no `..`, nothing a shell would interpret. */
export const FENCE_AGENT_NAME = /^[a-z0-9_]+$/;

/**
 * A refused `options` item, as the verb answers it: JSON-RPC "invalid params". The message names the
 * item's position and key, never its value (it may be a secret).
 */
export class InvalidFenceOptionsError extends VdsmError {
  readonly position: number;
  readonly key: string | null;
  readonly refusal: FenceOptionRefusal;
  constructor(refused: FenceOptionRefusedError) {
    super(JsonRpcCode.INVALID_PARAMS, `Host.fenceNode: ${refused.message}`);
    this.position = refused.position;
    this.key = refused.key;
    this.refusal = refused.refusal;
  }
}

/**
 * The agent's stdin, in VDSM's line order; `optionLines` are the caller's options as the agent's option
 * policy accepted and rewrote them (agent/fencing/option-policy.ts), never the raw string.
 */
export function renderFenceAgentInput(request: Omit<FenceRequest, 'options'>, optionLines: readonly string[]): string {
  const lines = [
    `${FenceStdinKey.AGENT}=fence_${request.agent}`,
    `${FenceStdinKey.IPADDR}=${request.addr}`,
    `${FenceStdinKey.LOGIN}=${request.username}`,
    `${FenceStdinKey.ACTION}=${request.action}`,
    `${FenceStdinKey.PASSWD}=${request.password}`,
  ];
  if (request.port !== '') lines.push(`${FenceStdinKey.PORT}=${request.port}`);
  if (request.secure) lines.push(`${FenceStdinKey.SECURE}=yes`);
  lines.push(...optionLines);
  return `${lines.join('\n')}\n`;
}
