/** Verbs for transport tests: echo, failures, a context mirror, and a slow verb the test releases. */
import { getLogger, type Logger } from '../../lib/logger';
import type { RpcContext, VerbDefinition } from '../../vdsm/verbs';
import { VdsmCode, VdsmError } from '../../model/vdsm/error-codes';

export interface TestVerbs {
  readonly verbs: VerbDefinition[];
  /** Params of every `Test.mark` call, in arrival order. */
  readonly marks: unknown[];
}

export function createTestVerbs(): TestVerbs {
  const marks: unknown[] = [];
  let releaseSlow: () => void = () => undefined;
  let slowGate = new Promise<void>((resolvePromise) => (releaseSlow = resolvePromise));
  const verbs: VerbDefinition[] = [
    { method: 'Host.ping2', params: [], handler: async () => undefined },
    { method: 'Test.echo', params: ['a', 'b'], handler: async (params) => params },
    { method: 'Test.context', params: [], handler: async (_params, ctx: RpcContext) => ctx },
    {
      method: 'Test.mark',
      params: ['value'],
      handler: async (params) => {
        marks.push(params.value);
      },
    },
    { method: 'Test.marks', params: [], handler: async () => marks },
    {
      method: 'Test.vdsmFailure',
      params: [],
      handler: async () => Promise.reject(new VdsmError(VdsmCode.LOST_CONNECTION, 'connectivity check failed')),
    },
    // Runs until `Test.release` is called: a server that served requests one at a time would answer
    // nothing after it.
    {
      method: 'Test.slow',
      params: [],
      handler: async () => {
        await slowGate;
        return 'slow';
      },
    },
    { method: 'Test.fast', params: [], handler: async () => 'fast' },
    // A large answer to a small request, for peers that send and never read.
    { method: 'Test.bulk', params: ['bytes'], handler: async (params) => 'z'.repeat(Number(params.bytes)) },
    {
      method: 'Test.release',
      params: [],
      handler: async () => {
        releaseSlow();
        slowGate = new Promise<void>((resolvePromise) => (releaseSlow = resolvePromise));
      },
    },
    { method: 'Test.never', params: [], handler: () => new Promise<never>(() => undefined) },
  ];
  return { verbs, marks };
}

/** Quiet unless HOSTPROV_LOG_LEVEL asks for more: expected warnings would drown the test output. */
export function testLogger(): Logger {
  return getLogger('agent-transport-test').child({}, { level: process.env.HOSTPROV_LOG_LEVEL ?? 'error' });
}
