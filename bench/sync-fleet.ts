/**
 * A synthetic fleet for `bench sync-report`: one cluster with K networks and N hosts that each attach all
 * K, with the capabilities each host reports (in the shape our agent renders them) and the stored report
 * derived from them. Deterministic: host h always looks the same, so runs compare.
 *
 * Networks: `ovirtmgmt` (management, default route, required; bridged on eth0, static IPv4 and IPv6, DNS),
 * then `netNN` as VLAN 100+NN on bond0 (eth2 + eth3): odd ones are VM networks (bridged), every third is
 * DHCP and the rest static IPv4, every fourth also has static IPv6, and `net05` carries QoS the host
 * applies. Every host also reports an unmanaged network `legacy` on eth1.
 *
 * Drift, so the report has something to find: every 10th host (h % 10 = 3) has net01's device at MTU
 * 9000, and every 25th (h % 25 = 7) has net02's address changed by hand.
 */
import { MANAGEMENT_ROLES, NO_ROLES, type ClusterNetwork } from '../model/host-networking/cluster';
import type { Network } from '../model/host-networking/network';
import type { NetworkAttachment } from '../model/host-networking/network-attachment';
import { reportedInterfacesFromCapabilities, type ReportedInterfaces } from '../model/host-networking/reported-interfaces';
import type { IpConfiguration } from '../model/attachments/attachment';
import { NetworkCapabilities } from '../model/vdsm/capabilities';

export const FLEET_T = '2026-01-01T00:00:00.000Z';
export const FLEET_CLUSTER = 'bench-cluster';

export interface FleetHost {
  id: string;
  /** Raw capabilities JSON, as the agent sends them (parse with `NetworkCapabilities`). */
  capabilities: Record<string, unknown>;
  /** The stored report: `reportedInterfacesFromCapabilities` of the capabilities. */
  reported: ReportedInterfaces;
  attachments: NetworkAttachment[];
  /** Whether this host was given drift (see the module comment). */
  drifts: boolean;
}

export interface Fleet {
  networks: Network[];
  clusterNetworks: ClusterNetwork[];
  hosts: FleetHost[];
}

const uuid = (prefix: number, n: number) => `${prefix.toString(16).padStart(8, '0')}-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

interface NetworkPlan {
  index: number;
  name: string;
  vlan: number | null;
  vm: boolean;
  dhcp: boolean;
  ipv6: boolean;
  qos: boolean;
}

function plans(count: number): NetworkPlan[] {
  return Array.from({ length: count }, (_, i) =>
    i === 0
      ? { index: 0, name: 'ovirtmgmt', vlan: null, vm: true, dhcp: false, ipv6: true, qos: false }
      : {
          index: i,
          name: `net${String(i).padStart(2, '0')}`,
          vlan: 100 + i,
          vm: i % 2 === 1,
          dhcp: i % 3 === 0,
          ipv6: i % 4 === 1,
          qos: i === 5,
        },
  );
}

const QOS = { outAverageLinkshare: 50, outAverageUpperlimit: 1000 };

/** The address host `h` has on network `i`: 10.i.x.y, unique per host. */
function ipv4Of(i: number, h: number): string {
  return `10.${i}.${Math.floor(h / 250)}.${(h % 250) + 1}`;
}

export function buildFleet(hostCount: number, attachmentsPerHost: number): Fleet {
  const planned = plans(attachmentsPerHost);
  const networks: Network[] = planned.map((p) => ({
    id: uuid(0x10000000, p.index),
    name: p.name,
    vlan: p.vlan,
    mtu: 0,
    vmNetwork: p.vm,
    stp: false,
    dnsServers: p.index === 0 ? ['192.0.2.53'] : [],
    qos: p.qos ? QOS : null,
    customProperties: {},
    createdAt: FLEET_T,
    updatedAt: FLEET_T,
  }));
  const clusterNetworks: ClusterNetwork[] = planned.map((p) => ({
    clusterId: FLEET_CLUSTER,
    networkId: uuid(0x10000000, p.index),
    roles: p.index === 0 ? MANAGEMENT_ROLES : NO_ROLES,
    createdAt: FLEET_T,
    updatedAt: FLEET_T,
  }));
  const hosts = Array.from({ length: hostCount }, (_, h) => buildHost(h, planned));
  return { networks, clusterNetworks, hosts };
}

function device(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    addr: '',
    netmask: '',
    ipv4addrs: [],
    ipv6addrs: [],
    gateway: '',
    ipv6gateway: '::',
    ipv4defaultroute: false,
    ipv6autoconf: false,
    mtu: '1500',
    dhcpv4: false,
    dhcpv6: false,
    ...over,
  };
}

function buildHost(h: number, planned: NetworkPlan[]): FleetHost {
  const id = `bench-host-${String(h).padStart(5, '0')}`;
  const mac = (n: number) =>
    `52:54:${((h >> 8) & 0xff).toString(16).padStart(2, '0')}:${(h & 0xff).toString(16).padStart(2, '0')}:00:${n.toString(16).padStart(2, '0')}`;
  const mtuDrift = h % 10 === 3;
  const addressDrift = h % 25 === 7;
  const nics: Record<string, unknown> = {};
  for (const n of [0, 1, 2, 3]) nics[`eth${n}`] = device({ hwaddr: mac(n), speed: 10_000 });
  const bondings = {
    bond0: device({ hwaddr: mac(2), slaves: ['eth2', 'eth3'], active_slave: 'eth2', opts: { mode: '1', miimon: '100' }, switch: 'legacy' }),
  };
  const vlans: Record<string, unknown> = {};
  const bridges: Record<string, unknown> = {};
  const networks: Record<string, unknown> = {};
  const attachments: NetworkAttachment[] = [];

  for (const p of planned) {
    const southbound = p.vlan === null ? 'eth0' : `bond0.${p.vlan}`;
    const address = p.index === 2 && addressDrift ? `10.${p.index}.${Math.floor(h / 250)}.253` : ipv4Of(p.index, h);
    const v4 = p.index === 0 ? `192.0.${2 + Math.floor(h / 250)}.${(h % 250) + 1}` : address;
    const v6 = p.ipv6 ? `2001:db8:${p.index.toString(16)}::${(h + 1).toString(16)}` : null;
    const gateway = p.dhcp ? '' : p.index === 0 ? `192.0.${2 + Math.floor(h / 250)}.254` : `10.${p.index}.${Math.floor(h / 250)}.254`;
    const ip = device({
      addr: v4,
      netmask: '255.255.255.0',
      ipv4addrs: [`${v4}/24`],
      ipv6addrs: v6 ? [`${v6}/64`] : [],
      gateway,
      ipv6gateway: p.index === 0 && v6 ? `2001:db8:${p.index.toString(16)}::1` : '::',
      ipv4defaultroute: p.index === 0,
      dhcpv4: p.dhcp,
    });
    if (p.vlan !== null) vlans[southbound] = device({ iface: 'bond0', vlanid: p.vlan, mtu: p.index === 1 && mtuDrift ? '9000' : '1500' });
    if (p.vm) bridges[p.name] = { ...ip, ports: [southbound], stp: 'off', opts: {} };
    networks[p.name] = {
      ...ip,
      iface: p.vm ? p.name : southbound,
      bridged: p.vm,
      switch: 'legacy',
      southbound,
      ...(p.vlan === null ? {} : { vlanid: p.vlan }),
      ...(p.vm ? { ports: [southbound], stp: 'off' } : { interface: southbound }),
      ...(p.qos ? { hostQos: { out: { ls: { m2: QOS.outAverageLinkshare }, ul: { m2: QOS.outAverageUpperlimit * 1_000_000 } } } } : {}),
    };
    const ipConfiguration: IpConfiguration = {
      ipv4: p.dhcp
        ? { bootProtocol: 'DHCP' }
        : { bootProtocol: 'STATIC_IP', address: p.index === 0 ? v4 : ipv4Of(p.index, h), netmask: '24', gateway },
      ipv6: v6
        ? {
            bootProtocol: 'STATIC_IP',
            address: v6,
            prefix: 64,
            ...(p.index === 0 ? { gateway: `2001:db8:${p.index.toString(16)}::1` } : {}),
          }
        : { bootProtocol: 'NONE' },
    };
    attachments.push({
      id: uuid(0x20000000, h * 1000 + p.index),
      hostId: id,
      networkId: uuid(0x10000000, p.index),
      networkName: p.name,
      nicName: p.vlan === null ? 'eth0' : 'bond0',
      ipConfiguration,
      properties: {},
      qos: null,
      dns: null,
      requestedBy: null,
      createdAt: FLEET_T,
      updatedAt: FLEET_T,
    });
  }
  bridges.legacy = device({
    ports: ['eth1'],
    addr: '10.250.0.1',
    netmask: '255.255.0.0',
    ipv4addrs: ['10.250.0.1/16'],
    stp: 'off',
    opts: {},
  });
  networks.legacy = {
    ...device({ addr: '10.250.0.1', netmask: '255.255.0.0' }),
    iface: 'legacy',
    bridged: true,
    switch: 'legacy',
    southbound: 'eth1',
    ports: ['eth1'],
    stp: 'off',
  };

  const capabilities = {
    nics,
    bondings,
    vlans,
    bridges,
    networks,
    nameservers: ['192.0.2.53', '2001:db8::53'],
    supportsIPv6: true,
    netConfigDirty: 'False',
  };
  return { id, capabilities, reported: reportedOf(capabilities), attachments, drifts: mtuDrift || addressDrift };
}

/** The stored report: what a refresh would have recorded from these capabilities. */
function reportedOf(capabilities: Record<string, unknown>): ReportedInterfaces {
  return reportedInterfacesFromCapabilities(NetworkCapabilities.parse(capabilities));
}
