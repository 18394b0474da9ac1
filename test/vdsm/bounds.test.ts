/**
 * The agent transport's bounds (docs/vdsm-wire-protocol.md#limits), each driven by a bare peer over real
 * loopback sockets: heart-beat clamp, unescaped CONNECT headers, the connection cap (STOMP and TCP),
 * requests in flight, batch size and write backpressure (plain TCP and TLS).
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { JsonRpcCode } from '../../model/vdsm/error-codes';
import { AgentClient } from '../../vdsm/client/client';
import { AgentConnectionError } from '../../vdsm/client/errors';
import { startVdsmServer, type VdsmServer, type VdsmServerOptions } from '../../vdsm/server';
import { Destination } from '../../vdsm/stomp/destinations';
import { encodeFrame, frameText, unescapeHeader } from '../../vdsm/stomp/frame';
import { MAX_HEARTBEAT_MS, MIN_HEARTBEAT_MS, clampHeartbeatMs } from '../../vdsm/stomp/heart-beat';
import { createTestPki, type TestPki } from '../helpers/pki-fixture';
import { capturedLogs } from './captured-logs';
import { RawStompSocket, rpc } from './stomp/raw-stomp';
import { createTestVerbs, testLogger } from './test-verbs';

const servers: VdsmServer[] = [];
const sockets: RawStompSocket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  for (const server of servers.splice(0)) await server.close();
});

async function serve(options: Partial<VdsmServerOptions> = {}): Promise<{ server: VdsmServer; marks: unknown[] }> {
  const { verbs, marks } = createTestVerbs();
  const server = await startVdsmServer({
    listen: { host: '127.0.0.1', port: 0 },
    tls: 'insecure',
    verbs,
    logger: testLogger(),
    ...options,
  });
  servers.push(server);
  return { server, marks };
}

async function open(server: VdsmServer, tls?: Parameters<typeof RawStompSocket.open>[1]): Promise<RawStompSocket> {
  const socket = await RawStompSocket.open(server.address.port, tls);
  sockets.push(socket);
  return socket;
}

/** Connected and subscribed to `replyTo`. */
async function session(server: VdsmServer, replyTo: string): Promise<RawStompSocket> {
  const socket = await open(server);
  await socket.connect();
  await socket.subscribed(replyTo, `sub-${replyTo}`);
  return socket;
}

/** Names of the process warnings emitted while `body` runs (Node reports a timer it cut to 1 ms this way). */
async function processWarnings(body: () => Promise<void>): Promise<string[]> {
  const names: string[] = [];
  const onWarning = (warning: Error): void => {
    names.push(warning.name);
  };
  process.on('warning', onWarning);
  try {
    await body();
    // Warnings are emitted on the next tick; let them arrive.
    await new Promise((resolvePromise) => setImmediate(resolvePromise));
  } finally {
    process.off('warning', onWarning);
  }
  return names;
}

const nextTurn = (): Promise<void> => new Promise((resolvePromise) => setImmediate(resolvePromise));

describe('heart-beat clamp', () => {
  it('keeps 0 and clamps everything else into [1 s, 5 min]', () => {
    expect(
      [0, -5, Number.NaN, 1, 999, 1000, 15_000, 300_000, 300_001, 99_999_999_999, Number.POSITIVE_INFINITY].map(clampHeartbeatMs),
    ).toEqual([
      0,
      0,
      0,
      MIN_HEARTBEAT_MS,
      MIN_HEARTBEAT_MS,
      1000,
      15_000,
      MAX_HEARTBEAT_MS,
      MAX_HEARTBEAT_MS,
      MAX_HEARTBEAT_MS,
      MAX_HEARTBEAT_MS,
    ]);
  });

  it.each([
    ['0,99999999999', '300000,0'],
    ['99999999999,0', '0,300000'],
    [`${'9'.repeat(400)},${'9'.repeat(400)}`, '300000,300000'],
    ['500,200', '1000,1000'],
    ['0,15000', '15000,0'],
  ])('answers heart-beat %s with %s', async (requested, answered) => {
    const { server } = await serve();
    const socket = await open(server);
    expect((await socket.connect(requested)).headers['heart-beat']).toBe(answered);
  });

  it('makes no timer Node would cut to 1 ms, whatever the peer asks', async () => {
    const { server } = await serve();
    const warnings = await processWarnings(async () => {
      const socket = await open(server);
      await socket.connect('99999999999,99999999999');
      // One round trip after CONNECTED: the heart-beat timer exists by now.
      await socket.subscribed('after-connect', 'after-connect');
    });
    expect(warnings).not.toContain('TimeoutOverflowWarning');
  });

  describe('in the client', () => {
    let peer: Server;
    const peerSockets = new Set<Socket>();
    /** The first bytes the client sent on its last connection. */
    let firstFrame: Buffer | undefined;
    beforeAll(async () => {
      peer = createServer((socket) => {
        peerSockets.add(socket);
        socket.on('error', () => undefined);
        socket.once('close', () => peerSockets.delete(socket));
        socket.once('data', (chunk: Buffer) => {
          firstFrame = chunk;
          // An agent that claims to send a heart-beat every three years.
          socket.write('CONNECTED\nversion:1.2\nheart-beat:99999999999,0\n\n\0');
          // No RECEIPT for DISCONNECT: hanging up ends the client's wait at once.
          socket.on('data', (more: Buffer) => {
            if (more.includes('DISCONNECT')) socket.destroy();
          });
        });
      });
      // Both stacks, so a client may reach it by 127.0.0.1 or by ::1.
      await new Promise<void>((resolvePromise) => peer.listen({ host: '::', port: 0 }, resolvePromise));
    });
    afterAll(async () => {
      for (const socket of peerSockets) socket.destroy();
      await new Promise((resolvePromise) => peer.close(resolvePromise));
    });
    const port = (): number => (peer.address() as { port: number }).port;

    it('clamps the interval the agent announces before it drives the watchdog', async () => {
      const warnings = await processWarnings(async () => {
        const client = await AgentClient.connect(
          { host: '127.0.0.1', port: port(), tls: { insecure: true } },
          { logger: testLogger(), heartBeatMs: 15_000 },
        );
        await client.close();
      });
      expect(warnings).not.toContain('TimeoutOverflowWarning');
    });

    it('sends CONNECT headers unescaped', async () => {
      const client = await AgentClient.connect(
        { host: '127.0.0.1', port: port(), tls: { insecure: true } },
        { logger: testLogger(), hostHeader: 'engine:8443' },
      );
      await client.close();
      expect(firstFrame?.toString('utf8')).toMatch(/^CONNECT\n(.*\n)*host:engine:8443\n/);
    });

    it('writes the host of an IPv6 endpoint by default so that stock VDSM, which unescapes CONNECT too, reads it back', async () => {
      const client = await AgentClient.connect({ host: '::1', port: port(), tls: { insecure: true } }, { logger: testLogger() });
      await client.close();
      const host = /\nhost:([^\n]*)\n/.exec(firstFrame?.toString('utf8') ?? '')?.[1];
      expect(host).toBe('\\c\\c1');
      expect(unescapeHeader(host ?? '')).toBe('::1');
    });

    it('refuses a host header with an end of line before connecting', async () => {
      const err = await AgentClient.connect(
        { host: '127.0.0.1', port: port(), tls: { insecure: true } },
        { logger: testLogger(), hostHeader: 'x\nlogin:admin' },
      ).then(
        () => expect.unreachable('the header should have been refused'),
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(AgentConnectionError);
      expect((err as Error).message).toMatch(/end of line/);
    });
  });
});

describe('CONNECT headers', () => {
  it('reads them unescaped, so a host header with an IPv6 literal connects', async () => {
    const { server } = await serve();
    const socket = await open(server);
    socket.write('CONNECT\naccept-version:1.2\nhost:fe80::1%eth0\nheart-beat:0,1000\n\n\0');
    const connected = await socket.nextFrame();
    expect(connected.command).toBe('CONNECTED');
    expect(connected.headers['heart-beat']).toBe('1000,0');
  });

  it('serves a client that reaches the agent by an IPv6 literal', async () => {
    const { server } = await serve({ listen: { host: '::1', port: 0 } });
    const client = await AgentClient.connect({ host: '::1', port: server.address.port, tls: { insecure: true } }, { logger: testLogger() });
    try {
      expect(await client.call('Test.context')).toMatchObject({ localAddress: '::1', remoteAddress: '::1' });
    } finally {
      await client.close();
    }
  });

  it('still refuses a raw colon in the headers of any other frame', async () => {
    const { server } = await serve();
    const socket = await open(server);
    await socket.connect();
    socket.write('SUBSCRIBE\ndestination:urn:raw\nid:1\n\n\0');
    expect((await socket.nextFrame()).headers.message).toBe('Malformed frame');
    await socket.waitClosed();
  });
});

describe('connection cap', () => {
  it('answers a connection over the cap with ERROR "Too many connections", closes it, and serves again once one leaves', async () => {
    const { server } = await serve({ maxConnections: 2 });
    const first = await session(server, 'first');
    await session(server, 'second');
    const third = await open(server);
    const error = await third.nextFrame();
    expect(error.command).toBe('ERROR');
    expect(error.headers.message).toBe('Too many connections');
    expect(frameText(error)).toContain('at most 2');
    await third.waitClosed();
    expect(server.connections()).toBe(2);

    first.destroy();
    await expect.poll(() => server.connections()).toBe(1);
    const again = await session(server, 'again');
    again.request(rpc('Host.ping2', {}, 'again'), 'again');
    expect((await again.nextMessage()).json).toMatchObject({ id: 'again', result: true });
  });

  describe('over TLS', () => {
    let pki: TestPki;
    beforeAll(async () => {
      pki = await createTestPki();
    });
    afterAll(async () => {
      await pki?.cleanup();
    });

    it('tells a refused AgentClient why', async () => {
      const { server } = await serve({ tls: pki.agent, maxConnections: 1 });
      const endpoint = { host: '127.0.0.1', port: server.address.port, tls: pki.engine };
      const client = await AgentClient.connect(endpoint, { logger: testLogger() });
      try {
        const err = await AgentClient.connect(endpoint, { logger: testLogger() }).then(
          () => expect.unreachable('the second connection should have been refused'),
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(AgentConnectionError);
        expect((err as Error).message).toContain('Too many connections');
        expect(await client.call('Host.ping2')).toBe(true);
      } finally {
        await client.close();
      }
    });

    it('closes TCP connections beyond twice the cap at accept, while they would still owe a TLS handshake', async () => {
      const { lines, logger } = capturedLogs('warn');
      const { server } = await serve({ tls: pki.agent, maxConnections: 1, logger });
      // Two bare TCP connections that never start TLS: the backstop's worth (2 x 1).
      const silent = [await open(server), await open(server)];
      const extra = await open(server);
      await extra.waitClosed();
      // The handshake deadline (10 s) has not closed the others: the extra one was closed at accept.
      expect(silent.map((s) => s.isClosed)).toEqual([false, false]);
      expect(lines.some((line) => (JSON.parse(line) as { msg: string }).msg.includes('closed one at accept'))).toBe(true);
    });
  });
});

describe('requests in flight per connection', () => {
  it('answers a request over the limit with -32000 and does not run it; other connections are not affected', async () => {
    const { server } = await serve({ maxRequestsInFlight: 2 });
    const busy = await session(server, 'busy');
    busy.request(rpc('Test.slow', {}, 'slow-1'), 'busy');
    busy.request(rpc('Test.slow', {}, 'slow-2'), 'busy');
    busy.request(rpc('Test.mark', { value: 'over the limit' }, 'over'), 'busy');
    const refused = (await busy.nextMessage()).json as { id: string; error: { code: number; message: string } };
    expect(refused.id).toBe('over');
    expect(refused.error.code).toBe(JsonRpcCode.TOO_MANY_REQUESTS);
    expect(refused.error.message).toMatch(/Too many requests in flight.*at most 2/);

    const other = await session(server, 'other');
    other.request(rpc('Test.fast', {}, 'fast'), 'other');
    expect((await other.nextMessage()).json).toMatchObject({ id: 'fast', result: 'fast' });
    other.request(rpc('Test.release', {}, 'release'), 'other');
    await other.nextMessage();
    const answered = [(await busy.nextMessage()).json, (await busy.nextMessage()).json] as Array<{ id: string; result: unknown }>;
    expect(answered.map((a) => a.id).sort()).toEqual(['slow-1', 'slow-2']);

    // Slots are free again, and the refused request never ran.
    busy.request(rpc('Test.marks', {}, 'marks'), 'busy');
    expect((await busy.nextMessage()).json).toMatchObject({ id: 'marks', result: [] });
  });

  it('counts each member of a batch', async () => {
    const { server } = await serve({ maxRequestsInFlight: 2 });
    const socket = await session(server, 'batch');
    socket.request([rpc('Test.slow', {}, 's1'), rpc('Test.slow', {}, 's2'), rpc('Test.fast', {}, 'f3')], 'batch');
    const release = await session(server, 'release');
    release.request(rpc('Test.release', {}, 'r'), 'release');
    const answer = (await socket.nextMessage()).json as Array<{ id: string; result?: unknown; error?: { code: number } }>;
    expect(answer).toEqual([
      { jsonrpc: '2.0', id: 's1', result: 'slow' },
      { jsonrpc: '2.0', id: 's2', result: 'slow' },
      { jsonrpc: '2.0', id: 'f3', error: { code: JsonRpcCode.TOO_MANY_REQUESTS, message: expect.any(String) } },
    ]);
  });
});

describe('batch size', () => {
  it('refuses a batch over the limit as a whole: an array with -32001 for each request, nothing run', async () => {
    const { server, marks } = await serve({ maxBatchSize: 3 });
    const socket = await session(server, 'batch');
    const notification = { jsonrpc: '2.0', method: 'Test.mark', params: { value: 'n' } };
    socket.request(
      [rpc('Test.mark', { value: 1 }, 'm1'), rpc('Test.mark', { value: 2 }, 'm2'), notification, rpc('Test.mark', { value: 3 }, 3)],
      'batch',
    );
    const answer = (await socket.nextMessage()).json as Array<{ id: unknown; error: { code: number; message: string } }>;
    expect(answer.map((a) => [a.id, a.error.code])).toEqual([
      ['m1', JsonRpcCode.BATCH_TOO_LARGE],
      ['m2', JsonRpcCode.BATCH_TOO_LARGE],
      [3, JsonRpcCode.BATCH_TOO_LARGE],
    ]);
    expect(answer[0]!.error.message).toMatch(/4 requests, at most 3/);
    expect(marks).toEqual([]);

    socket.request(
      [rpc('Test.mark', { value: 1 }, 'a'), rpc('Test.mark', { value: 2 }, 'b'), rpc('Test.mark', { value: 3 }, 'c')],
      'batch',
    );
    expect(((await socket.nextMessage()).json as unknown[]).length).toBe(3);
    expect(marks).toEqual([1, 2, 3]);
  });
});

describe('write backpressure', () => {
  const LIMIT = 256 * 1024;
  const PAYLOAD = 'x'.repeat(64 * 1024);
  /** Upper bound of the loop, so a peer that is never dropped fails the test instead of filling memory. */
  const MAX_FRAMES = 1000;

  interface DropRecord {
    msg: string;
    queuedBytes: number;
    limitBytes: number;
  }
  const dropRecord = (lines: string[]): DropRecord | undefined =>
    lines.map((line) => JSON.parse(line) as DropRecord).find((line) => line.msg.includes('not reading'));

  /** A reader and a stalled peer, both subscribed to events; events go out until the stalled one is dropped. */
  async function eventsUntilDropped(tls?: Parameters<typeof RawStompSocket.open>[1], serverTls?: VdsmServerOptions['tls']): Promise<void> {
    const { lines, logger } = capturedLogs('warn');
    const { server } = await serve({ maxOutgoingBytes: LIMIT, logger, ...(serverTls ? { tls: serverTls } : {}) });
    const reader = await open(server, tls);
    await reader.connect();
    await reader.subscribed(Destination.EVENTS, 'reader');
    const stalled = await open(server, tls);
    await stalled.connect();
    await stalled.subscribed(Destination.EVENTS, 'stalled');
    stalled.socket.pause();

    let published = 0;
    while (server.connections() === 2) {
      if (published === MAX_FRAMES) throw new Error(`the stalled peer was still connected after ${MAX_FRAMES} events`);
      expect(server.publishEvent({ method: 'Test.event', params: { seq: published, payload: PAYLOAD } })).toBeGreaterThanOrEqual(1);
      published += 1;
      await nextTurn();
    }
    expect(server.publishEvent({ method: 'Test.event', params: { seq: published, payload: PAYLOAD } })).toBe(1);
    published += 1;

    // The reader got every event, in order, and stays connected.
    for (let seq = 0; seq < published; seq += 1) {
      expect(((await reader.nextMessage()).json as { params: { seq: number } }).params.seq).toBe(seq);
    }
    expect(reader.isClosed).toBe(false);
    // What waited for the stalled peer never exceeded the limit plus one frame.
    const frameBytes =
      encodeFrame({
        command: 'MESSAGE',
        headers: { destination: Destination.EVENTS },
        body: JSON.stringify({ params: { payload: PAYLOAD } }),
      }).length + 512;
    const drop = dropRecord(lines);
    expect(drop?.limitBytes).toBe(LIMIT);
    expect(drop?.queuedBytes).toBeGreaterThan(LIMIT);
    expect(drop?.queuedBytes).toBeLessThanOrEqual(LIMIT + frameBytes);
  }

  it('drops a subscriber that never reads, and keeps delivering every event to one that does', async () => {
    await eventsUntilDropped();
  });

  it('drops a peer that sends requests and never reads the answers', async () => {
    const { lines, logger } = capturedLogs('warn');
    const { server } = await serve({ maxOutgoingBytes: LIMIT, logger });
    const stalled = await session(server, 'stalled');
    stalled.socket.pause();
    let sent = 0;
    while (server.connections() === 1) {
      if (sent === MAX_FRAMES) throw new Error(`the stalled peer was still connected after ${MAX_FRAMES} requests`);
      stalled.request(rpc('Test.bulk', { bytes: PAYLOAD.length }, `bulk-${sent}`), 'stalled');
      sent += 1;
      await new Promise((resolvePromise) => setTimeout(resolvePromise, 1));
    }
    expect(dropRecord(lines)?.queuedBytes).toBeGreaterThan(LIMIT);
  });

  describe('over TLS', () => {
    let pki: TestPki;
    beforeAll(async () => {
      pki = await createTestPki();
    });
    afterAll(async () => {
      await pki?.cleanup();
    });

    it('drops a TLS subscriber that never reads, and keeps delivering to one that does', async () => {
      const tls = { cert: readFileSync(pki.engine.certFile), key: readFileSync(pki.engine.keyFile), ca: readFileSync(pki.engine.caFile) };
      await eventsUntilDropped(tls, pki.agent);
    });
  });
});
