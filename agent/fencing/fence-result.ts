/**
 * From a fence agent's exit to VDSM's answer (docs/vdsm-verbs.md#fencenode):
 * - `status`: exit 0 → `{power:'on'}`, 2 → `{power:'off'}`; anything else is an error, code 1 when the
 *   exit code is outside 0..2 (so in practice always 1);
 * - `on`/`off`/`reboot`: exit 0 → `{power:'unknown', operationStatus:'initiated'}`; otherwise an error
 *   whose code is the exit code (1 when killed by a signal).
 * The result carries only `power` and `operationStatus`, like VDSM's filtered `Host_fenceNode_Ret`.
 */
import { VdsmCode } from '../../model/vdsm/error-codes';
import { FenceAgentFailedError } from './errors';
import { FenceAction } from '../../model/vdsm/fence-node';
import type { FenceAgentExit } from './run-fence-agent';

export interface FenceNodeResult {
  power: 'on' | 'off' | 'unknown';
  operationStatus?: 'initiated' | 'skipped';
}

const STATUS_EXIT = { ON: 0, OFF: 2 } as const;

/** Last lines of the agent's stderr (its own error message), with `secret` blanked out. */
export function stderrTail(stderr: string, secret: string, maxLines = 5, maxChars = 1_000): string {
  let text = stderr;
  if (secret) text = text.split(secret).join('****');
  const tail = text
    .trimEnd()
    .split('\n')
    .filter((l) => l.trim() !== '')
    .slice(-maxLines)
    .join('\n');
  return tail.length > maxChars ? tail.slice(-maxChars) : tail;
}

export function fenceResultFromExit(agent: string, action: FenceAction, exit: FenceAgentExit, password: string): FenceNodeResult {
  const fail = (code: number) => {
    throw new FenceAgentFailedError(code, agent, action, exit.exitCode, exit.signal, stderrTail(exit.stderr || exit.stdout, password));
  };
  if (action === FenceAction.STATUS) {
    if (exit.exitCode === STATUS_EXIT.ON) return { power: 'on' };
    if (exit.exitCode === STATUS_EXIT.OFF) return { power: 'off' };
    const inRange = exit.exitCode !== null && exit.exitCode >= 0 && exit.exitCode <= 2;
    return fail(inRange && exit.exitCode !== null ? exit.exitCode : VdsmCode.GENERAL_FAILURE);
  }
  if (exit.exitCode === 0) return { power: 'unknown', operationStatus: 'initiated' };
  return fail(exit.exitCode ?? VdsmCode.GENERAL_FAILURE);
}
