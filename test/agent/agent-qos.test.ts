/**
 * Host QoS on a kernel without HFSC (this machine's: no sch_hfsc), on a namespaced host: the request fails
 * with tc's own refusal, and the change is rolled back whole, links and configuration; a safe configuration
 * with a QoS is restored at boot without it. Where the kernel has
 * HFSC, test/agent/full-kernel-qos.test.ts shows the trees themselves.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigStore } from '../../agent/persistence/config-store';
import { Capabilities } from '../../model/vdsm/capabilities';
import { JsonRpcCode, VdsmCode } from '../../model/vdsm/error-codes';
import { netnsUnavailableReason } from '../../testbed/netns';
import { AgentRpcError } from '../../vdsm/client/errors';
import { comparable, createAgentHost, type AgentHost } from '../helpers/agent-host';
import { skipBecause } from '../helpers/skip';

const unavailable = await netnsUnavailableReason();

describe.skipIf(skipBecause(unavailable, 'agent QoS tests'))('host QoS on a kernel without HFSC', () => {
  let h: AgentHost;
  beforeAll(async () => {
    h = await createAgentHost();
  });
  afterAll(async () => {
    await h?.close();
  });

  it("fails with tc's refusal, and puts the links and the configuration back", async () => {
    const before = comparable(await h.kernel());
    const stop = h.confirmContinuously();
    const err = await h.client
      .call('Host.setupNetworks', {
        networks: { qnet: { nic: 'eth1', bridged: 'true', hostQos: { out: { ls: { m2: 20 } } } } },
        bondings: {},
        options: { connectivityTimeout: 5 },
      })
      .catch((e: unknown) => e)
      .finally(stop);
    expect(err).toBeInstanceOf(AgentRpcError);
    expect((err as AgentRpcError).code).toBe(JsonRpcCode.INTERNAL_ERROR);
    expect((err as AgentRpcError).message).toMatch(
      /tc refused "qdisc add dev eth1 root handle 5001: hfsc default 1388": .*qdisc kind is unknown/,
    );
    expect(comparable(await h.kernel())).toEqual(before);
    const caps = Capabilities.parse(await h.client.call('Host.getCapabilities', {}));
    expect(caps.networks).toEqual({});
  });

  it('refuses a QoS on a device with a root qdisc hostprov did not set, naming it, and changes nothing, not even netConfigDirty', async () => {
    await h.host.exec(['tc', 'qdisc', 'add', 'dev', 'eth1', 'root', 'handle', '1:', 'htb', 'default', '30']);
    try {
      const before = comparable(await h.kernel());
      // Made dirty by the change before, and made safe here, so that a change would show.
      expect(await h.client.call('Host.setSafeNetworkConfig', {})).toBe(true);
      const err = await h.client
        .call('Host.setupNetworks', {
          networks: { qnet: { nic: 'eth1', bridged: 'true', hostQos: { out: { ls: { m2: 20 } } } } },
          bondings: {},
          options: { connectivityTimeout: 5 },
        })
        .catch((e: unknown) => e);
      expect((err as AgentRpcError).code).toBe(VdsmCode.BAD_PARAMS);
      expect((err as AgentRpcError).message).toMatch(/device eth1 has a root queueing discipline hostprov did not set \(htb 1:\)/);
      expect(comparable(await h.kernel())).toEqual(before);
      const caps = Capabilities.parse(await h.client.call('Host.getCapabilities', {}));
      expect(caps).toMatchObject({ networks: {}, netConfigDirty: 'False' });
      const qdisc = await h.host.exec(['tc', 'qdisc', 'show', 'dev', 'eth1']);
      expect(qdisc.stdout).toMatch(/^qdisc htb 1: root/);
    } finally {
      await h.host.exec(['tc', 'qdisc', 'del', 'dev', 'eth1', 'root']);
    }
  });

  it('a boot restores the rest of a safe configuration whose QoS it cannot set, journals why, and reports the network without one', async () => {
    // A safe configuration made where HFSC was there (a module since blacklisted, say), written while the agent is down.
    await h.restartAgent(true, async () => {
      await h.host.ip(['addr', 'flush', 'dev', 'eth1']);
      new ConfigStore(join(h.dir, 'state')).persistSafe({
        networks: {
          qnet: {
            nic: 'eth1',
            bridged: true,
            stp: false,
            mtu: 1500,
            bootproto: 'none',
            dhcpv6: false,
            ipv6autoconf: false,
            defaultRoute: false,
            nameservers: [],
            ipaddr: '198.18.251.10',
            prefix: 24,
            hostQos: { ls: 20 },
          },
        },
        bonds: {},
      });
    });
    const caps = Capabilities.parse(await h.client.call('Host.getCapabilities', {}));
    expect(caps.networks.qnet).toMatchObject({ iface: 'qnet', addr: '198.18.251.10' });
    expect(caps.networks.qnet?.hostQos).toBeUndefined();
    const restore = (await h.journal()).filter((r) => r.kind === 'restore').at(-1);
    expect(restore).toMatchObject({ outcome: 'failed' });
    expect(restore?.detail).toMatch(/safe networks: qnet; QoS not set: tc refused .*qdisc kind is unknown/);
  });
});
