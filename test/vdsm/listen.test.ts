/**
 * Where the agent's listener binds (vdsm/server.ts): `::`, the agent's default, is every address, IPv4
 * peers included, and binding it resolves nothing (net passes any host it is given through dns.lookup,
 * which an agent's start paid for in CPU: docs/performance.md#starting-the-agent). Other hosts go through
 * net as given. Real sockets on loopback.
 */
import dns from 'node:dns';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentClient } from '../../vdsm/client/client';
import { startVdsmServer, type VdsmServer } from '../../vdsm/server';
import { createTestVerbs, testLogger } from './test-verbs';

const realLookup = dns.lookup;
const looked: string[] = [];
const servers: VdsmServer[] = [];

function countLookups(): void {
  dns.lookup = ((hostname: string, ...rest: unknown[]) => {
    looked.push(hostname);
    return (realLookup as (...args: unknown[]) => unknown)(hostname, ...rest);
  }) as typeof dns.lookup;
}

afterEach(async () => {
  dns.lookup = realLookup;
  looked.length = 0;
  for (const server of servers.splice(0)) await server.close();
});

async function serve(host: string): Promise<VdsmServer> {
  const server = await startVdsmServer({
    listen: { host, port: 0 },
    tls: 'insecure',
    verbs: createTestVerbs().verbs,
    logger: testLogger(),
  });
  servers.push(server);
  return server;
}

/** A call from `host` over a fresh connection: what the server echoes. */
async function echoFrom(host: string, port: number): Promise<unknown> {
  const client = await AgentClient.connect({ host, port, tls: { insecure: true } }, { connectTimeoutMs: 2_000 });
  try {
    return await client.call('Test.echo', { a: host, b: port });
  } finally {
    await client.close();
  }
}

describe('the agent listener', () => {
  it('binds :: without resolving it, and serves IPv6 and IPv4 peers', async () => {
    countLookups();
    const server = await serve('::');
    expect(looked).toEqual([]);
    expect(server.address.host).toBe('::');
    const { port } = server.address;
    await expect(echoFrom('::1', port)).resolves.toEqual({ a: '::1', b: port });
    await expect(echoFrom('127.0.0.1', port)).resolves.toEqual({ a: '127.0.0.1', b: port });
  });

  it('binds another address as given: an IPv4 one takes no IPv6 peer', async () => {
    const server = await serve('127.0.0.1');
    const { port } = server.address;
    await expect(echoFrom('127.0.0.1', port)).resolves.toEqual({ a: '127.0.0.1', b: port });
    await expect(echoFrom('::1', port)).rejects.toThrow();
  });
});
