/**
 * vdsm/server.ts `whileConnected`: started when the listener goes from no connection to one, ended when the
 * last one closes and at close(), never twice at once. The agent runs its event-loop stall watch with it
 * (test/agent/agent-stall-log.test.ts shows that on a real agent process). Real sockets on loopback.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { AgentClient } from '../../vdsm/client/client';
import { startVdsmServer, type VdsmServer } from '../../vdsm/server';
import { createTestVerbs, testLogger } from './test-verbs';

const servers: VdsmServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
});

/** A server whose hook records `start` and `end` in order. */
async function serveRecording(): Promise<{ server: VdsmServer; seen: string[] }> {
  const seen: string[] = [];
  const server = await startVdsmServer({
    listen: { host: '127.0.0.1', port: 0 },
    tls: 'insecure',
    verbs: createTestVerbs().verbs,
    logger: testLogger(),
    whileConnected: () => {
      seen.push('start');
      return () => seen.push('end');
    },
  });
  servers.push(server);
  return { server, seen };
}

const connect = (server: VdsmServer) => AgentClient.connect({ ...server.address, tls: { insecure: true } }, { connectTimeoutMs: 2_000 });

async function until(what: string, done: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('work done while a client is connected', () => {
  it('starts with the first connection and ends with the last, once for overlapping ones', async () => {
    const { server, seen } = await serveRecording();
    expect(seen).toEqual([]);
    const first = await connect(server);
    const second = await connect(server);
    expect(await first.call('Test.echo', { a: 1 })).toEqual({ a: 1 });
    expect(seen).toEqual(['start']);
    await first.close();
    await until('the first connection to close on the server', () => server.connections() === 1);
    expect(seen).toEqual(['start']);
    await second.close();
    await until('the hook to end', () => seen.length === 2);
    expect(seen).toEqual(['start', 'end']);

    // A later connection starts it again.
    const third = await connect(server);
    expect(seen).toEqual(['start', 'end', 'start']);
    await third.close();
    await until('the hook to end again', () => seen.length === 4);
    expect(seen).toEqual(['start', 'end', 'start', 'end']);
  });

  it('ends at close() with a client still connected', async () => {
    const { server, seen } = await serveRecording();
    const client = await connect(server);
    expect(seen).toEqual(['start']);
    await server.close();
    expect(seen).toEqual(['start', 'end']);
    await client.close().catch(() => undefined);
    expect(seen).toEqual(['start', 'end']);
  });
});
