import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { InsecureAgentRefusedError } from '../../activities/agent-endpoint';
import { isRetryableAgentError, toActivityFailure } from '../../activities/failure-mapping';
import { SecretRefusedError, SecretUnavailableError } from '../../activities/secrets';
import { FAILURES, FailureType, isRetryable } from '../../model/failures';
import {
  StoreBusyError,
  StoreConstraint,
  StoreConstraintError,
  StoreEntity,
  StoreInputError,
  StoreNotFoundError,
} from '../../store/errors';
import { AgentConnectionError, AgentRpcError, AgentTimeoutError } from '../../vdsm/client/errors';
import { VdsmCode } from '../../model/vdsm/error-codes';

describe('agent errors as Temporal failures', () => {
  it('a refusal becomes a non-retryable AgentRejected that keeps the code', () => {
    const failure = toActivityFailure(new AgentRpcError(VdsmCode.BAD_VLAN, 'vlan 5000 out of range', 'Host.setupNetworks'));
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({
      type: 'AgentRejected',
      nonRetryable: true,
      details: [{ code: VdsmCode.BAD_VLAN, method: 'Host.setupNetworks' }],
    });
  });

  it('a busy agent and a lost connection stay retryable, under their own types', () => {
    expect(toActivityFailure(new AgentRpcError(VdsmCode.RESOURCE_UNAVAILABLE, 'busy', 'Host.setupNetworks'))).toMatchObject({
      type: 'AgentError',
      nonRetryable: false,
    });
    expect(toActivityFailure(new AgentConnectionError('h:54321 (tls)', 'ECONNREFUSED'))).toMatchObject({
      type: 'AgentConnectionError',
      nonRetryable: false,
    });
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

describe('the failures activities raise come from the one vocabulary', () => {
  it("the worker's refusals carry a vocabulary type and its retryability", () => {
    const raised = [
      new SecretUnavailableError('env:HOSTPROV_SECRET_X', 'unset'),
      new SecretRefusedError('file:/etc/shadow', 'outside'),
      new InsecureAgentRefusedError('h:54321'),
    ];
    expect(raised.map((f) => f.type)).toEqual([
      FailureType.SECRET_UNAVAILABLE,
      FailureType.SECRET_REFUSED,
      FailureType.INSECURE_AGENT_REFUSED,
    ]);
    for (const failure of raised) expect(failure.nonRetryable, String(failure.type)).toBe(!isRetryable(failure.type as FailureType));
  });

  it('store errors are named as the vocabulary names them (their types in history), refusals final and a busy database retried', () => {
    const errors = [
      new StoreConstraintError(StoreConstraint.UNIQUE, 'taken'),
      new StoreNotFoundError(StoreEntity.HOST, 'h1'),
      new StoreInputError('network', ['name: required']),
      new StoreBusyError('locked'),
    ];
    expect(errors.map((e) => e.name)).toEqual([
      FailureType.STORE_CONSTRAINT,
      FailureType.STORE_NOT_FOUND,
      FailureType.STORE_INPUT,
      FailureType.STORE_BUSY,
    ]);
    expect(errors.map((e) => FAILURES[e.name as FailureType].retryable)).toEqual([false, false, false, true]);
  });
});
