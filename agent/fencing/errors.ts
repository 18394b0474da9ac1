/** Fence failures as VDSM reports them: JSON-RPC errors whose code clients branch on (docs/vdsm-verbs.md#fencenode). */
import { VdsmCode, VdsmError } from '../../model/vdsm/error-codes';
import type { FenceAction } from '../../model/vdsm/fence-node';

/** `fence_<agent>` is not installed in the agent directory: code 43 (engine `fenceAgent`). */
export class FenceAgentMissingError extends VdsmError {
  constructor(
    readonly agent: string,
    readonly path: string,
  ) {
    super(VdsmCode.FENCE_AGENT_MISSING, `fence agent fence_${agent} is not installed (no executable ${path})`);
  }
}

/** The agent ran and failed; the VDSM code is its exit code (1 when it has none or for `status`). */
export class FenceAgentFailedError extends VdsmError {
  constructor(
    code: number,
    readonly agent: string,
    readonly action: FenceAction,
    readonly exitCode: number | null,
    readonly signal: string | null,
    readonly stderrTail: string,
  ) {
    const how = exitCode === null ? `was killed by ${signal ?? 'a signal'}` : `exited with ${exitCode}`;
    super(code, `fence_${agent} ${action} ${how}${stderrTail ? `: ${stderrTail}` : ''}`);
  }
}

/** The agent did not finish in time and was killed (with everything it started). */
export class FenceAgentTimeoutError extends VdsmError {
  constructor(
    readonly agent: string,
    readonly action: FenceAction,
    readonly timeoutMs: number,
  ) {
    super(VdsmCode.GENERAL_FAILURE, `fence_${agent} ${action} did not finish within ${timeoutMs} ms and was killed`);
  }
}
