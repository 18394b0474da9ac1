/** hostSyncReport: a whole host in sync or not, drift after changes by hand on the host, unmanaged networks on their own. World: ./world.ts. */
import { describe, expect, it } from 'vitest';
import { AttachmentSyncState } from '../../../model/network-sync/attachment-report';
import { NetworkSyncPreconditionError } from '../../../model/network-sync/errors';
import { HostSyncState, hostSyncReport } from '../../../model/network-sync/host-report';
import { attachments, capabilities, hostState } from './world';

describe('hostSyncReport', () => {
  it('finds the host as recorded in sync, and lists the network it was given by hand as unmanaged, not as drift', () => {
    const report = hostSyncReport(hostState());
    expect(report.state).toBe(HostSyncState.IN_SYNC);
    expect(report.counts).toEqual({ 'in-sync': 4, 'out-of-sync': 0, 'not-reported': 0 });
    expect(report.attachments.map((a) => [a.networkName, a.state])).toEqual([
      ['display', 'in-sync'],
      ['ovirtmgmt', 'in-sync'],
      ['storage', 'in-sync'],
      ['vmnet', 'in-sync'],
    ]);
    expect(report.unmanagedNetworks).toEqual([{ name: 'legacy', baseInterface: 'eth5', vlanId: null, bridged: true }]);
  });

  it('reports drift made by hand (MTU, address, a removed bridge) with both values, and the host out of sync', () => {
    const caps = capabilities((c) => {
      c.vlans['bond0.300'].mtu = '9000'; // ip link set bond0.300 mtu 9000
      c.bridges.ovirtmgmt.addr = '192.0.2.11'; // ip addr change on the management bridge
      c.bridges.ovirtmgmt.ipv4addrs = ['192.0.2.11/24'];
      delete c.networks.display; // ip link del display: VDSM no longer reports the network
      delete c.bridges.display;
    });
    const report = hostSyncReport(hostState(caps));
    expect(report.state).toBe(HostSyncState.OUT_OF_SYNC);
    expect(report.counts).toEqual({ 'in-sync': 1, 'out-of-sync': 2, 'not-reported': 1 });
    const byName = new Map(report.attachments.map((a) => [a.networkName, a]));
    expect(byName.get('vmnet')?.differences).toEqual([{ property: 'MTU', desired: 1500, reported: 9000, inSync: false }]);
    expect(byName.get('ovirtmgmt')?.differences).toEqual([
      { property: 'IPV4_ADDRESS', desired: '192.0.2.10', reported: '192.0.2.11', inSync: false },
    ]);
    expect(byName.get('display')).toMatchObject({ state: AttachmentSyncState.NOT_REPORTED, reportedBaseInterface: null });
    expect(byName.get('storage')?.state).toBe(AttachmentSyncState.IN_SYNC);
  });

  it("compares DNS with the host's name servers from its report", () => {
    const caps = capabilities((c) => (c.nameservers = ['2001:db8::53']));
    const mgmt = hostSyncReport(hostState(caps)).attachments.find((a) => a.networkName === 'ovirtmgmt');
    expect(mgmt?.differences).toEqual([{ property: 'DNS_CONFIGURATION', desired: '192.0.2.53', reported: '2001:db8::53', inSync: false }]);
  });

  it('refuses an attachment whose network is not among the networks given', () => {
    const state = hostState();
    expect(() =>
      hostSyncReport({ ...state, networks: state.networks.filter((n) => n.name !== 'vmnet'), attachments: attachments() }),
    ).toThrow(NetworkSyncPreconditionError);
  });
});
