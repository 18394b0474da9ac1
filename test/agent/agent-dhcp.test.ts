/**
 * The agent on a DHCP host (testbed: dnsmasq in its own namespace, the agent inside the host namespace):
 * it reports the OS's DHCP, builds a bridged DHCP management network over the NIC — taking the device over
 * from the OS's dhclient — and the bridge, carrying the NIC's MAC, gets the same lease.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentClient } from '../../vdsm/client/client';
import { isAlive } from '../../lib/process';
import { Capabilities } from '../../model/vdsm/capabilities';
import { createAgentLab, type AgentLab } from '../../testbed/agent-lab';
import { Netns } from '../../testbed/netns';
import { testbedUnavailableReason } from '../../testbed/requirements';
import { skipBecause } from '../helpers/skip';

const reason = await testbedUnavailableReason();

describe.skipIf(skipBecause(reason, 'agent DHCP tests'))('agent on a DHCP host', () => {
  let lab: AgentLab;
  let client: AgentClient;
  const dir = mkdtempSync(join(tmpdir(), 'hostprov-dhcp-'));

  beforeAll(async () => {
    lab = await createAgentLab({ stateDir: dir, hosts: [{ name: 'd1', factory: 'dhcp' }], tls: false });
    await lab.waitForAgents();
    client = await AgentClient.connect({ host: lab.testbed.host('d1').address, tls: { insecure: true } });
  });
  afterAll(async () => {
    await client?.close();
    await lab?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reports the NIC as DHCP-configured by the OS', async () => {
    const caps = Capabilities.parse(await client.call('Host.getCapabilities', {}));
    expect(caps.nics.eth0).toMatchObject({ dhcpv4: true, addr: lab.testbed.host('d1').address, ipv4defaultroute: true });
    expect(caps.lastClientIface).toBe('eth0');
  });

  it('builds a bridged DHCP network: the bridge gets the same lease, the OS client is stopped', async () => {
    const host = lab.testbed.host('d1');
    const osPidFile = join(host.runtimeDir, 'dhclient.eth0.pid');
    const osPid = Number(readFileSync(osPidFile, 'utf8').trim());
    expect(isAlive(osPid)).toBe(true);

    const events: string[] = [];
    const listener = await AgentClient.connect({ host: host.address, tls: { insecure: true } }, { onEvent: (e) => events.push(e.method) });
    // A call answered on the same connection proves its event subscription is in place.
    expect(await listener.call('Host.ping2')).toBe(true);

    let confirming = true;
    const confirmLoop = (async () => {
      while (confirming) {
        await AgentClient.connect({ host: host.address, tls: { insecure: true } }, { connectTimeoutMs: 2000 })
          .then(async (c) => {
            await c.call('Host.confirmConnectivity', {}, { timeoutMs: 2000 }).catch(() => undefined);
            await c.close();
          })
          .catch(() => undefined);
        await new Promise((r) => setTimeout(r, 300));
      }
    })();
    try {
      const params = {
        networks: { ovirtmgmt: { nic: 'eth0', bridged: 'true', bootproto: 'dhcp', defaultRoute: true } },
        bondings: {},
        options: { connectivityTimeout: 20 },
      };
      expect(await client.call('Host.setupNetworks', params, { timeoutMs: 60_000 })).toEqual({ code: 0, message: 'Done' });
    } finally {
      confirming = false;
      await confirmLoop;
    }

    expect(isAlive(osPid)).toBe(false);
    const ns = Netns.attach(host.namespace);
    const addresses = await ns.ipJson<
      Array<{ ifname: string; addr_info: Array<{ family: string; local: string; valid_life_time: number }> }>
    >(['-4', 'addr', 'show']);
    const byDev = Object.fromEntries(addresses.map((a) => [a.ifname, a.addr_info.map((i) => i.local)]));
    expect(byDev.ovirtmgmt).toEqual([host.address]);
    expect(byDev.eth0 ?? []).toEqual([]);
    const caps = Capabilities.parse(await client.call('Host.getCapabilities', {}));
    expect(caps.networks.ovirtmgmt).toMatchObject({
      bridged: true,
      dhcpv4: true,
      addr: host.address,
      ipv4defaultroute: true,
      southbound: 'eth0',
    });
    expect(existsSync(join(host.runtimeDir, 'agent', 'dhcp', 'ovirtmgmt.4.json'))).toBe(true);
    // the new lease is announced to event subscribers, as VDSM's DHCP monitor does
    const deadline = Date.now() + 10_000;
    while (!events.includes('|net|host_conn|no_id') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    await listener.close();
    expect(events).toContain('|net|host_conn|no_id');
  });
});
