import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { JsonRpcDispatcher, type ConnectionContext } from '../../vdsm/json-rpc';
import type { RpcContext, VerbDefinition } from '../../vdsm/verbs';
import { JsonRpcCode, VdsmCode, VdsmError } from '../../model/vdsm/error-codes';

const ctx: ConnectionContext = { localAddress: '192.0.2.10', remoteAddress: '192.0.2.1', connectionId: 'conn-1', flowId: 'flow-7' };

const seen: RpcContext[] = [];
const verbs: VerbDefinition[] = [
  { method: 'Test.echo', params: ['a', 'b'], handler: async (params) => params },
  { method: 'Test.nothing', params: [], handler: async () => undefined },
  { method: 'Test.null', params: [], handler: async () => null },
  { method: 'Test.false', params: [], handler: async () => false },
  {
    method: 'Test.context',
    params: [],
    handler: async (_params, context) => {
      seen.push(context);
      return context;
    },
  },
  { method: 'Test.vdsm', params: [], handler: async () => Promise.reject(new VdsmError(VdsmCode.BAD_VLAN, 'vlan 5000 out of range')) },
  { method: 'Test.crash', params: [], handler: async () => Promise.reject(new TypeError('boom')) },
  { method: 'Test.validated', params: ['mtu'], handler: async (params) => z.object({ mtu: z.number().int() }).strict().parse(params) },
  { method: 'Test.bigint', params: [], handler: async () => ({ n: 1n }) },
];
const dispatcher = new JsonRpcDispatcher(verbs);

const call = async (body: string): Promise<unknown> => {
  const text = await dispatcher.handleText(body, ctx);
  return text === null ? null : JSON.parse(text);
};
const request = (method: string, params?: unknown, id: unknown = 'id-1') => JSON.stringify({ jsonrpc: '2.0', method, params, id });

describe('JsonRpcDispatcher', () => {
  it('passes named params through and answers with result', async () => {
    expect(await call(request('Test.echo', { a: 1, b: 'x' }))).toEqual({ jsonrpc: '2.0', id: 'id-1', result: { a: 1, b: 'x' } });
  });

  it('maps positional params onto the verb parameter order', async () => {
    expect(await call(request('Test.echo', [1, 'x']))).toMatchObject({ result: { a: 1, b: 'x' } });
    expect(await call(request('Test.echo', [1]))).toMatchObject({ result: { a: 1 } });
  });

  it('answers -32602 when there are more positional params than the verb takes', async () => {
    expect(await call(request('Test.echo', [1, 2, 3]))).toMatchObject({ id: 'id-1', error: { code: JsonRpcCode.INVALID_PARAMS } });
  });

  it('answers true for verbs returning undefined or null, and keeps false', async () => {
    expect(await call(request('Test.nothing'))).toMatchObject({ result: true });
    expect(await call(request('Test.null'))).toMatchObject({ result: true });
    expect(await call(request('Test.false'))).toMatchObject({ result: false });
  });

  it('gives the verb the connection context plus the request id', async () => {
    const response = await call(request('Test.context', {}, 42));
    expect(response).toMatchObject({ id: 42, result: { ...ctx, requestId: 42 } });
  });

  it('answers -32700 with id null for a body that is not JSON', async () => {
    expect(await call('{"jsonrpc": "2.0", "method": ')).toMatchObject({ id: null, error: { code: JsonRpcCode.PARSE_ERROR } });
  });

  it.each([
    ['jsonrpc 1.0', { jsonrpc: '1.0', method: 'Test.nothing', id: 'x' }],
    ['a missing jsonrpc', { method: 'Test.nothing', id: 'x' }],
    ['a numeric method', { jsonrpc: '2.0', method: 7, id: 'x' }],
    ['scalar params', { jsonrpc: '2.0', method: 'Test.nothing', params: 'a', id: 'x' }],
  ])('answers -32600 for %s, keeping a usable id', async (_what, body) => {
    expect(await call(JSON.stringify(body))).toEqual({
      jsonrpc: '2.0',
      id: 'x',
      error: { code: JsonRpcCode.INVALID_REQUEST, message: expect.any(String) },
    });
  });

  it('answers -32600 with id null for a non-object and for an id of an illegal type', async () => {
    expect(await call('42')).toMatchObject({ id: null, error: { code: JsonRpcCode.INVALID_REQUEST } });
    expect(await call(JSON.stringify({ jsonrpc: '2.0', method: 'Test.nothing', id: { no: 1 } }))).toMatchObject({
      id: null,
      error: { code: JsonRpcCode.INVALID_REQUEST },
    });
  });

  it('answers -32601 for an unknown method', async () => {
    expect(await call(request('Host.nope'))).toMatchObject({
      id: 'id-1',
      error: { code: JsonRpcCode.METHOD_NOT_FOUND, message: expect.stringContaining('Host.nope') },
    });
  });

  it('turns a VdsmError into its VDSM code and message', async () => {
    expect(await call(request('Test.vdsm'))).toEqual({
      jsonrpc: '2.0',
      id: 'id-1',
      error: { code: VdsmCode.BAD_VLAN, message: 'vlan 5000 out of range' },
    });
  });

  it('turns a ZodError from the verb into -32602 naming the field', async () => {
    const response = await call(request('Test.validated', { mtu: 'big' }));
    expect(response).toMatchObject({ error: { code: JsonRpcCode.INVALID_PARAMS, message: expect.stringContaining('mtu') } });
  });

  it('turns any other exception into -32603 with its message', async () => {
    expect(await call(request('Test.crash'))).toMatchObject({ error: { code: JsonRpcCode.INTERNAL_ERROR, message: 'boom' } });
  });

  it('turns a result that cannot be serialised into -32603 for that request only', async () => {
    const batch = JSON.stringify([
      { jsonrpc: '2.0', method: 'Test.bigint', id: 1 },
      { jsonrpc: '2.0', method: 'Test.nothing', id: 2 },
    ]);
    expect(await call(batch)).toEqual([
      { jsonrpc: '2.0', id: 1, error: { code: JsonRpcCode.INTERNAL_ERROR, message: expect.any(String) } },
      { jsonrpc: '2.0', id: 2, result: true },
    ]);
  });

  it('sends nothing for a notification, even one that fails', async () => {
    expect(await call(JSON.stringify({ jsonrpc: '2.0', method: 'Test.nothing' }))).toBeNull();
    expect(await call(JSON.stringify({ jsonrpc: '2.0', method: 'Test.crash' }))).toBeNull();
    expect(await call(JSON.stringify({ jsonrpc: '2.0', method: 'Host.nope' }))).toBeNull();
  });

  it('still answers a request whose id is null', async () => {
    expect(await call(request('Test.nothing', undefined, null))).toEqual({ jsonrpc: '2.0', id: null, result: true });
  });

  it('answers a batch with an array in request order, leaving out notifications', async () => {
    const batch = JSON.stringify([
      { jsonrpc: '2.0', method: 'Test.echo', params: [1, 2], id: 'a' },
      { jsonrpc: '2.0', method: 'Test.nothing' },
      { jsonrpc: '2.0', method: 'Host.nope', id: 'b' },
      { jsonrpc: '1.0', method: 'Test.nothing', id: 'c' },
      null,
    ]);
    expect(await call(batch)).toEqual([
      { jsonrpc: '2.0', id: 'a', result: { a: 1, b: 2 } },
      { jsonrpc: '2.0', id: 'b', error: { code: JsonRpcCode.METHOD_NOT_FOUND, message: expect.any(String) } },
      { jsonrpc: '2.0', id: 'c', error: { code: JsonRpcCode.INVALID_REQUEST, message: expect.any(String) } },
      { jsonrpc: '2.0', id: null, error: { code: JsonRpcCode.INVALID_REQUEST, message: expect.any(String) } },
    ]);
  });

  it('answers a batch of one with an array of one', async () => {
    expect(await call(JSON.stringify([{ jsonrpc: '2.0', method: 'Test.nothing', id: 1 }]))).toEqual([
      { jsonrpc: '2.0', id: 1, result: true },
    ]);
  });

  it('sends nothing for a batch of notifications, and -32600 for an empty batch', async () => {
    expect(await call(JSON.stringify([{ jsonrpc: '2.0', method: 'Test.nothing' }]))).toBeNull();
    expect(await call('[]')).toEqual({
      jsonrpc: '2.0',
      id: null,
      error: { code: JsonRpcCode.INVALID_REQUEST, message: expect.any(String) },
    });
  });

  it('refuses a registry with the same method twice', () => {
    expect(() => new JsonRpcDispatcher([verbs[0]!, verbs[0]!])).toThrow(/twice/);
  });
});
