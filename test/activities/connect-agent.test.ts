/**
 * `createActivities({ connectAgent })`: every agent call of the activities goes through the factory it is
 * given, so a workflow test can answer for the host. A stand-in host here, beside the real agent in
 * setup-networks-with-confirm.test.ts and the workflow tests, which use the default VDSM client.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createActivities } from '../../activities';
import type { AgentConnection, ConnectAgent } from '../../activities/agent-connection';
import { SecretResolver } from '../../activities/secrets';
import type { HostProbe, InstallHostActivities, SetupNetworksOutcome } from '../../activities/types';
import { VdsmCode } from '../../model/vdsm/error-codes';
import { openStore } from '../../store/open';
import type { HostNetworkingStore } from '../../store/store';
import { AgentRpcError } from '../../vdsm/client/errors';
import type { AgentEndpoint } from '../../vdsm/client/endpoint';

const capabilities = JSON.parse(readFileSync(new URL('../fixtures/capabilities/static-nic.json', import.meta.url), 'utf8')) as Record<
  string,
  unknown
>;
// Loopback: should the factory be bypassed, the real client fails fast here instead of leaving the machine.
const endpoint = { host: '127.0.0.1', port: 1, tls: { insecure: true as const } };

type Answer = (method: string, params: unknown) => Promise<unknown>;

/** A stand-in host: answers calls with `answer` and records every connection and call. */
function standInHost(answer: Answer) {
  const log = { connections: [] as AgentEndpoint[], calls: [] as string[], closed: 0 };
  const connect: ConnectAgent = async (to) => {
    log.connections.push(to);
    const connection: AgentConnection = {
      call: async <T>(method: string, params?: unknown) => {
        log.calls.push(method);
        return (await answer(method, params)) as T;
      },
      close: async () => {
        log.closed += 1;
      },
    };
    return connection;
  };
  return { connect, log };
}

describe('activities with a stand-in host (createActivities connectAgent)', () => {
  let dir: string;
  let store: HostNetworkingStore;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hostprov-connect-agent-'));
    store = await openStore(join(dir, 'attachments.sqlite'));
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  // The stand-in's endpoint has no TLS, and no secret is resolved.
  const activities = (connectAgent: ConnectAgent, keepIdleMs?: number): InstallHostActivities =>
    createActivities({
      store,
      access: { secrets: new SecretResolver(), allowInsecureAgents: true },
      connectAgent,
      ...(keepIdleMs === undefined ? {} : { agent: { keepIdleMs, pollIntervalMs: 10 } }),
    });

  it('probes capabilities through the given factory, with the resolved endpoint, and closes the connection once idle', async () => {
    const host = standInHost(async (method) =>
      method === 'Host.getCapabilities' ? capabilities : Promise.reject(new Error(`unexpected ${method}`)),
    );
    const probe = (await new MockActivityEnvironment().run(activities(host.connect, 10).probeCapabilities, endpoint)) as HostProbe;
    expect(probe.capabilities.lastClientIface).toBe('eth0');
    expect(Object.keys(probe.capabilities.nics)).toContain('eth0');
    expect(host.log.calls).toEqual(['Host.getCapabilities']);
    expect(host.log.connections).toEqual([endpoint]);
    await vi.waitFor(() => expect(host.log.closed).toBe(1));
  });

  it('polls an agent that is not up yet every 100 ms at first, not at the interval (a host fenced a moment ago)', async () => {
    // The real client against a loopback port nobody listens on: every attempt is refused at once.
    const closed = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as AddressInfo;
        server.close(() => resolve(port));
      });
    });
    const acts = createActivities({ store, access: { secrets: new SecretResolver(), allowInsecureAgents: true } });
    const err = await new MockActivityEnvironment()
      .run(acts.waitForAgent, { endpoint: { ...endpoint, port: closed }, timeoutSeconds: 2 })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ type: 'AgentUnreachable' });
    // At the 1 s interval two seconds hold three attempts at most.
    const attempts = Number(/\((\d+) attempts/.exec((err as Error).message)?.[1]);
    expect(attempts).toBeGreaterThanOrEqual(6);
  });

  it('keeps one connection for the short calls to a host, and opens fresh ones for the agent wait only after a failure', async () => {
    let pings = 0;
    const host = standInHost(async (method) => {
      if (method === 'Host.getCapabilities') return capabilities;
      if (method === 'Host.getRoute') return { reachable: true, device: 'eth0' };
      if (method === 'Host.setSafeNetworkConfig') return {};
      if (method === 'Host.ping2')
        return ++pings === 1 ? Promise.reject(new AgentRpcError(VdsmCode.RECOVERING, 'recovering', method)) : true;
      throw new Error(`unexpected ${method}`);
    });
    const acts = activities(host.connect, 60_000);
    const env = new MockActivityEnvironment();
    await env.run(acts.waitForAgent, { endpoint, timeoutSeconds: 10 });
    await env.run(acts.probeCapabilities, endpoint);
    await env.run(acts.findRouteToManager, { endpoint, managerAddress: '127.0.0.1', hostAddress: '127.0.0.2' });
    await env.run(acts.setSafeNetworkConfig, endpoint);
    expect(host.log.calls).toEqual(['Host.ping2', 'Host.ping2', 'Host.getCapabilities', 'Host.getRoute', 'Host.setSafeNetworkConfig']);
    // The first ping and every later short call on the kept connection; the second ping on a fresh one.
    expect(host.log.connections).toHaveLength(2);
    expect(host.log.closed).toBe(1);
  });

  it('confirms setupNetworks over fresh connections from the factory while the call is in flight', async () => {
    let confirmed!: () => void;
    const twoConfirmations = new Promise<void>((r) => (confirmed = r));
    let confirmations = 0;
    const host = standInHost(async (method) => {
      if (method === 'Host.confirmConnectivity') {
        if (++confirmations === 2) confirmed();
        return {};
      }
      if (method === 'Host.setupNetworks') {
        await twoConfirmations;
        return {};
      }
      throw new Error(`unexpected ${method}`);
    });
    const outcome = (await new MockActivityEnvironment().run(activities(host.connect).setupNetworksWithConfirm, {
      endpoint,
      requestId: 'stand-in-1',
      networks: { ovirtmgmt: { nic: 'eth0', bridged: 'true', bootproto: 'dhcp' } },
      bondings: {},
      options: { connectivityCheck: 'true', connectivityTimeout: '10' },
      connectivityTimeoutSeconds: 10,
    })) as SetupNetworksOutcome;
    expect(outcome).toMatchObject({ status: 'applied', tookOverInFlight: false });
    // The host answered only after its second confirmation; the first had come back to the activity by then.
    expect(confirmations).toBeGreaterThanOrEqual(2);
    expect(outcome.confirmations).toBeGreaterThanOrEqual(1);
    expect(host.log.calls.filter((m) => m === 'Host.setupNetworks')).toHaveLength(1);
    // One connection for the call, one per confirmation, all closed.
    expect(host.log.connections.length).toBe(1 + host.log.calls.filter((m) => m === 'Host.confirmConnectivity').length);
    expect(host.log.closed).toBe(host.log.connections.length);
  });

  it('probeHost: asks for the capabilities and the route together on one kept connection', async () => {
    let answerCapabilities!: () => void;
    const capabilitiesHeld = new Promise<void>((r) => (answerCapabilities = r));
    const host = standInHost(async (method) => {
      if (method === 'Host.getCapabilities') {
        await capabilitiesHeld;
        return capabilities;
      }
      if (method === 'Host.getRoute') {
        // Asked while the capabilities are still unanswered: the two went out together.
        answerCapabilities();
        return { reachable: true, device: 'eth0', source: '198.18.1.10' };
      }
      throw new Error(`unexpected ${method}`);
    });
    const probed = await new MockActivityEnvironment().run(activities(host.connect, 60_000).probeHost, {
      endpoint,
      managerAddress: '127.0.0.1',
      hostAddress: '127.0.0.2',
    });
    expect(probed).toMatchObject({
      route: { kind: 'route', device: 'eth0', source: '198.18.1.10' },
      hostAddresses: ['127.0.0.2'],
      capabilities: { lastClientIface: 'eth0' },
    });
    expect(host.log.calls).toEqual(['Host.getCapabilities', 'Host.getRoute']);
    expect(host.log.connections).toHaveLength(1);
  });

  it('readCapabilitiesAfter: the apply reads the capabilities on its own session after the answer; a failed read only leaves them out', async () => {
    const apply = async (failRead: boolean) => {
      const sessions: string[][] = [];
      const connect: ConnectAgent = async () => {
        const calls: string[] = [];
        sessions.push(calls);
        return {
          call: async <T>(method: string) => {
            calls.push(method);
            if (method === 'Host.getCapabilities' && failRead) throw new AgentRpcError(VdsmCode.RECOVERING, 'recovering', method);
            return (method === 'Host.getCapabilities' ? capabilities : {}) as T;
          },
          close: async () => undefined,
        };
      };
      const outcome = (await new MockActivityEnvironment().run(activities(connect).setupNetworksWithConfirm, {
        endpoint,
        requestId: `read-back-${failRead}`,
        networks: { ovirtmgmt: { nic: 'eth0', bridged: 'true', bootproto: 'dhcp' } },
        bondings: {},
        options: { connectivityCheck: 'true', connectivityTimeout: '10', commitOnSuccess: true },
        connectivityTimeoutSeconds: 10,
        readCapabilitiesAfter: true,
      })) as SetupNetworksOutcome;
      return { outcome, sessions };
    };
    const read = await apply(false);
    expect(read.outcome).toMatchObject({ status: 'applied', capabilities: { lastClientIface: 'eth0' } });
    expect(read.sessions[0]).toEqual(['Host.setupNetworks', 'Host.getCapabilities']);

    const failed = await apply(true);
    expect(failed.outcome).toMatchObject({ status: 'applied' });
    expect(failed.outcome).not.toHaveProperty('capabilities');
    expect(failed.sessions[0]).toEqual(['Host.setupNetworks', 'Host.getCapabilities']);
  });

  it("reports the stand-in host's rollback (code 10) as the outcome, as with a real agent", async () => {
    const host = standInHost(async (method) => {
      if (method === 'Host.setupNetworks') throw new AgentRpcError(VdsmCode.LOST_CONNECTION, 'connectivity check failed', method);
      return {};
    });
    const outcome = await new MockActivityEnvironment().run(activities(host.connect).setupNetworksWithConfirm, {
      endpoint,
      requestId: 'stand-in-2',
      networks: { ovirtmgmt: { nic: 'eth0', bridged: 'true', bootproto: 'dhcp' } },
      bondings: {},
      options: { connectivityCheck: 'true', connectivityTimeout: '10' },
      connectivityTimeoutSeconds: 10,
    });
    expect(outcome).toMatchObject({ status: 'rolled-back', code: VdsmCode.LOST_CONNECTION });
  });
});
