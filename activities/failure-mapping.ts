/**
 * Agent errors → Temporal failures. Refusals (VDSM validation codes, unknown methods) are final; a busy or
 * recovering agent and lost connections are retried by the activity's retry policy.
 */
import { ApplicationFailure } from '@temporalio/common';
import { AgentConnectionError, AgentRpcError, AgentTimeoutError } from '../vdsm/client/errors';
import { JsonRpcCode, VdsmCode } from '../model/vdsm/error-codes';
import { ActivityFailureType } from './types';

/** VDSM codes a retry cannot fix. */
const FINAL_CODES = new Set<number>([
  VdsmCode.BAD_PARAMS, VdsmCode.BAD_ADDR, VdsmCode.BAD_NIC, VdsmCode.USED_NIC, VdsmCode.BAD_BONDING,
  VdsmCode.BAD_VLAN, VdsmCode.BAD_BRIDGE, VdsmCode.USED_BOND, VdsmCode.FENCE_AGENT_MISSING,
  JsonRpcCode.METHOD_NOT_FOUND, JsonRpcCode.INVALID_PARAMS, JsonRpcCode.INVALID_REQUEST,
]);

export function isRetryableAgentError(err: unknown): boolean {
  if (err instanceof AgentConnectionError || err instanceof AgentTimeoutError) return true;
  if (err instanceof AgentRpcError) return !FINAL_CODES.has(err.code);
  return false;
}

/** Wraps an agent error for Temporal; keeps the code in `details` for callers that branch on it. */
export function toActivityFailure(err: unknown): Error {
  if (err instanceof ApplicationFailure) return err;
  if (err instanceof AgentRpcError) {
    const final = FINAL_CODES.has(err.code);
    return ApplicationFailure.create({
      message: err.message,
      type: final ? ActivityFailureType.AGENT_REJECTED : 'AgentError',
      nonRetryable: final,
      details: [{ code: err.code, method: err.method }],
      cause: err,
    });
  }
  if (err instanceof AgentConnectionError || err instanceof AgentTimeoutError) {
    return ApplicationFailure.create({ message: err.message, type: err.name, nonRetryable: false, cause: err });
  }
  return err instanceof Error ? err : new Error(String(err));
}
