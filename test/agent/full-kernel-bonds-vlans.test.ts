/**
 * The agent's setupNetworks on a real kernel with bonds and VLANs: a full-kernel testbed host (a User-Mode
 * Linux guest, testbed/uml/) running the agent from its bundle, driven over the real client. This
 * machine's kernel has no bonding or 8021q, so the namespace tests cannot reach these paths. What the host
 * reports in Host.getCapabilities is read from its kernel (`ip -j -d`), so "as before" compares reports.
 * One guest for the whole file: each boot costs seconds and Node runs about 15 times slower inside. The
 * agent runs independent stacks in two `ip -batch` processes at once, as on a host with two CPUs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Capabilities } from '../../model/vdsm/capabilities';
import { VdsmCode } from '../../model/vdsm/error-codes';
import { createAgentLab, type AgentLab } from '../../testbed/agent-lab';
import { testbedUnavailableReason } from '../../testbed/requirements';
import { umlUnavailableReason } from '../../testbed/uml/kernel';
import { AgentClient } from '../../vdsm/client/client';
import { AgentRpcError } from '../../vdsm/client/errors';
import { macsLearnedFor, nicMac } from '../helpers/arp';
import { run } from '../../lib/process';
import { skipBecause } from '../helpers/skip';

const reason = (await testbedUnavailableReason()) ?? (await umlUnavailableReason());
const TIMEOUT_MS = 300_000;

/** The parts of a report that bonds, VLANs, bridges and MTUs change. */
function stack(caps: Capabilities): unknown {
  return {
    bondings: Object.fromEntries(
      Object.entries(caps.bondings).map(([n, b]) => [n, { slaves: b.slaves, opts: b.opts, mtu: b.mtu, hwaddr: b.hwaddr }]),
    ),
    vlans: Object.fromEntries(
      Object.entries(caps.vlans).map(([n, v]) => [n, { iface: v.iface, vlanid: v.vlanid, mtu: v.mtu, addr: v.addr }]),
    ),
    bridges: Object.fromEntries(Object.entries(caps.bridges).map(([n, b]) => [n, { ports: b.ports, mtu: b.mtu }])),
    nics: Object.fromEntries(Object.entries(caps.nics).map(([n, nic]) => [n, { mtu: nic.mtu, hwaddr: nic.hwaddr }])),
    networks: Object.keys(caps.networks).sort(),
  };
}

describe.skipIf(skipBecause(reason, 'bond and VLAN tests on a full-kernel host'))(
  'setupNetworks with bonds and VLANs on a real kernel',
  () => {
    let lab: AgentLab;
    let client: AgentClient;
    let confirming = true;
    const dir = mkdtempSync(join(tmpdir(), 'hostprov-fullkernel-'));
    const caps = async () => Capabilities.parse(await client.call('Host.getCapabilities', {}, { timeoutMs: 60_000 }));
    const setup = (networks: Record<string, unknown>, bondings: Record<string, unknown>, connectivityTimeout = 30) =>
      client.call(
        'Host.setupNetworks',
        { networks, bondings, options: { connectivityCheck: 'true', connectivityTimeout: String(connectivityTimeout) } },
        { timeoutMs: 120_000 },
      );

    beforeAll(async () => {
      // eth0 keeps the factory address the test reaches the agent on; eth1-eth3 are free. The guest has one
      // CPU, where the agent applies one batch at a time unless told: two here, so that stacks of bonds and
      // VLANs that share nothing are applied by two ip processes at once (docs/performance.md#applying-independent-stacks-at-once).
      lab = await createAgentLab({
        stateDir: dir,
        tls: false,
        hosts: [{ name: 'bonds', kind: 'uml', nics: 4, agentArgs: ['--apply-processes', '2'] }],
      });
      await lab.waitForAgents(180_000);
      client = await AgentClient.connect({ host: lab.testbed.host('bonds').address, port: 54321, tls: { insecure: true } });
      void (async () => {
        while (client) {
          if (confirming) await client.call('Host.confirmConnectivity', {}, { timeoutMs: 5_000 }).catch(() => undefined);
          await new Promise((r) => setTimeout(r, 300));
        }
      })();
    }, TIMEOUT_MS);
    afterAll(async () => {
      await client?.close().catch(() => undefined);
      await lab?.destroy();
      rmSync(dir, { recursive: true, force: true });
    }, 120_000);

    it('reports no bonds or VLANs at first, and its NICs', async () => {
      const report = await caps();
      expect(report.bondings).toEqual({});
      expect(report.vlans).toEqual({});
      expect(Object.keys(report.nics).sort()).toEqual(['eth0', 'eth1', 'eth2', 'eth3']);
    });

    it(
      'creates a bond with a bridged VLAN network at MTU 9000 over it, and reports them as VDSM does',
      async () => {
        await setup(
          { net1: { bonding: 'bond5', vlan: '100', bridged: 'true', mtu: 9000, ipaddr: '198.51.100.5', netmask: '255.255.255.0' } },
          { bond5: { nics: ['eth2', 'eth1'], options: 'mode=1 miimon=150' } },
        );
        const report = await caps();
        // eth1 is enslaved first (by name), so the bond, its VLAN and the bridge carry eth1's MAC.
        const eth1 = report.nics.eth1?.hwaddr;
        expect(report.bondings.bond5).toMatchObject({
          slaves: ['eth1', 'eth2'],
          opts: { mode: '1', miimon: '150' },
          mtu: '9000',
          hwaddr: eth1,
        });
        expect(Object.keys(report.bondings.bond5?.opts ?? {}).sort()).toEqual(['miimon', 'mode']);
        expect(report.vlans['bond5.100']).toMatchObject({ iface: 'bond5', vlanid: 100, mtu: '9000' });
        expect(report.bridges.net1).toMatchObject({ ports: ['bond5.100'], mtu: '9000' });
        expect(report.networks.net1).toMatchObject({ southbound: 'bond5.100', vlanid: 100, mtu: '9000', addr: '198.51.100.5' });
        for (const nic of ['eth1', 'eth2']) expect(report.nics[nic]?.mtu).toBe('9000');
      },
      TIMEOUT_MS,
    );

    it('answers ARP for its address only from the NIC that holds it, with a bond and a free NIC on the same switch', async () => {
      // Otherwise the manager may learn the bond's MAC for eth0's address, and lose the agent for as long as
      // its neighbour entry outlives a change that re-creates the bond (longer than a connectivity check).
      const eth0Mac = nicMac(lab.testbed, 'bonds', 'eth0');
      expect(await macsLearnedFor(lab.testbed, 'bonds')).toEqual([eth0Mac, eth0Mac, eth0Mac, eth0Mac]);
    });

    it(
      "changes the bond's mode and options, then its slaves",
      async () => {
        await setup({}, { bond5: { nics: ['eth1', 'eth2'], options: 'mode=4 miimon=200 lacp_rate=1' } });
        let report = await caps();
        expect(report.bondings.bond5).toMatchObject({
          slaves: ['eth1', 'eth2'],
          opts: { mode: '4', miimon: '200', lacp_rate: 'fast' },
          mtu: '9000',
        });
        // The network on top survived the re-created bond.
        expect(report.bridges.net1).toMatchObject({ ports: ['bond5.100'] });
        await setup({}, { bond5: { nics: ['eth1', 'eth3'], options: 'mode=4 miimon=200 lacp_rate=1' } });
        report = await caps();
        expect(report.bondings.bond5).toMatchObject({ slaves: ['eth1', 'eth3'], mtu: '9000' });
        expect(report.nics.eth3?.mtu).toBe('9000');
      },
      TIMEOUT_MS,
    );

    it(
      'an unconfirmed change of mode, slaves, MTU and networks is rolled back to exactly the previous stack',
      async () => {
        const before = stack(await caps());
        confirming = false;
        try {
          await expect(
            setup(
              {
                net1: { remove: true },
                net2: { bonding: 'bond5', vlan: '200', bridged: 'false', mtu: 1500, ipaddr: '198.51.101.5', netmask: '255.255.255.0' },
              },
              { bond5: { nics: ['eth1', 'eth2'], options: 'mode=2 miimon=100' } },
              4,
            ),
          ).rejects.toSatisfy((err: unknown) => err instanceof AgentRpcError && err.code === VdsmCode.LOST_CONNECTION);
        } finally {
          confirming = true;
        }
        expect(stack(await caps())).toEqual(before);
      },
      TIMEOUT_MS,
    );

    it(
      'takes a slave out of the bond and puts a network on it in one change, the NIC up with its address',
      async () => {
        await setup(
          { net3: { nic: 'eth3', bridged: 'false', ipaddr: '198.51.102.5', netmask: '255.255.255.0' } },
          { bond5: { nics: ['eth1'], options: 'mode=4 miimon=200 lacp_rate=1' } },
        );
        const report = await caps();
        expect(report.bondings.bond5?.slaves).toEqual(['eth1']);
        expect(report.networks.net3).toMatchObject({ southbound: 'eth3', addr: '198.51.102.5' });
        await setup({ net3: { remove: true } }, {});
      },
      TIMEOUT_MS,
    );

    it(
      "reports a slave's own MAC, and a bridge on a NIC its bond lets go in the same change has that NIC's own MAC",
      async () => {
        const eth3 = nicMac(lab.testbed, 'bonds', 'eth3');
        await setup({}, { bond5: { nics: ['eth1', 'eth3'], options: 'mode=4 miimon=200 lacp_rate=1' } });
        let report = await caps();
        // Enslaved, eth3 has the bond's MAC (eth1's) and reports its own as VDSM does.
        expect(report.nics.eth3).toMatchObject({ hwaddr: report.bondings.bond5?.hwaddr, permhwaddr: eth3 });
        expect(report.nics.eth3?.hwaddr).not.toBe(eth3);
        await setup(
          { net3: { nic: 'eth3', bridged: 'true', ipaddr: '198.51.102.5', netmask: '255.255.255.0' } },
          { bond5: { nics: ['eth1'], options: 'mode=4 miimon=200 lacp_rate=1' } },
        );
        report = await caps();
        expect(report.nics.eth3?.hwaddr).toBe(eth3);
        expect(report.nics.eth3?.permhwaddr).toBeUndefined();
        // The bridge answers ARP with eth3's own MAC; with the bond's, two devices on the switch would share one.
        const manager = lab.testbed.manager.interface;
        await run(['ip', 'addr', 'add', '198.51.102.1/24', 'dev', manager]);
        try {
          await run(['ping', '-c', '1', '-W', '5', '-I', manager, '198.51.102.5']);
          const { stdout } = await run(['ip', '-j', 'neigh', 'show', 'to', '198.51.102.5', 'dev', manager]);
          expect((JSON.parse(stdout) as Array<{ lladdr?: string }>)[0]?.lladdr).toBe(eth3);
        } finally {
          await run(['ip', 'addr', 'del', '198.51.102.1/24', 'dev', manager]);
        }
        await setup({ net3: { remove: true } }, {});
      },
      TIMEOUT_MS,
    );

    it(
      'moves a bridged network from the bond to a NIC: the bond, which stays, leaves the bridge',
      async () => {
        await setup({ net4: { bonding: 'bond5', bridged: 'true' } }, {});
        expect((await caps()).bridges.net4?.ports).toEqual(['bond5']);
        await setup({ net4: { nic: 'eth3', bridged: 'true' } }, {});
        const report = await caps();
        expect(report.bridges.net4?.ports).toEqual(['eth3']);
        expect(report.bondings.bond5?.slaves).toEqual(['eth1']);
        await setup({ net4: { remove: true } }, {});
      },
      TIMEOUT_MS,
    );

    it(
      "a bond whose MAC leaves with a slave takes its first remaining slave's, and so does the bridge above it",
      async () => {
        const options = 'mode=4 miimon=200 lacp_rate=1';
        const own = (nic: string) => nicMac(lab.testbed, 'bonds', nic);
        await setup({}, { bond5: { nics: ['eth1', 'eth3'], options } });
        expect((await caps()).bondings.bond5?.hwaddr).toBe(own('eth1'));
        // eth1 leaves with the bond's MAC, and has it again: the bond (and net1's bridge on its VLAN) change.
        await setup({}, { bond5: { nics: ['eth3'], options } });
        let report = await caps();
        expect([report.bondings.bond5?.hwaddr, report.nics.eth1?.hwaddr, report.nics.eth3?.hwaddr]).toEqual([
          own('eth3'),
          own('eth1'),
          own('eth3'),
        ]);
        expect(report.bridges.net1?.ports).toEqual(['bond5.100']);
        await setup({}, { bond5: { nics: ['eth1'], options } });
        report = await caps();
        expect([report.bondings.bond5?.hwaddr, report.nics.eth3?.hwaddr]).toEqual([own('eth1'), own('eth3')]);
      },
      TIMEOUT_MS,
    );

    it(
      'a bond made again for other options keeps its MAC, with which the bridge on it answers',
      async () => {
        const own = (nic: string) => nicMac(lab.testbed, 'bonds', nic);
        await setup(
          { net4: { bonding: 'bond5', bridged: 'true', ipaddr: '198.51.103.5', netmask: '255.255.255.0' } },
          { bond5: { nics: ['eth3'], options: 'mode=1 miimon=100' } },
        );
        expect((await caps()).bondings.bond5?.hwaddr).toBe(own('eth3'));
        // New options delete the bond and make it again; eth1, added with them, comes first by name. Made with
        // eth1's MAC, the bond would differ from the bridge on it, which keeps eth3's.
        await setup({}, { bond5: { nics: ['eth1', 'eth3'], options: 'mode=1 miimon=200' } });
        const report = await caps();
        expect(report.bondings.bond5).toMatchObject({ slaves: ['eth1', 'eth3'], hwaddr: own('eth3') });
        expect(report.bridges.net4?.ports).toEqual(['bond5']);
        expect(report.bridges.net1?.ports).toEqual(['bond5.100']);
        const manager = lab.testbed.manager.interface;
        await run(['ip', 'addr', 'add', '198.51.103.1/24', 'dev', manager]);
        try {
          await run(['ping', '-c', '1', '-W', '5', '-I', manager, '198.51.103.5']);
          const { stdout } = await run(['ip', '-j', 'neigh', 'show', 'to', '198.51.103.5', 'dev', manager]);
          expect((JSON.parse(stdout) as Array<{ lladdr?: string }>)[0]?.lladdr).toBe(own('eth3'));
        } finally {
          await run(['ip', 'addr', 'del', '198.51.103.1/24', 'dev', manager]);
        }
        await setup({ net4: { remove: true } }, { bond5: { nics: ['eth1'], options: 'mode=4 miimon=200 lacp_rate=1' } });
        expect((await caps()).bondings.bond5?.hwaddr).toBe(own('eth1'));
      },
      TIMEOUT_MS,
    );

    it(
      'lowers the MTU across the stack, adds a VLAN on a NIC, and removes everything again',
      async () => {
        await setup(
          { net1: { bonding: 'bond5', vlan: '100', bridged: 'true', mtu: 1500, ipaddr: '198.51.100.5', netmask: '255.255.255.0' } },
          {},
        );
        let report = await caps();
        expect([report.bridges.net1?.mtu, report.vlans['bond5.100']?.mtu, report.bondings.bond5?.mtu, report.nics.eth1?.mtu]).toEqual([
          '1500',
          '1500',
          '1500',
          '1500',
        ]);
        await setup(
          { net2: { nic: 'eth2', vlan: '200', bridged: 'false', mtu: 9000, ipaddr: '198.51.101.5', netmask: '255.255.255.0' } },
          {},
        );
        report = await caps();
        expect(report.vlans['eth2.200']).toMatchObject({ iface: 'eth2', vlanid: 200, mtu: '9000', addr: '198.51.101.5' });
        await setup({ net1: { remove: true }, net2: { remove: true } }, { bond5: { remove: true } });
        report = await caps();
        expect([report.bondings, report.vlans, report.bridges, report.networks]).toEqual([{}, {}, {}, {}]);
      },
      TIMEOUT_MS,
    );
  },
);
