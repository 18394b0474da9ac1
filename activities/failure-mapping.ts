/**
 * Agent errors → Temporal failures, typed and marked retryable from the one failure vocabulary
 * (model/failures.ts). Refusals are final; a busy or recovering agent and lost connections are retried by the
 * activity's retry policy.
 */
import { ApplicationFailure } from '@temporalio/common';
import { AgentConnectionError, AgentRpcError, AgentTimeoutError } from '../vdsm/client/errors';
import { agentFailureType, FailureType, isRetryable } from '../model/failures';

/** An `ApplicationFailure` of a vocabulary type; whether Temporal may retry it follows from the type. */
export function activityFailure(
  type: FailureType,
  message: string,
  options: { details?: unknown[]; cause?: Error } = {},
): ApplicationFailure {
  return ApplicationFailure.create({ message, type, nonRetryable: !isRetryable(type), ...options });
}

/** The vocabulary type of an agent client error, or undefined for anything else. */
export function agentErrorType(err: unknown): FailureType | undefined {
  if (err instanceof AgentConnectionError) return FailureType.AGENT_CONNECTION_LOST;
  if (err instanceof AgentTimeoutError) return FailureType.AGENT_TIMEOUT;
  if (err instanceof AgentRpcError) return agentFailureType(err.code);
  return undefined;
}

export function isRetryableAgentError(err: unknown): boolean {
  const type = agentErrorType(err);
  return type !== undefined && isRetryable(type);
}

/** Wraps an agent error for Temporal; keeps an RPC error's code in `details` for callers that branch on it. */
export function toActivityFailure(err: unknown): Error {
  if (err instanceof ApplicationFailure) return err;
  const type = agentErrorType(err);
  if (type === undefined) return err instanceof Error ? err : new Error(String(err));
  const error = err as Error;
  const details = err instanceof AgentRpcError ? [{ code: err.code, method: err.method }] : undefined;
  return activityFailure(type, error.message, { ...(details ? { details } : {}), cause: error });
}
