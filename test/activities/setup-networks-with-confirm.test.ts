/**
 * The setupNetworks activity against a real agent on a namespaced host, through a relay whose connections
 * are cut while the call is in flight: the activity reconnects, sends the same request id, the agent joins
 * the running request, and the host applies exactly once.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSetupNetworksActivity } from '../../activities/setup-networks-with-confirm';
import { netnsUnavailableReason } from '../../testbed/netns';
import { createAgentHost, MGMT_SUBNET, type AgentHost } from '../helpers/agent-host';
import { skipBecause } from '../helpers/skip';
import { startTcpRelay, type TcpRelay } from '../helpers/tcp-relay';

const unavailable = await netnsUnavailableReason();

describe.skipIf(skipBecause(unavailable, 'setupNetworks activity tests'))('setupNetworksWithConfirm', () => {
  let h: AgentHost;
  let relay: TcpRelay;
  beforeAll(async () => {
    h = await createAgentHost();
    relay = await startTcpRelay({ host: '127.0.0.1', port: h.agent.address.port }, { holdAfterFirst: true });
  });
  afterAll(async () => {
    await relay?.close();
    await h?.close();
  });

  it('survives the session dying mid-call: same request id, one apply, confirmed', async () => {
    const activity = createSetupNetworksActivity({ confirmIntervalMs: 200 });
    const requestId = `relay-${Date.now()}`;
    const env = new MockActivityEnvironment();
    const input = {
      endpoint: { host: '127.0.0.1', port: relay.port, tls: { insecure: true as const } },
      requestId,
      networks: { ovirtmgmt: { nic: 'eth0', bridged: 'true', ipaddr: MGMT_SUBNET.host, netmask: '255.255.255.0', gateway: MGMT_SUBNET.gateway, defaultRoute: true } },
      bondings: {},
      options: { connectivityCheck: 'true', connectivityTimeout: '20' },
      connectivityTimeoutSeconds: 20,
    };
    // The relay forwards only the first connection (the setupNetworks session) and holds the confirm polls,
    // so the call is certainly still waiting for a confirmation when its session is cut.
    const running = env.run(activity, input);
    const deadline = Date.now() + 10_000;
    while (!(await h.journal()).some((e) => e.kind === 'apply' && e.requestId === requestId)) {
      if (Date.now() > deadline) throw new Error('setupNetworks never reached the agent');
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(relay.cutAll()).toBeGreaterThan(0);
    relay.release();
    const outcome = await running;
    expect(outcome).toMatchObject({ status: 'applied', tookOverInFlight: true });
    expect((await h.journal()).filter((e) => e.kind === 'apply' && e.requestId === requestId)).toHaveLength(1);
    expect((await h.kernel()).links.find((l) => l.name === 'ovirtmgmt')).toBeDefined();
  });
});
