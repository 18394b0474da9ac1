/**
 * What a fence agent is asked to do, and the exact stdin VDSM feeds it (docs/vdsm-verbs.md#fencenode):
 * `agent=`, `ipaddr=`, `login=`, `action=`, `passwd=`, then `port=` if non-empty, `secure=yes` if set, then
 * the caller's options.
 */
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
  /** Extra agent options, see {@link splitFenceOptions}. */
  readonly options: string;
}

/** Fence agent names are plain words: no path separators, no `..`, nothing a shell would interpret. */
export const FENCE_AGENT_NAME = /^[a-z0-9_]+$/;

/** Lines we write ourselves; an option may not override them (e.g. turn a `status` into an `off`). */
const RESERVED_OPTION_KEYS = new Set(['agent', 'ipaddr', 'login', 'passwd', 'action', 'port', 'secure']);

/** `key` or `key=value`, printable ASCII only. */
const OPTION_ITEM = /^[A-Za-z0-9_-]+(=[!-~]*)?$/;

/** A malformed or forbidden `options` item. The message names its position and key, never its value (it may be a secret). */
export class InvalidFenceOptionsError extends VdsmError {
  constructor(
    readonly position: number,
    readonly key: string | null,
    readonly reason: string,
  ) {
    super(JsonRpcCode.INVALID_PARAMS, `Host.fenceNode: invalid fence option #${position}${key ? ` (${key})` : ''}: ${reason}`);
  }
}

/**
 * Splits `options` into agent stdin lines. VDSM appends the string verbatim, its schema calls it
 * space-separated `var=val` pairs, and engines have sent comma-separated lists: we accept items separated
 * by newlines, commas or spaces, each `key=value` or a bare flag `key`, and emit one per line. So values
 * cannot contain those separators. Keys we set ourselves (`action`, `passwd`, …) are refused.
 */
export function splitFenceOptions(options: string): string[] {
  const items = options.split(/[\s,]+/).filter(Boolean);
  items.forEach((item, i) => {
    if (!OPTION_ITEM.test(item)) throw new InvalidFenceOptionsError(i + 1, null, 'expected key=value or a flag name (printable ASCII)');
    const key = item.split('=', 1)[0] ?? '';
    if (RESERVED_OPTION_KEYS.has(key)) throw new InvalidFenceOptionsError(i + 1, key, "set from the verb's own parameters");
  });
  return items;
}

/** The agent's stdin, in VDSM's line order. */
export function renderFenceAgentInput(request: FenceRequest): string {
  const lines = [
    `agent=fence_${request.agent}`,
    `ipaddr=${request.addr}`,
    `login=${request.username}`,
    `action=${request.action}`,
    `passwd=${request.password}`,
  ];
  if (request.port !== '') lines.push(`port=${request.port}`);
  if (request.secure) lines.push('secure=yes');
  lines.push(...splitFenceOptions(request.options));
  return `${lines.join('\n')}\n`;
}
