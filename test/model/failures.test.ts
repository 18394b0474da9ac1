import { describe, expect, it } from 'vitest';
import { agentFailureType, FAILURES, FailureType, fenceFailureType, isRetryable, NON_RETRYABLE_FAILURE_TYPES } from '../../model/failures';
import { JsonRpcCode, VdsmCode } from '../../model/vdsm/error-codes';

describe('failure vocabulary', () => {
  it('gives every failure type a retryability and a meaning', () => {
    for (const type of Object.values(FailureType)) {
      expect(typeof FAILURES[type].retryable, type).toBe('boolean');
      expect(FAILURES[type].meaning.length, type).toBeGreaterThan(10);
    }
  });

  it('lists for retry policies exactly the raised failures a retry cannot fix', () => {
    expect([...NON_RETRYABLE_FAILURE_TYPES].sort()).toEqual([
      'AgentRejected',
      'AgentUnreachable',
      'FenceFailed',
      'InsecureAgentRefused',
      'InvalidInput',
      'SecretRefused',
      'SecretUnavailable',
      'StoreConstraintError',
      'StoreInputError',
      'StoreNotFoundError',
    ]);
    for (const type of ['AgentError', 'AgentConnectionError', 'AgentTimeoutError', 'StoreBusyError'] as const)
      expect(isRetryable(type), type).toBe(true);
  });

  it('classifies agent answers: refusals are final, "not now" and internal errors may pass', () => {
    expect(agentFailureType(VdsmCode.BAD_PARAMS)).toBe(FailureType.AGENT_REJECTED);
    expect(agentFailureType(VdsmCode.BAD_BONDING)).toBe(FailureType.AGENT_REJECTED);
    expect(agentFailureType(JsonRpcCode.METHOD_NOT_FOUND)).toBe(FailureType.AGENT_REJECTED);
    expect(agentFailureType(JsonRpcCode.INVALID_PARAMS)).toBe(FailureType.AGENT_REJECTED);
    expect(agentFailureType(VdsmCode.RESOURCE_UNAVAILABLE)).toBe(FailureType.AGENT_ERROR);
    expect(agentFailureType(VdsmCode.RECOVERING)).toBe(FailureType.AGENT_ERROR);
    expect(agentFailureType(VdsmCode.LOST_CONNECTION)).toBe(FailureType.AGENT_ERROR);
    expect(agentFailureType(JsonRpcCode.INTERNAL_ERROR)).toBe(FailureType.AGENT_ERROR);
  });

  it('reads a fence verb\'s VDSM status as the fence agent\'s verdict, except "not now"', () => {
    expect(fenceFailureType(VdsmCode.GENERAL_FAILURE)).toBe(FailureType.FENCE_FAILED);
    expect(fenceFailureType(VdsmCode.FENCE_AGENT_MISSING)).toBe(FailureType.FENCE_FAILED);
    expect(fenceFailureType(VdsmCode.RESOURCE_UNAVAILABLE)).toBe(FailureType.AGENT_ERROR);
    expect(fenceFailureType(VdsmCode.RECOVERING)).toBe(FailureType.AGENT_ERROR);
    expect(fenceFailureType(JsonRpcCode.INVALID_PARAMS)).toBe(FailureType.AGENT_REJECTED);
  });
});
