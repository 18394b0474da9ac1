import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { isRetryableAgentError, toActivityFailure } from '../../activities/failure-mapping';
import { AgentConnectionError, AgentRpcError, AgentTimeoutError } from '../../agent/transport/client-errors';
import { VdsmCode } from '../../model/vdsm/error-codes';

describe('agent errors as Temporal failures', () => {
  it('a refusal becomes a non-retryable AgentRejected that keeps the code', () => {
    const failure = toActivityFailure(new AgentRpcError(VdsmCode.BAD_VLAN, 'vlan 5000 out of range', 'Host.setupNetworks'));
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: 'AgentRejected', nonRetryable: true, details: [{ code: VdsmCode.BAD_VLAN, method: 'Host.setupNetworks' }] });
  });

  it('a busy agent and a lost connection stay retryable, under their own types', () => {
    expect(toActivityFailure(new AgentRpcError(VdsmCode.RESOURCE_UNAVAILABLE, 'busy', 'Host.setupNetworks'))).toMatchObject({ type: 'AgentError', nonRetryable: false });
    expect(toActivityFailure(new AgentConnectionError('h:54321 (tls)', 'ECONNREFUSED'))).toMatchObject({ type: 'AgentConnectionError', nonRetryable: false });
    expect(toActivityFailure(new AgentTimeoutError('Host.ping2', 3000))).toMatchObject({ type: 'AgentTimeoutError', nonRetryable: false });
    expect(isRetryableAgentError(new AgentRpcError(VdsmCode.RECOVERING, 'recovering', 'Host.ping2'))).toBe(true);
    expect(isRetryableAgentError(new AgentRpcError(VdsmCode.BAD_PARAMS, 'no', 'Host.ping2'))).toBe(false);
  });

  it('leaves other errors and existing failures alone', () => {
    const plain = new Error('boom');
    expect(toActivityFailure(plain)).toBe(plain);
    const existing = ApplicationFailure.create({ type: 'SecretUnavailable', nonRetryable: true });
    expect(toActivityFailure(existing)).toBe(existing);
    expect(isRetryableAgentError(plain)).toBe(false);
  });
});
