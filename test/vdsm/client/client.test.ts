/**
 * AgentClient against a real agent server on loopback (insecure mode: TLS is covered in tls.test.ts), plus
 * bare TCP peers for agent misbehaviour that our server never shows (refused CONNECT, missed heart-beats).
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ZodError } from 'zod';
import { startVdsmServer, type VdsmServer } from '../../../vdsm/server';
import { AgentClient, withFreshConnection } from '../../../vdsm/client/client';
import {
  AgentConnectionError,
  AgentRpcError,
  AgentTimeoutError,
  DuplicateCallIdError,
  isMethodNotFound,
} from '../../../vdsm/client/errors';
import type { AgentEvent } from '../../../vdsm/verbs';
import { freePort } from '../../../lib/ports';
import { JsonRpcCode, VdsmCode } from '../../../model/vdsm/error-codes';
import { createTestVerbs, testLogger } from '../test-verbs';

const insecure = (port: number) => ({ host: '127.0.0.1', port, tls: { insecure: true as const } });
const options = { logger: testLogger() };

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.unreachable('expected a rejection'),
    (err: unknown) => err,
  );
}

/** Polls `condition` (the server reacts asynchronously to a client closing); fails after a generous bound. */
async function eventually(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i += 1) await new Promise((r) => setTimeout(r, 25));
  if (!condition()) throw new Error(`never happened: ${what}`);
}

describe('AgentClient', () => {
  const { verbs } = createTestVerbs();
  let server: VdsmServer;

  beforeAll(async () => {
    server = await startVdsmServer({ listen: { host: '127.0.0.1', port: 0 }, tls: 'insecure', verbs, logger: testLogger() });
  });
  afterAll(async () => {
    await server.close();
  });

  it('resolves with the result, for named and positional params', async () => {
    const client = await AgentClient.connect(insecure(server.address.port), options);
    try {
      expect(await client.call('Test.echo', { a: 1, b: [2] })).toEqual({ a: 1, b: [2] });
      expect(await client.call('Test.echo', ['x', 'y'])).toEqual({ a: 'x', b: 'y' });
      expect(await client.call('Host.ping2')).toBe(true);
    } finally {
      await client.close();
    }
  });

  it('sends the caller id and flow id, and a fresh UUID otherwise', async () => {
    const client = await AgentClient.connect(insecure(server.address.port), options);
    try {
      expect(await client.call('Test.context', {}, { id: 'install-host-42/setupNetworks', flowId: 'flow-9' })).toMatchObject({
        requestId: 'install-host-42/setupNetworks',
        flowId: 'flow-9',
      });
      const ctx = (await client.call('Test.context')) as { requestId: string };
      expect(ctx.requestId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    } finally {
      await client.close();
    }
  });

  it('rejects with AgentRpcError carrying the VDSM code and the method', async () => {
    const client = await AgentClient.connect(insecure(server.address.port), options);
    try {
      const err = await rejection(client.call('Test.vdsmFailure'));
      expect(err).toBeInstanceOf(AgentRpcError);
      expect(err).toMatchObject({ code: VdsmCode.LOST_CONNECTION, rpcMessage: 'connectivity check failed', method: 'Test.vdsmFailure' });
      expect(isMethodNotFound(err)).toBe(false);
    } finally {
      await client.close();
    }
  });

  it('recognises an unknown method with isMethodNotFound', async () => {
    const client = await AgentClient.connect(insecure(server.address.port), options);
    try {
      const err = await rejection(client.call('Host.getNetworkCapabilities'));
      expect(err).toMatchObject({ code: JsonRpcCode.METHOD_NOT_FOUND });
      expect(isMethodNotFound(err)).toBe(true);
    } finally {
      await client.close();
    }
  });

  it('rejects with AgentTimeoutError and stays usable', async () => {
    const client = await AgentClient.connect(insecure(server.address.port), options);
    try {
      const err = await rejection(client.call('Test.never', {}, { timeoutMs: 200 }));
      expect(err).toBeInstanceOf(AgentTimeoutError);
      expect(err).toMatchObject({ method: 'Test.never', timeoutMs: 200 });
      expect(await client.call('Host.ping2')).toBe(true);
    } finally {
      await client.close();
    }
  });

  it('refuses a second call with an id that is still waiting', async () => {
    const client = await AgentClient.connect(insecure(server.address.port), options);
    try {
      const first = client.call('Test.never', {}, { id: 'same', timeoutMs: 500 });
      await expect(client.call('Host.ping2', {}, { id: 'same' })).rejects.toBeInstanceOf(DuplicateCallIdError);
      await expect(first).rejects.toBeInstanceOf(AgentTimeoutError);
      // Once the first call is over, the id may be reused (a retry).
      expect(await client.call('Test.context', {}, { id: 'same' })).toMatchObject({ requestId: 'same' });
    } finally {
      await client.close();
    }
  });

  it('runs calls concurrently on one connection', async () => {
    const client = await AgentClient.connect(insecure(server.address.port), options);
    try {
      const slow = client.call('Test.slow');
      expect(await client.call('Test.fast')).toBe('fast');
      await client.call('Test.release');
      expect(await slow).toBe('slow');
    } finally {
      await client.close();
    }
  });

  it('delivers events to onEvent', async () => {
    const events: AgentEvent[] = [];
    const client = await AgentClient.connect(insecure(server.address.port), { ...options, onEvent: (e) => events.push(e) });
    try {
      await client.call('Host.ping2'); // the SUBSCRIBE frames are processed by now
      server.publishEvent({ method: '|net|host_conn|no_id', params: {} });
      await eventually(() => events.length > 0, 'event delivered');
      expect(events).toEqual([{ method: '|net|host_conn|no_id', params: { notify_time: expect.any(Number) } }]);
    } finally {
      await client.close();
    }
  });

  it('fails pending calls on close and refuses calls afterwards', async () => {
    const client = await AgentClient.connect(insecure(server.address.port), options);
    const pending = client.call('Test.never');
    await client.close();
    await expect(pending).rejects.toBeInstanceOf(AgentConnectionError);
    await expect(client.call('Host.ping2')).rejects.toThrow(/client is closed/);
  });

  it('withFreshConnection runs the function on a new connection and always closes it', async () => {
    await eventually(() => server.connections() === 0, 'earlier clients gone');
    expect(await withFreshConnection(insecure(server.address.port), (c) => c.call('Test.echo', { a: 'once' }), options)).toEqual({
      a: 'once',
    });
    await expect(
      withFreshConnection(
        insecure(server.address.port),
        async (c) => {
          expect(server.connections()).toBe(1);
          await c.call('Host.nope');
        },
        options,
      ),
    ).rejects.toSatisfy(isMethodNotFound);
    await eventually(() => server.connections() === 0, 'connections closed');
  });

  it('validates the endpoint with zod', async () => {
    await expect(AgentClient.connect({ host: '127.0.0.1', port: 70_000, tls: { insecure: true } })).rejects.toBeInstanceOf(ZodError);
    await expect(AgentClient.connect({ host: '', tls: { insecure: true } })).rejects.toBeInstanceOf(ZodError);
    await expect(AgentClient.connect({ host: 'h', tls: { certFile: 'c.pem' } } as never)).rejects.toBeInstanceOf(ZodError);
  });
});

describe('AgentClient connection failures', () => {
  it('rejects with AgentConnectionError naming the endpoint when nothing listens', async () => {
    const port = await freePort();
    const err = await rejection(AgentClient.connect(insecure(port), options));
    expect(err).toBeInstanceOf(AgentConnectionError);
    expect((err as Error).message).toContain(`127.0.0.1:${port} (insecure)`);
    expect((err as Error).message).toMatch(/ECONNREFUSED/);
  });

  it('fails pending calls when the agent goes away and reconnects on the next call, counting the sessions', async () => {
    const { verbs } = createTestVerbs();
    const first = await startVdsmServer({ listen: { host: '127.0.0.1', port: 0 }, tls: 'insecure', verbs, logger: testLogger() });
    const { port } = first.address;
    const client = await AgentClient.connect(insecure(port), options);
    let second: VdsmServer | undefined;
    try {
      expect(await client.call('Host.ping2')).toBe(true);
      expect(client.sessionsOpened).toBe(1);
      const pending = client.call('Test.never');
      await first.close();
      const err = await rejection(pending);
      expect(err).toBeInstanceOf(AgentConnectionError);
      // Nobody listens now: the next call tries to reconnect and says so.
      await expect(client.call('Host.ping2')).rejects.toThrow(/ECONNREFUSED/);
      second = await startVdsmServer({ listen: { host: '127.0.0.1', port }, tls: 'insecure', verbs, logger: testLogger() });
      expect(await client.call('Test.echo', { a: 'again' })).toEqual({ a: 'again' });
      expect(second.connections()).toBe(1);
      // What a subscriber reads to know it missed the events sent in between (activities/refresh.ts).
      expect(client.sessionsOpened).toBe(2);
    } finally {
      await client.close();
      await second?.close();
    }
  });

  it('reports the STOMP ERROR that preceded the agent closing the connection', async () => {
    const { verbs } = createTestVerbs();
    const server = await startVdsmServer({
      listen: { host: '127.0.0.1', port: 0 },
      tls: 'insecure',
      verbs,
      maxFrameBytes: 4096,
      logger: testLogger(),
    });
    const client = await AgentClient.connect(insecure(server.address.port), options);
    try {
      const err = await rejection(client.call('Test.echo', { a: 'x'.repeat(10_000) }));
      expect(err).toBeInstanceOf(AgentConnectionError);
      expect((err as Error).message).toContain('Frame too large');
      expect(await client.call('Test.echo', { a: 'small' })).toEqual({ a: 'small' });
    } finally {
      await client.close();
      await server.close();
    }
  });

  describe('against a misbehaving peer', () => {
    let peer: Server;
    let port: number;
    /** What the bare peer does with each connection. */
    let behaviour: (socket: Socket) => void = () => undefined;
    const sockets = new Set<Socket>();

    beforeAll(async () => {
      peer = createServer((socket) => {
        sockets.add(socket);
        socket.on('error', () => undefined);
        socket.once('close', () => sockets.delete(socket));
        behaviour(socket);
      });
      await new Promise<void>((resolvePromise) => peer.listen({ host: '127.0.0.1', port: 0 }, resolvePromise));
      port = (peer.address() as { port: number }).port;
    });
    afterAll(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolvePromise) => peer.close(resolvePromise));
    });

    it('reports a refused STOMP CONNECT with the ERROR message', async () => {
      behaviour = (socket) =>
        socket.once('data', () => socket.end('ERROR\nmessage:Version unsupported\ncontent-length:19\n\nVersion unsupported\0'));
      const err = await rejection(AgentClient.connect(insecure(port), options));
      expect(err).toBeInstanceOf(AgentConnectionError);
      expect((err as Error).message).toContain('Version unsupported');
    });

    it('gives up when CONNECTED does not come within connectTimeoutMs', async () => {
      behaviour = () => undefined;
      const err = await rejection(AgentClient.connect(insecure(port), { ...options, connectTimeoutMs: 300 }));
      expect(err).toBeInstanceOf(AgentConnectionError);
      expect((err as Error).message).toMatch(/within 300 ms/);
    });

    it('drops the session when the agent stops sending heart-beats', async () => {
      // CONNECTED promises a heart-beat every second, then the peer goes silent.
      behaviour = (socket) => socket.once('data', () => socket.write('CONNECTED\nversion:1.2\nheart-beat:1000,0\n\n\0'));
      const client = await AgentClient.connect(insecure(port), { ...options, heartBeatMs: 1000 });
      try {
        const err = await rejection(client.call('Host.ping2', {}, { timeoutMs: 60_000 }));
        expect(err).toBeInstanceOf(AgentConnectionError);
        expect((err as Error).message).toMatch(/no heart-beat/);
      } finally {
        await client.close();
      }
    });
  });
});
