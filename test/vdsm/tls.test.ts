/**
 * Mutual TLS between AgentClient and the agent with real openssl-made certificates (docs/vdsm-wire-protocol.md#tls-and-the-port),
 * and the explicit insecure mode.
 */
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startVdsmServer, type VdsmServer } from '../../vdsm/server';
import { AgentClient } from '../../vdsm/client/client';
import { AgentConnectionError } from '../../vdsm/client/errors';
import { INSECURE_WARNING } from '../../vdsm/tls';
import { createTestPki, type TestPki } from '../helpers/pki-fixture';
import { RawStompSocket, rpc } from './stomp/raw-stomp';
import { createTestVerbs, testLogger } from './test-verbs';
import { capturedLogs } from './captured-logs';

describe('agent over mutual TLS', () => {
  let pki: TestPki;
  let server: VdsmServer;
  const { verbs } = createTestVerbs();

  beforeAll(async () => {
    pki = await createTestPki();
    server = await startVdsmServer({ listen: { host: '127.0.0.1', port: 0 }, tls: pki.agent, verbs, logger: testLogger() });
  });
  afterAll(async () => {
    await server?.close();
    await pki?.cleanup();
  });

  const endpoint = (overrides: Partial<{ certFile: string; keyFile: string; caFile: string; serverName: string }> = {}) => ({
    host: '127.0.0.1',
    port: server.address.port,
    tls: { ...pki.engine, ...overrides },
  });
  const expectRefused = async (promise: Promise<unknown>): Promise<AgentConnectionError> => {
    const err = await promise.then(
      () => expect.unreachable('the connection should have been refused'),
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AgentConnectionError);
    return err as AgentConnectionError;
  };

  it('serves a client with a certificate from the agent CA', async () => {
    const client = await AgentClient.connect(endpoint(), { logger: testLogger() });
    try {
      expect(await client.call('Test.echo', { a: 'over tls' })).toEqual({ a: 'over tls' });
      expect(await client.call('Test.context')).toMatchObject({ localAddress: '127.0.0.1', remoteAddress: '127.0.0.1' });
    } finally {
      await client.close();
    }
  });

  it('verifies the agent certificate against a DNS name given as serverName', async () => {
    const client = await AgentClient.connect(endpoint({ serverName: 'localhost' }), { logger: testLogger() });
    await client.close();
  });

  it('refuses a client without a certificate', async () => {
    // With TLS 1.3 the client's side of the handshake can complete before the server has checked the
    // (missing) certificate, so refusal shows either as a failed handshake or as a closed STOMP session.
    const served = await RawStompSocket.open(server.address.port, { ca: readFileSync(pki.agent.caFile), servername: 'localhost' }).then(
      (socket) =>
        socket.connect().then(
          () => true,
          () => false,
        ),
      () => false,
    );
    expect(served).toBe(false);
  });

  it('refuses a client whose certificate comes from another CA', async () => {
    const err = await expectRefused(
      AgentClient.connect(endpoint({ certFile: pki.intruder.certFile, keyFile: pki.intruder.keyFile }), {
        logger: testLogger(),
        connectTimeoutMs: 5000,
      }),
    );
    expect(err.message).toContain(`127.0.0.1:${server.address.port}`);
  });

  it('refuses an agent whose certificate comes from another CA', async () => {
    const impostor = await startVdsmServer({ listen: { host: '127.0.0.1', port: 0 }, tls: pki.impostor, verbs, logger: testLogger() });
    try {
      const err = await expectRefused(
        AgentClient.connect({ host: '127.0.0.1', port: impostor.address.port, tls: pki.engine }, { logger: testLogger() }),
      );
      expect(err.reason).toMatch(/certificate/i);
    } finally {
      await impostor.close();
    }
  });

  it('refuses an agent whose certificate does not name the requested server', async () => {
    const err = await expectRefused(AgentClient.connect(endpoint({ serverName: 'other.example' }), { logger: testLogger() }));
    expect(err.reason).toMatch(/other\.example/);
  });

  it('does not speak STOMP without TLS', async () => {
    const socket = await RawStompSocket.open(server.address.port);
    socket.write('CONNECT\naccept-version:1.2\n\n\0');
    await socket.waitClosed();
    expect(socket.unread).toHaveLength(0);
  });

  describe('between connections (docs/performance.md#agent-connections)', () => {
    const call = async (port: number, tls: typeof pki.engine) => {
      const client = await AgentClient.connect({ host: '127.0.0.1', port, tls }, { logger: testLogger(), connectTimeoutMs: 5000 });
      try {
        const context = await client.call('Test.context');
        return { resumed: client.tlsResumed, context };
      } finally {
        await client.close();
      }
    };

    it('resumes the TLS session on the next connection to the same agent, still authenticated', async () => {
      const agent = await startVdsmServer({ listen: { host: '127.0.0.1', port: 0 }, tls: pki.agent, verbs, logger: testLogger() });
      try {
        const first = await call(agent.address.port, pki.engine);
        const second = await call(agent.address.port, pki.engine);
        expect(first.resumed).toBe(false);
        expect(second.resumed).toBe(true);
        expect(second.context).toMatchObject({ remoteAddress: '127.0.0.1' });
      } finally {
        await agent.close();
      }
    });

    it('falls back to a full handshake with an agent that restarted (new session keys)', async () => {
      const first = await startVdsmServer({ listen: { host: '127.0.0.1', port: 0 }, tls: pki.agent, verbs, logger: testLogger() });
      const port = first.address.port;
      await call(port, pki.engine);
      await first.close();
      const restarted = await startVdsmServer({ listen: { host: '127.0.0.1', port }, tls: pki.agent, verbs, logger: testLogger() });
      try {
        expect(await call(port, pki.engine)).toMatchObject({ resumed: false });
        expect(await call(port, pki.engine)).toMatchObject({ resumed: true });
      } finally {
        await restarted.close();
      }
    });

    it('reads client certificate files again when they change, and offers no session made with the old ones', async () => {
      const files = { certFile: join(pki.dir, 'rotating-cert.pem'), keyFile: join(pki.dir, 'rotating-key.pem'), caFile: pki.engine.caFile };
      copyFileSync(pki.engine.certFile, files.certFile);
      copyFileSync(pki.engine.keyFile, files.keyFile);
      await call(server.address.port, files);
      expect(await call(server.address.port, files)).toMatchObject({ resumed: true });
      // Rotated in place to a certificate the agent does not trust: the next connection must present it.
      copyFileSync(pki.intruder.certFile, files.certFile);
      copyFileSync(pki.intruder.keyFile, files.keyFile);
      await expectRefused(call(server.address.port, files));
    });
  });

  it('reports unreadable TLS files as a connection error naming the file', async () => {
    const err = await expectRefused(AgentClient.connect(endpoint({ certFile: `${pki.dir}/missing.pem` }), { logger: testLogger() }));
    expect(err.message).toContain('missing.pem');
  });
});

describe('agent handshake logging', () => {
  it('warns about a failed handshake, but not about a peer that connects and hangs up', async () => {
    const pki = await createTestPki();
    const { lines, logger } = capturedLogs('warn');
    const { verbs } = createTestVerbs();
    const server = await startVdsmServer({ listen: { host: '127.0.0.1', port: 0 }, tls: pki.agent, verbs, logger });
    const handshakeWarnings = () => lines.map((l) => JSON.parse(l) as { msg: string }).filter((l) => l.msg === 'TLS handshake failed');
    try {
      const probe = await RawStompSocket.open(server.address.port);
      probe.destroy();
      const plain = await RawStompSocket.open(server.address.port);
      plain.write('CONNECT\naccept-version:1.2\n\n\0');
      await plain.waitClosed();
      await expect.poll(() => handshakeWarnings().length).toBe(1);
      expect(lines.map((l) => (JSON.parse(l) as { msg: string }).msg)).not.toContain('peer closed before the TLS handshake');
    } finally {
      await server.close();
      await pki.cleanup();
    }
  });
});

describe('agent in insecure mode', () => {
  it('serves plain TCP and warns at startup and on every connection', async () => {
    const { lines, logger } = capturedLogs('warn');
    const { verbs } = createTestVerbs();
    const server = await startVdsmServer({ listen: { host: '127.0.0.1', port: 0 }, tls: 'insecure', verbs, logger });
    try {
      const warnings = () =>
        lines.map((line) => JSON.parse(line) as { level: number; msg: string }).filter((l) => l.msg.includes(INSECURE_WARNING));
      expect(warnings()).toHaveLength(1);
      const client = await AgentClient.connect(
        { host: '127.0.0.1', port: server.address.port, tls: { insecure: true } },
        { logger: testLogger() },
      );
      expect(await client.call('Host.ping2')).toBe(true);
      await client.close();
      const raw = await RawStompSocket.open(server.address.port);
      await raw.connect();
      raw.subscribe('r', 'r');
      raw.request(rpc('Host.ping2'), 'r');
      await raw.nextMessage();
      raw.destroy();
      expect(warnings()).toHaveLength(3);
      expect(warnings().every((w) => w.level === 40)).toBe(true);
    } finally {
      await server.close();
    }
  });
});
