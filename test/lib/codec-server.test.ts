/**
 * The remote codec endpoint (lib/temporal/codec-server.ts) over real HTTP: the Web UI's JSON shape both
 * ways, CORS for the UI's origin only, the bearer token, and bodies refused by zod and by size.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultPayloadConverter } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getLogger } from '../../lib/logger';
import { startCodecServer, type RunningCodecServer } from '../../lib/temporal/codec-server';
import { AesGcmPayloadCodec } from '../../lib/temporal/payload-codec';
import { createPayloadKey, loadPayloadKeys } from '../../lib/temporal/payload-keys';

const UI = 'http://localhost:8233';
const TOKEN = 'codec-token-0123456789abcdef';
const b64 = (s: string): string => Buffer.from(s).toString('base64');
const jsonPayload = (value: unknown) => {
  const p = defaultPayloadConverter.toPayload(value);
  return {
    metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
    data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
  };
};

describe('codec server', () => {
  let dir: string;
  let server: RunningCodecServer;
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Namespace': 'default', Authorization: `Bearer ${TOKEN}`, ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hostprov-codec-server-'));
    createPayloadKey(dir, { id: 'key-a' });
    server = await startCodecServer({
      keys: loadPayloadKeys(dir),
      port: 0,
      token: TOKEN,
      maxBodyBytes: 64 * 1024,
      maxPayloads: 10,
      log: getLogger('codec-server-test'),
    });
  });
  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("encodes and decodes the Web UI's {payloads: [...]} shape, base64 fields both ways", async () => {
    const value = { host: '192.0.2.10', network: 'ovirtmgmt' };
    const encoded = await post('/encode', { payloads: [jsonPayload(value), jsonPayload('second')] });
    expect(encoded.status).toBe(200);
    const sealed = (await encoded.json()) as { payloads: Array<{ metadata: Record<string, string>; data: string }> };
    expect(sealed.payloads).toHaveLength(2);
    expect(sealed.payloads[0]?.metadata).toEqual({ encoding: b64('binary/encrypted'), 'encryption-key-id': b64('key-a') });
    expect(Buffer.from(sealed.payloads[0]!.data, 'base64').includes('ovirtmgmt')).toBe(false);
    const decoded = await post('/decode', sealed);
    expect(decoded.status).toBe(200);
    const opened = (await decoded.json()) as { payloads: Array<{ metadata: Record<string, string>; data: string }> };
    expect(opened.payloads.map((p) => JSON.parse(Buffer.from(p.data, 'base64').toString('utf8')) as unknown)).toEqual([value, 'second']);
    expect(opened.payloads[0]?.metadata.encoding).toBe(b64('json/plain'));
  });

  it("answers the UI origin's preflight and requests with CORS headers, and refuses other origins", async () => {
    const preflight = await fetch(`${server.url}/decode`, {
      method: 'OPTIONS',
      headers: { Origin: UI, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type,x-namespace' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(UI);
    expect(preflight.headers.get('access-control-allow-methods')).toContain('POST');
    expect(preflight.headers.get('access-control-allow-headers')).toMatch(/X-Namespace/);
    const fromUi = await post('/decode', { payloads: [] }, { Origin: UI });
    expect(fromUi.status).toBe(200);
    expect(fromUi.headers.get('access-control-allow-origin')).toBe(UI);
    for (const response of [
      await fetch(`${server.url}/decode`, { method: 'OPTIONS', headers: { Origin: 'http://evil.example' } }),
      await post('/decode', { payloads: [] }, { Origin: 'http://evil.example' }),
    ]) {
      expect(response.status).toBe(403);
      expect(response.headers.get('access-control-allow-origin')).toBeNull();
    }
  });

  it('requires the bearer token when it has one', async () => {
    for (const authorization of ['', 'Bearer wrong-token-0123456789abcd', `Basic ${TOKEN}`, `Bearer ${TOKEN}x`]) {
      const response = await post('/decode', { payloads: [] }, { Authorization: authorization });
      expect(response.status, authorization).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer');
    }
    expect((await post('/decode', { payloads: [] })).status).toBe(200);
  });

  it('refuses malformed, oversized and undecodable bodies with a 4xx that says why', async () => {
    const error = async (response: Response) => ({ status: response.status, error: ((await response.json()) as { error: string }).error });
    expect(await error(await post('/decode', 'not json'))).toEqual({ status: 400, error: 'the body is not JSON' });
    expect(await error(await post('/decode', { payloads: 'x' }))).toMatchObject({
      status: 400,
      error: expect.stringMatching(/^payloads: /),
    });
    expect(await error(await post('/decode', { payloads: [{ data: 'not base64!' }] }))).toEqual({
      status: 400,
      error: 'payloads.0.data: must be base64',
    });
    expect(await error(await post('/decode', { payloads: Array.from({ length: 11 }, () => ({ data: '' })) }))).toEqual({
      status: 400,
      error: 'payloads: at most 10 payloads per request',
    });
    expect(await error(await post('/decode', { payloads: [{ data: 'A'.repeat(70 * 1024) }] }))).toEqual({
      status: 413,
      error: 'the body exceeds 65536 bytes',
    });
    const other = mkdtempSync(join(dir, 'other-'));
    createPayloadKey(other, { id: 'key-unknown-here' });
    const [foreign] = await new AesGcmPayloadCodec(loadPayloadKeys(other)).encode([defaultPayloadConverter.toPayload('x')]);
    const body = {
      payloads: [
        {
          metadata: Object.fromEntries(Object.entries(foreign!.metadata!).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
          data: Buffer.from(foreign!.data!).toString('base64'),
        },
      ],
    };
    expect(await error(await post('/decode', body))).toMatchObject({
      status: 400,
      error: expect.stringContaining('payload encrypted with key "key-unknown-here"'),
    });
    expect((await fetch(`${server.url}/decode`)).status).toBe(405);
    expect((await post('/elsewhere', { payloads: [] })).status).toBe(404);
  });
});
