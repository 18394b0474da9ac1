/**
 * The remote codec endpoint of the Temporal Web UI and CLI (`temporal ... --codec-endpoint`): `POST /decode`
 * and `POST /encode` with a body `{"payloads": [{"metadata": {"k": "<base64>"}, "data": "<base64>"}]}`
 * (proto3 JSON, every bytes field base64), answered in the same shape after the payload codec ran. The
 * UI sends it from the browser, so the UI's origin must be allowed (CORS); other origins are refused.
 *
 * Whoever can call it can read every payload: it listens on loopback by default, and can require a bearer
 * token (`Authorization: Bearer <token>`, compared in constant time). Bodies are validated with zod and
 * capped in size and payload count.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Payload } from '@temporalio/common';
import { z } from 'zod';
import type { Logger } from '../logger';
import { AesGcmPayloadCodec, PayloadDecryptionError, UnknownPayloadKeyError } from './payload-codec';
import type { PayloadKeyRing } from './payload-keys';

/** The dev server's Web UI (`temporal server start-dev` on its default port). */
export const DEFAULT_UI_ORIGIN = 'http://localhost:8233';
/** @default 4 MiB: a history page of payloads, well above Temporal's 2 MiB per payload. */
export const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;
/** @default 1000 */
export const DEFAULT_MAX_PAYLOADS = 1000;

export interface CodecServerOptions {
  keys: PayloadKeyRing;
  /** @default '127.0.0.1' */
  host?: string;
  /** 0 picks a free port. */
  port: number;
  /** Origins (scheme://host[:port]) whose pages may call the endpoint. @default [DEFAULT_UI_ORIGIN] */
  allowedOrigins?: readonly string[];
  /** When set, every encode/decode needs `Authorization: Bearer <token>`. */
  token?: string | null;
  /** @default DEFAULT_MAX_BODY_BYTES */
  maxBodyBytes?: number;
  /** @default DEFAULT_MAX_PAYLOADS */
  maxPayloads?: number;
  log: Logger;
}

export interface RunningCodecServer {
  /** `http://host:port`, what `--ui-codec-endpoint` and `--codec-endpoint` take. */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** An origin as browsers send it: scheme, host and port only. */
export const Origin = z.string().refine((value) => {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === value;
  } catch {
    return false;
  }
}, 'an origin is scheme://host[:port], without a path or a trailing slash (e.g. http://localhost:8233)');

const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64');
const JsonPayload = z.object({
  metadata: z.record(z.string().min(1).max(256), base64).optional(),
  data: base64.optional(),
});
const body = (maxPayloads: number) =>
  z.object({ payloads: z.array(JsonPayload).max(maxPayloads, `at most ${maxPayloads} payloads per request`) });

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const ALLOWED_HEADERS = 'Content-Type, X-Namespace, Authorization';

export async function startCodecServer(options: CodecServerOptions): Promise<RunningCodecServer> {
  const host = options.host ?? '127.0.0.1';
  const allowed = new Set(options.allowedOrigins ?? [DEFAULT_UI_ORIGIN]);
  for (const origin of allowed) Origin.parse(origin);
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const schema = body(options.maxPayloads ?? DEFAULT_MAX_PAYLOADS);
  const codec = new AesGcmPayloadCodec(options.keys);
  const expected = options.token ? digest(`Bearer ${options.token}`) : null;
  const log = options.log;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const origin = req.headers.origin;
    if (origin !== undefined) {
      if (!allowed.has(origin)) throw new HttpError(403, `origin ${origin} is not allowed (allowed: ${[...allowed].join(', ')})`);
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Access-Control-Allow-Credentials', 'true');
      res.setHeader('Vary', 'Origin');
    }
    const path = new URL(req.url ?? '/', 'http://codec').pathname;
    const operation = path === '/decode' ? 'decode' : path === '/encode' ? 'encode' : null;
    if (!operation) throw new HttpError(404, `no ${path} here: POST /encode or /decode`);
    if (req.method === 'OPTIONS') {
      // The browser's preflight carries no credentials; the request that follows must.
      res
        .writeHead(204, {
          'Access-Control-Allow-Methods': 'POST, OPTIONS',
          'Access-Control-Allow-Headers': ALLOWED_HEADERS,
          'Access-Control-Max-Age': '600',
        })
        .end();
      return;
    }
    if (req.method !== 'POST') throw new HttpError(405, `${req.method} ${path}: only POST`);
    if (expected && !authorised(req.headers.authorization, expected)) {
      res.setHeader('WWW-Authenticate', 'Bearer');
      throw new HttpError(401, 'a valid Authorization: Bearer <token> header is required');
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse((await readBody(req, maxBodyBytes)).toString('utf8'));
    } catch (err) {
      if (err instanceof HttpError) throw err;
      throw new HttpError(400, 'the body is not JSON');
    }
    const request = schema.safeParse(parsed);
    if (!request.success)
      throw new HttpError(400, request.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
    const payloads = request.data.payloads.map(fromJson);
    let result: Payload[];
    try {
      result = operation === 'decode' ? await codec.decode(payloads) : await codec.encode(payloads);
    } catch (err) {
      if (err instanceof UnknownPayloadKeyError || err instanceof PayloadDecryptionError) throw new HttpError(400, err.message);
      throw err;
    }
    log.debug({ operation, payloads: payloads.length, namespace: req.headers['x-namespace'] }, 'codec request');
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ payloads: result.map(toJson) }));
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      const status = err instanceof HttpError ? err.status : 500;
      if (status === 500) log.error({ err }, 'codec request failed');
      else log.debug({ status, message: (err as Error).message }, 'codec request refused');
      if (!res.headersSent) res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ error: status === 500 ? 'internal error' : (err as Error).message }));
      // An oversized body is not read to its end; do not keep the connection around for the rest.
      if (status === 413) req.destroy();
    });
  });
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  await new Promise<void>((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen({ host, port: options.port }, () => resolvePromise());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  log.info(
    { url, allowedOrigins: [...allowed], token: Boolean(expected), primaryKey: options.keys.primaryId, keys: options.keys.keys.size },
    'codec server listening',
  );
  return {
    url,
    port,
    close: () =>
      new Promise<void>((resolvePromise) => {
        server.close(() => resolvePromise());
        server.closeAllConnections();
      }),
  };
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** Compares digests, so neither the comparison time nor a length difference tells anything about the token. */
function authorised(header: string | undefined, expected: Buffer): boolean {
  return timingSafeEqual(digest(header ?? ''), expected);
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(new HttpError(413, `the body exceeds ${limit} bytes`));
  return new Promise((resolvePromise, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        reject(new HttpError(413, `the body exceeds ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolvePromise(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function fromJson(payload: z.infer<typeof JsonPayload>): Payload {
  return {
    metadata: Object.fromEntries(Object.entries(payload.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
    data: Buffer.from(payload.data ?? '', 'base64'),
  };
}

function toJson(payload: Payload): { metadata: Record<string, string>; data: string } {
  return {
    metadata: Object.fromEntries(
      Object.entries(payload.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? new Uint8Array()).toString('base64')]),
    ),
    data: Buffer.from(payload.data ?? new Uint8Array()).toString('base64'),
  };
}
