/**
 * outOfSyncReport, property by property: for every property the engine compares, one attachment where the
 * property is compared and counts as equal (the whole attachment in sync) and one where it alone differs,
 * with both values in the report. The cases exercise each equality rule (MTU 0 meaning 1500, a prefix
 * against a dotted netmask, IPv6 written two ways, a desired 0.0.0.0 gateway with none reported, name
 * servers as a superset, ...). World: ./world.ts.
 */
import { describe, expect, it } from 'vitest';
import type { ClusterNetworkRoles } from '../../../model/host-networking/cluster';
import type { Network } from '../../../model/host-networking/network';
import type { NetworkAttachment } from '../../../model/host-networking/network-attachment';
import { reportedInterfacesFromCapabilities, type ReportedNetwork } from '../../../model/host-networking/reported-interfaces';
import { AttachmentSyncState, outOfSyncReport, type AttachmentSyncReport } from '../../../model/network-sync/attachment-report';
import { NetworkSyncPreconditionError } from '../../../model/network-sync/errors';
import { SyncProperty, type SyncValue } from '../../../model/network-sync/sync-property';
import { attachment, capabilities, network, roles, type NetworkKey } from './world';

type Key = Exclude<NetworkKey, 'migration'>;

const REPORTED = reportedInterfacesFromCapabilities(capabilities());
const HOST_NAME_SERVERS = REPORTED.nameServers ?? [];

interface Case {
  key: Key;
  attachment?: Partial<NetworkAttachment>;
  network?: Partial<Network>;
  roles?: Partial<ClusterNetworkRoles>;
  reported?: Partial<ReportedNetwork>;
  hostNameServers?: string[];
}

function report(c: Case): AttachmentSyncReport {
  const hostNetwork = REPORTED.networks.find((n) => n.name === c.key);
  if (!hostNetwork) throw new Error(`the fixture has no network ${c.key}`);
  return outOfSyncReport(
    attachment(c.key, c.attachment),
    network(c.key, c.network),
    { ...roles(c.key), ...c.roles },
    { ...hostNetwork, ...c.reported },
    { hostNameServers: c.hostNameServers ?? HOST_NAME_SERVERS },
  );
}

const ipv4 = (over: object = {}) => ({
  bootProtocol: 'STATIC_IP' as const,
  address: '198.51.100.10',
  netmask: '24',
  gateway: '198.51.100.1',
  ...over,
});
const storageIpv4 = (over: object) => ({ ipConfiguration: { ipv4: ipv4(over), ipv6: { bootProtocol: 'NONE' as const } } });
const hostIpv4 = (over: object) => ({
  ipv4: { bootProtocol: 'STATIC_IP' as const, address: '198.51.100.10', netmask: '255.255.255.0', gateway: '198.51.100.1', ...over },
});
const mgmtIpv6 = (over: object) => ({
  ipConfiguration: {
    ipv4: { bootProtocol: 'STATIC_IP' as const, address: '192.0.2.10', netmask: '255.255.255.0', gateway: '192.0.2.1' },
    ipv6: { bootProtocol: 'STATIC_IP' as const, address: '2001:db8::10', prefix: 64, gateway: '2001:db8::1', ...over },
  },
});
const hostIpv6 = (over: object) => ({
  ipv6: { bootProtocol: 'STATIC_IP' as const, address: '2001:db8::10', prefix: 64, gateway: '2001:db8::1', ...over },
});
const QOS_50 = { outAverageLinkshare: 50, outAverageUpperlimit: 100, outAverageRealtime: 10 };
const hostQos = (over: object = {}) => ({ qos: { outAverageLinkshare: 50, outAverageUpperlimit: 100, outAverageRealtime: 10, ...over } });

interface Row {
  property: SyncProperty;
  rule: string;
  inSync: Case;
  /** Only this property differs, with these desired and host values. */
  outOfSync: Case & { differs: [SyncValue, SyncValue] };
}

const TABLE: Row[] = [
  {
    property: SyncProperty.MTU,
    rule: 'network MTU 0 means 1500',
    inSync: { key: 'vmnet' },
    outOfSync: { key: 'vmnet', reported: { mtu: 9000 }, differs: [1500, 9000] },
  },
  {
    property: SyncProperty.MTU,
    rule: 'an explicit MTU is compared as it is',
    inSync: { key: 'storage' },
    outOfSync: { key: 'storage', reported: { mtu: 1500 }, differs: [9000, 1500] },
  },
  {
    property: SyncProperty.BRIDGED,
    rule: 'a VM network is bridged',
    inSync: { key: 'vmnet' },
    outOfSync: { key: 'vmnet', reported: { bridged: false }, differs: [true, false] },
  },
  {
    property: SyncProperty.VLAN,
    rule: 'equal tags',
    inSync: { key: 'storage' },
    outOfSync: { key: 'storage', network: { vlan: 101 }, differs: [101, 100] },
  },
  {
    property: SyncProperty.SWITCH_TYPE,
    rule: 'hostprov clusters require legacy',
    inSync: { key: 'display' },
    outOfSync: { key: 'display', reported: { switchType: 'ovs' }, differs: ['legacy', 'ovs'] },
  },
  {
    property: SyncProperty.IPV4_BOOT_PROTOCOL,
    rule: 'equal; a DHCP network made static by hand differs only in its boot protocol (addresses are compared only when both are static)',
    inSync: { key: 'display' },
    outOfSync: { key: 'display', reported: hostIpv4({ address: '203.0.113.57' }), differs: ['DHCP', 'STATIC_IP'] },
  },
  {
    property: SyncProperty.IPV4_NETMASK,
    rule: 'same subnet: prefix 24 equals 255.255.255.0',
    inSync: { key: 'storage' },
    outOfSync: { key: 'storage', reported: hostIpv4({ netmask: '255.255.0.0' }), differs: ['24', '255.255.0.0'] },
  },
  {
    property: SyncProperty.IPV4_NETMASK,
    rule: 'same subnet: /24 and dotted both ways',
    inSync: { key: 'storage', attachment: storageIpv4({ netmask: '/24' }) },
    outOfSync: { key: 'storage', attachment: storageIpv4({ netmask: '255.255.255.128' }), differs: ['255.255.255.128', '255.255.255.0'] },
  },
  {
    property: SyncProperty.IPV4_ADDRESS,
    rule: 'equal strings',
    inSync: { key: 'storage' },
    outOfSync: { key: 'storage', reported: hostIpv4({ address: '198.51.100.11' }), differs: ['198.51.100.10', '198.51.100.11'] },
  },
  {
    property: SyncProperty.IPV4_GATEWAY,
    rule: 'a desired 0.0.0.0 with none reported is equal',
    inSync: { key: 'storage', attachment: storageIpv4({ gateway: '0.0.0.0' }), reported: hostIpv4({ gateway: null }) },
    outOfSync: { key: 'storage', reported: hostIpv4({ gateway: '198.51.100.254' }), differs: ['198.51.100.1', '198.51.100.254'] },
  },
  {
    property: SyncProperty.IPV4_GATEWAY,
    rule: 'none desired while the host has one differs',
    inSync: { key: 'storage', attachment: storageIpv4({ gateway: undefined }), reported: hostIpv4({ gateway: null }) },
    outOfSync: { key: 'storage', attachment: storageIpv4({ gateway: undefined }), differs: [null, '198.51.100.1'] },
  },
  {
    property: SyncProperty.IPV6_BOOT_PROTOCOL,
    rule: 'equal',
    inSync: { key: 'ovirtmgmt' },
    outOfSync: { key: 'ovirtmgmt', reported: hostIpv6({ bootProtocol: 'AUTOCONF', gateway: null }), differs: ['STATIC_IP', 'AUTOCONF'] },
  },
  {
    property: SyncProperty.IPV6_PREFIX,
    rule: 'equal',
    inSync: { key: 'ovirtmgmt' },
    outOfSync: { key: 'ovirtmgmt', reported: hostIpv6({ prefix: 48 }), differs: [64, 48] },
  },
  {
    property: SyncProperty.IPV6_ADDRESS,
    rule: 'equal as IP addresses: 2001:DB8:0:0::10 is 2001:db8::10',
    inSync: { key: 'ovirtmgmt', attachment: mgmtIpv6({ address: '2001:DB8:0:0::10' }) },
    outOfSync: { key: 'ovirtmgmt', reported: hostIpv6({ address: '2001:db8::11' }), differs: ['2001:db8::10', '2001:db8::11'] },
  },
  {
    property: SyncProperty.IPV6_GATEWAY,
    rule: 'none desired matches none (or ::) reported',
    inSync: { key: 'ovirtmgmt', attachment: mgmtIpv6({ gateway: undefined }), reported: hostIpv6({ gateway: null }) },
    outOfSync: { key: 'ovirtmgmt', reported: hostIpv6({ gateway: '2001:db8::fe' }), differs: ['2001:db8::1', '2001:db8::fe'] },
  },
  {
    property: SyncProperty.OUT_AVERAGE_LINK_SHARE,
    rule: "the attachment's QoS overrides the network's",
    inSync: { key: 'vmnet', network: { qos: QOS_50 }, reported: hostQos() },
    outOfSync: {
      key: 'vmnet',
      network: { qos: QOS_50 },
      attachment: { qos: { ...QOS_50, outAverageLinkshare: 20 } },
      reported: hostQos(),
      differs: [20, 50],
    },
  },
  {
    property: SyncProperty.OUT_AVERAGE_UPPER_LIMIT,
    rule: 'equal Mbps',
    inSync: { key: 'vmnet', attachment: { qos: QOS_50 }, reported: hostQos() },
    outOfSync: { key: 'vmnet', attachment: { qos: QOS_50 }, reported: hostQos({ outAverageUpperlimit: 200 }), differs: [100, 200] },
  },
  {
    property: SyncProperty.OUT_AVERAGE_REAL_TIME,
    rule: 'equal Mbps; a host without QoS has none',
    inSync: { key: 'vmnet', attachment: { qos: QOS_50 }, reported: hostQos() },
    outOfSync: { key: 'vmnet', attachment: { qos: { outAverageRealtime: 10 } }, reported: { qos: null }, differs: [10, null] },
  },
  {
    property: SyncProperty.DNS_CONFIGURATION,
    rule: "the host's name servers include the network's",
    inSync: { key: 'ovirtmgmt' },
    outOfSync: {
      key: 'ovirtmgmt',
      attachment: { dns: { nameServers: ['192.0.2.54'] } },
      differs: ['192.0.2.54', '192.0.2.53,2001:db8::53'],
    },
  },
  {
    property: SyncProperty.DNS_CONFIGURATION,
    rule: "the attachment's name servers replace the network's; order does not matter",
    inSync: { key: 'ovirtmgmt', attachment: { dns: { nameServers: ['2001:db8::53', '192.0.2.53'] } } },
    outOfSync: {
      key: 'ovirtmgmt',
      network: { dnsServers: ['192.0.2.53', '192.0.2.54'] },
      differs: ['192.0.2.53,192.0.2.54', '192.0.2.53,2001:db8::53'],
    },
  },
  {
    property: SyncProperty.DEFAULT_ROUTE,
    rule: 'the host holds the default route exactly on the default-route network',
    inSync: { key: 'ovirtmgmt' },
    outOfSync: { key: 'display', reported: { defaultRoute: true }, differs: [false, true] },
  },
];

describe('outOfSyncReport: each property, in sync and out of sync', () => {
  for (const row of TABLE) {
    it(`${row.property}: ${row.rule}`, () => {
      const inSync = report(row.inSync);
      expect(inSync.comparisons.find((c) => c.property === row.property)).toMatchObject({ inSync: true });
      expect(inSync).toMatchObject({ state: AttachmentSyncState.IN_SYNC, differences: [] });

      const out = report(row.outOfSync);
      expect(out.state).toBe(AttachmentSyncState.OUT_OF_SYNC);
      const [desired, reported] = row.outOfSync.differs;
      expect(out.differences).toEqual([{ property: row.property, desired, reported, inSync: false }]);
    });
  }

  it('covers every property the engine compares', () => {
    expect(new Set(TABLE.map((r) => r.property))).toEqual(new Set(Object.values(SyncProperty)));
  });
});

describe('outOfSyncReport: what is compared when', () => {
  const properties = (r: AttachmentSyncReport) => r.comparisons.map((c) => c.property);

  it('compares, in the engine order, the static IPv4 and IPv6 details only when both sides are static, and DNS only on the default-route network', () => {
    expect(properties(report({ key: 'ovirtmgmt' }))).toEqual([
      'MTU',
      'BRIDGED',
      'VLAN',
      'SWITCH_TYPE',
      'IPV4_BOOT_PROTOCOL',
      'IPV4_NETMASK',
      'IPV4_ADDRESS',
      'IPV4_GATEWAY',
      'IPV6_BOOT_PROTOCOL',
      'IPV6_PREFIX',
      'IPV6_ADDRESS',
      'IPV6_GATEWAY',
      'DNS_CONFIGURATION',
      'DEFAULT_ROUTE',
    ]);
    // DHCP on both sides: the leased address is never compared; display is no default-route network
    expect(properties(report({ key: 'display' }))).toEqual([
      'MTU',
      'BRIDGED',
      'VLAN',
      'SWITCH_TYPE',
      'IPV4_BOOT_PROTOCOL',
      'IPV6_BOOT_PROTOCOL',
      'DEFAULT_ROUTE',
    ]);
  });

  it('compares QoS only when the attachment, the network or the host has some', () => {
    expect(properties(report({ key: 'vmnet' }))).not.toContain('OUT_AVERAGE_LINK_SHARE');
    expect(properties(report({ key: 'vmnet', reported: hostQos() }))).toContain('OUT_AVERAGE_LINK_SHARE');
    expect(report({ key: 'vmnet', reported: hostQos() }).differences.map((d) => [d.property, d.desired, d.reported])).toEqual([
      ['OUT_AVERAGE_LINK_SHARE', null, 50],
      ['OUT_AVERAGE_UPPER_LIMIT', null, 100],
      ['OUT_AVERAGE_REAL_TIME', null, 10],
    ]);
  });

  it('does not compare what a report stored before hostprov kept it lacks (IP, QoS, switch type, name servers)', () => {
    const hostNetwork = REPORTED.networks.find((n) => n.name === 'ovirtmgmt');
    if (!hostNetwork) throw new Error('no ovirtmgmt');
    const { ipv4: _4, ipv6: _6, qos: _q, switchType: _s, device: _d, ...old } = hostNetwork;
    const result = outOfSyncReport(attachment('ovirtmgmt', { qos: QOS_50 }), network('ovirtmgmt'), roles('ovirtmgmt'), old, {});
    expect(properties(result)).toEqual(['MTU', 'BRIDGED', 'VLAN', 'DEFAULT_ROUTE']);
    expect(result.state).toBe(AttachmentSyncState.IN_SYNC);
  });

  it('reports a network the host has on no interface, or not at all, as not reported, with nothing compared', () => {
    const gone = outOfSyncReport(attachment('vmnet'), network('vmnet'), roles('vmnet'), null);
    expect(gone).toMatchObject({ state: AttachmentSyncState.NOT_REPORTED, reportedBaseInterface: null, comparisons: [], differences: [] });
    const portless = report({ key: 'vmnet', reported: { baseInterface: null, device: null } });
    expect(portless.state).toBe(AttachmentSyncState.NOT_REPORTED);
  });

  it('takes a network with no role in the cluster (detached) as one without the default route', () => {
    const result = outOfSyncReport(attachment('vmnet'), network('vmnet'), null, REPORTED.networks.find((n) => n.name === 'vmnet') ?? null);
    expect(result.comparisons.find((c) => c.property === 'DEFAULT_ROUTE')).toEqual({
      property: 'DEFAULT_ROUTE',
      desired: false,
      reported: false,
      inSync: true,
    });
  });

  it('refuses an attachment, network and host report of different networks', () => {
    const vmnet = REPORTED.networks.find((n) => n.name === 'vmnet') ?? null;
    expect(() => outOfSyncReport(attachment('display'), network('vmnet'), null, vmnet)).toThrow(NetworkSyncPreconditionError);
    expect(() => outOfSyncReport(attachment('display'), network('display'), null, vmnet)).toThrow(NetworkSyncPreconditionError);
  });
});
