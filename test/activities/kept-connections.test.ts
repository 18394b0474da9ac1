/**
 * The connection the short agent calls share (activities/kept-connections.ts), with the real VDSM client
 * against a real VDSM server over mutual TLS: calls in a row use one connection, an agent that restarted in
 * between is reached on a new session, and an unused connection is closed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectVdsmAgent, type AgentConnection, type ConnectAgent } from '../../activities/agent-connection';
import { KeptAgentConnections } from '../../activities/kept-connections';
import { startVdsmServer, type VdsmServer } from '../../vdsm/server';
import { createTestPki, type TestPki } from '../helpers/pki-fixture';
import { createTestVerbs, testLogger } from '../vdsm/test-verbs';

const connectionOf = async (c: AgentConnection): Promise<string> => (await c.call<{ connectionId: string }>('Test.context')).connectionId;

describe('KeptAgentConnections', () => {
  let pki: TestPki;
  const { verbs } = createTestVerbs();
  const servers: VdsmServer[] = [];
  const start = async (port = 0): Promise<VdsmServer> => {
    const server = await startVdsmServer({ listen: { host: '127.0.0.1', port }, tls: pki.agent, verbs, logger: testLogger() });
    servers.push(server);
    return server;
  };
  const endpointOf = (server: VdsmServer) => ({ host: '127.0.0.1', port: server.address.port, tls: pki.engine });
  /** The real client, counting the connections it opens and closes. */
  const counting = () => {
    const log = { opened: 0, closed: 0 };
    const connect: ConnectAgent = async (endpoint, options) => {
      const connection = await connectVdsmAgent(endpoint, options);
      log.opened += 1;
      return { call: (m, p, o) => connection.call(m, p, o), close: async () => ((log.closed += 1), connection.close()) };
    };
    return { connect, log };
  };

  beforeAll(async () => {
    pki = await createTestPki();
  });
  afterAll(async () => {
    for (const server of servers) await server.close();
    await pki?.cleanup();
  });

  it('runs calls in a row on one connection, and closes it once unused', async () => {
    const server = await start();
    const { connect, log } = counting();
    const kept = new KeptAgentConnections(connect, 200);
    const first = await kept.run(endpointOf(server), connectionOf);
    const second = await kept.run(endpointOf(server), connectionOf);
    const concurrent = await Promise.all([kept.run(endpointOf(server), connectionOf), kept.run(endpointOf(server), connectionOf)]);
    expect(new Set([first, second, ...concurrent]).size).toBe(1);
    expect(log.opened).toBe(1);
    await expect.poll(() => log.closed, { timeout: 5_000 }).toBe(1);
    expect(kept.size).toBe(0);
    // The next call opens a new one.
    expect(await kept.run(endpointOf(server), connectionOf)).not.toBe(first);
    await kept.closeAll();
  });

  it('reaches an agent that restarted in between on a new session of the kept connection', async () => {
    const before = await start();
    const port = before.address.port;
    const { connect, log } = counting();
    const kept = new KeptAgentConnections(connect, 60_000);
    const first = await kept.run(endpointOf(before), connectionOf);
    await before.close();
    const after = await start(port);
    const second = await kept.run(endpointOf(after), connectionOf);
    expect(second).not.toBe(first);
    expect(log.opened).toBe(1);
    await kept.closeAll();
    expect(log.closed).toBe(1);
  });

  it('with no idle time, opens and closes a connection for every call', async () => {
    const server = await start();
    const { connect, log } = counting();
    const kept = new KeptAgentConnections(connect, 0);
    const ids = [await kept.run(endpointOf(server), connectionOf), await kept.run(endpointOf(server), connectionOf)];
    expect(new Set(ids).size).toBe(2);
    expect(log).toEqual({ opened: 2, closed: 2 });
    expect(kept.size).toBe(0);
  });
});
