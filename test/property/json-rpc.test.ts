/**
 * Properties of the JSON-RPC dispatcher (vdsm/json-rpc.ts, docs/vdsm-wire-protocol.md#json-rpc-20): whatever
 * a peer sends and whatever a verb does, the dispatcher answers and never rejects; a batch is answered
 * with an array in request order (an empty one with a single -32600, as JSON-RPC 2.0 says); nothing runs
 * beyond the in-flight limit; and no in-flight count is left behind.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JsonRpcCode, VdsmCode, VdsmError } from '../../model/vdsm/error-codes';
import { JsonRpcDispatcher, type ConnectionContext } from '../../vdsm/json-rpc';
import type { VerbDefinition } from '../../vdsm/verbs';
import { z } from 'zod';
import { propertyParameters, REPLAY_HINT } from '../helpers/property';

const MAX_IN_FLIGHT = 6;
const MAX_BATCH = 8;

/** Verbs that misbehave in every way a handler can: throw, reject with non-errors, return what JSON cannot hold. */
function misbehavingVerbs(): { verbs: VerbDefinition[]; peakRunning: () => number } {
  let running = 0;
  let peak = 0;
  const tracked =
    (body: (params: Record<string, unknown>) => unknown): VerbDefinition['handler'] =>
    async (params) => {
      running += 1;
      peak = Math.max(peak, running);
      try {
        // A turn of the event loop, so that concurrent requests really overlap.
        await new Promise((resolvePromise) => setImmediate(resolvePromise));
        return await body(params);
      } finally {
        running -= 1;
      }
    };
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  const verbs: VerbDefinition[] = [
    { method: 'T.echo', params: ['a', 'b'], handler: tracked((params) => params) },
    { method: 'T.nothing', params: [], handler: tracked(() => undefined) },
    { method: 'T.vdsm', params: [], handler: tracked(() => Promise.reject(new VdsmError(VdsmCode.BAD_VLAN, 'bad vlan'))) },
    { method: 'T.type', params: [], handler: tracked(() => Promise.reject(new TypeError('boom'))) },
    { method: 'T.string', params: [], handler: tracked(() => Promise.reject('a bare string')) },
    {
      method: 'T.sync',
      params: [],
      handler: () => {
        throw new Error('thrown before any promise');
      },
    },
    { method: 'T.bigint', params: [], handler: tracked(() => ({ n: 1n })) },
    { method: 'T.cycle', params: [], handler: tracked(() => cyclic) },
    {
      method: 'T.toJSON',
      params: [],
      handler: tracked(() => ({
        toJSON() {
          throw new Error('cannot serialise');
        },
      })),
    },
    { method: 'T.zod', params: ['mtu'], handler: tracked((params) => z.object({ mtu: z.number().int() }).strict().parse(params)) },
  ];
  return { verbs, peakRunning: () => peak };
}

const METHODS = ['T.echo', 'T.nothing', 'T.vdsm', 'T.type', 'T.string', 'T.sync', 'T.bigint', 'T.cycle', 'T.toJSON', 'T.zod'];

/** One batch member or single message: often a request, often almost one. */
const member: fc.Arbitrary<unknown> = fc.oneof(
  {
    arbitrary: fc.record(
      {
        jsonrpc: fc.oneof(fc.constant('2.0'), fc.constant('2.0'), fc.constant('1.0'), fc.jsonValue()),
        method: fc.oneof(fc.constantFrom(...METHODS), fc.string(), fc.jsonValue()),
        params: fc.oneof(
          fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 4 }),
          fc.array(fc.jsonValue(), { maxLength: 4 }),
          fc.jsonValue(),
        ),
        id: fc.oneof(fc.uuid(), fc.integer(), fc.constant(null), fc.jsonValue()),
        extra: fc.jsonValue(),
      },
      { requiredKeys: [] },
    ),
    weight: 5,
  },
  { arbitrary: fc.jsonValue(), weight: 1 },
);

/** A message as JSON: a member, a batch of members (empty, within and beyond the size limit), or any JSON. */
const message: fc.Arbitrary<unknown> = fc.oneof(member, fc.array(member, { maxLength: MAX_BATCH + 3 }), fc.jsonValue());

/** A body as it arrives in a frame: JSON of a message, or any text. */
const body: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: message.map((m) => JSON.stringify(m) ?? 'null'), weight: 6 },
  { arbitrary: fc.string(), weight: 1 },
);

const isRequest = (raw: unknown): raw is { jsonrpc: '2.0'; method: string; id?: unknown } =>
  typeof raw === 'object' &&
  raw !== null &&
  !Array.isArray(raw) &&
  (raw as { jsonrpc?: unknown }).jsonrpc === '2.0' &&
  typeof (raw as { method?: unknown }).method === 'string';
/** JSON-RPC: a request without an `id` member is a notification and gets no answer. */
const isNotification = (raw: unknown): boolean =>
  isRequest(raw) && (raw as { method: string }).method.length > 0 && !('id' in raw) && validParams(raw);
const validParams = (raw: object): boolean => {
  const params = (raw as { params?: unknown }).params;
  return params === undefined || (typeof params === 'object' && params !== null);
};
/** The id the answer must carry: the request's, when it is of a legal type. */
const answerId = (raw: unknown): unknown => {
  if (typeof raw !== 'object' || raw === null || !('id' in raw)) return null;
  const id = (raw as { id: unknown }).id;
  return typeof id === 'string' || typeof id === 'number' || id === null ? id : null;
};

/** A well-formed response object. */
function expectResponse(value: unknown): void {
  expect(value).toEqual(expect.objectContaining({ jsonrpc: '2.0' }));
  const response = value as Record<string, unknown>;
  expect(['string', 'number'].includes(typeof response.id) || response.id === null).toBe(true);
  expect('result' in response !== 'error' in response).toBe(true);
  if ('error' in response) {
    const error = response.error as { code: unknown; message: unknown };
    expect(Number.isInteger(error.code)).toBe(true);
    expect(typeof error.message).toBe('string');
  }
}

describe(`JSON-RPC dispatcher properties (${REPLAY_HINT})`, () => {
  const ctx: ConnectionContext = { localAddress: '192.0.2.10', remoteAddress: '192.0.2.1', connectionId: 'prop-conn' };

  it('answers every body without rejecting: one object for a single message, an array in request order for a batch', async () => {
    const { verbs } = misbehavingVerbs();
    const dispatcher = new JsonRpcDispatcher(verbs, { maxRequestsInFlight: MAX_IN_FLIGHT, maxBatchSize: MAX_BATCH });
    await fc.assert(
      fc.asyncProperty(body, async (text) => {
        const answer = await dispatcher.handleText(text, ctx);
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          expect(JSON.parse(answer ?? 'null')).toMatchObject({ id: null, error: { code: JsonRpcCode.PARSE_ERROR } });
          return;
        }
        if (!Array.isArray(parsed)) {
          if (isNotification(parsed)) expect(answer).toBeNull();
          else expectResponse(JSON.parse(answer ?? 'null'));
          return;
        }
        if (parsed.length === 0) {
          // JSON-RPC 2.0: an empty array is an invalid request, answered with one object.
          expect(JSON.parse(answer ?? 'null')).toEqual({
            jsonrpc: '2.0',
            id: null,
            error: { code: JsonRpcCode.INVALID_REQUEST, message: expect.any(String) },
          });
          return;
        }
        const answered = parsed.filter((m) => !isNotification(m));
        if (answered.length === 0) {
          expect(answer).toBeNull();
          return;
        }
        const responses = JSON.parse(answer ?? 'null') as unknown[];
        expect(Array.isArray(responses)).toBe(true);
        responses.forEach(expectResponse);
        expect(responses.map((r) => (r as { id: unknown }).id)).toEqual(answered.map(answerId));
        if (parsed.length > MAX_BATCH) {
          expect(responses.every((r) => (r as { error?: { code: number } }).error?.code === JsonRpcCode.BATCH_TOO_LARGE)).toBe(true);
        }
      }),
      propertyParameters(2000),
    );
    expect(dispatcher.inFlight(ctx.connectionId)).toBe(0);
  });

  it('never runs more verbs at once on one connection than the limit, and refuses the rest with -32000', async () => {
    const { verbs, peakRunning } = misbehavingVerbs();
    const dispatcher = new JsonRpcDispatcher(verbs, { maxRequestsInFlight: MAX_IN_FLIGHT, maxBatchSize: MAX_BATCH });
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(fc.constantFrom(...METHODS), { minLength: 1, maxLength: MAX_BATCH }), { minLength: 1, maxLength: 6 }),
        async (messages) => {
          let sent = 0;
          const bodies = messages.map((methods) => JSON.stringify(methods.map((method) => ({ jsonrpc: '2.0', method, id: (sent += 1) }))));
          const answers = await Promise.all(bodies.map((b) => dispatcher.handleText(b, ctx)));
          const responses = answers.flatMap((a) => JSON.parse(a ?? '[]') as Array<{ id: number; error?: { code: number } }>);
          // Every request is answered exactly once; the ones over the limit with -32000.
          expect(responses.map((r) => r.id).sort((a, b) => a - b)).toEqual(Array.from({ length: sent }, (_, i) => i + 1));
          // All of them arrive before any verb returns, so the first MAX_IN_FLIGHT run and the others are refused.
          const refused = responses.filter((r) => r.error?.code === JsonRpcCode.TOO_MANY_REQUESTS).map((r) => r.id);
          expect(refused.sort((a, b) => a - b)).toEqual(
            Array.from({ length: Math.max(0, sent - MAX_IN_FLIGHT) }, (_, i) => MAX_IN_FLIGHT + i + 1),
          );
          expect(dispatcher.inFlight(ctx.connectionId)).toBe(0);
        },
      ),
      propertyParameters(500),
    );
    expect(peakRunning()).toBeLessThanOrEqual(MAX_IN_FLIGHT);
  });
});
