/**
 * One host whose capabilities (test/fixtures/capabilities/networks.json, rendered by our agent's own
 * capabilities report from a kernel state) match its stored attachments exactly, for the out-of-sync and
 * refresh tests. Every case starts from it and changes only what it is about.
 *
 * The host reports (all on `legacy` switches):
 *   ovirtmgmt  bridge on eth0, static 192.0.2.10/24 via .1 and 2001:db8::10/64 via ::1, default route
 *   display    bridge on eth1, DHCP (lease 203.0.113.57/24)
 *   storage    no bridge, VLAN 100 on bond0 (bond0.100, MTU 9000), static 198.51.100.10/24 via .1
 *   vmnet      bridge on VLAN 300 on bond0 (bond0.300), no address
 *   legacy     bridge on eth5, static 10.99.0.5/16: no cluster network of that name (unmanaged)
 * bond0 = eth2 + eth3 (active-backup); eth4 is free; name servers 192.0.2.53 and 2001:db8::53.
 *
 * The data center: the networks above but `legacy`, plus `migration` (VLAN 200, non-VM) which the host
 * does not have. Cluster roles: ovirtmgmt management + default route + required, display display,
 * migration none.
 */
import { readFileSync } from 'node:fs';
import { NO_ROLES, type ClusterNetworkRoles } from '../../../model/host-networking/cluster';
import type { Network } from '../../../model/host-networking/network';
import type { NetworkAttachment } from '../../../model/host-networking/network-attachment';
import { reportedInterfacesFromCapabilities } from '../../../model/host-networking/reported-interfaces';
import type { HostNetworksState } from '../../../model/network-sync/host-report';
import { RefreshContext } from '../../../model/refresh/context';
import { NetworkCapabilities } from '../../../model/vdsm/capabilities';

export const T = '2026-01-01T00:00:00.000Z';
export const HOST = 'host-1';
export const CLUSTER = 'cluster-1';

export const N = {
  ovirtmgmt: '10000000-0000-4000-8000-000000000001',
  display: '10000000-0000-4000-8000-000000000002',
  storage: '10000000-0000-4000-8000-000000000003',
  vmnet: '10000000-0000-4000-8000-000000000004',
  migration: '10000000-0000-4000-8000-000000000005',
} as const;
export type NetworkKey = keyof typeof N;

export const A = {
  ovirtmgmt: '20000000-0000-4000-8000-000000000001',
  display: '20000000-0000-4000-8000-000000000002',
  storage: '20000000-0000-4000-8000-000000000003',
  vmnet: '20000000-0000-4000-8000-000000000004',
} as const;

type Json = ReturnType<typeof JSON.parse>;

const FIXTURE = readFileSync(new URL('../../fixtures/capabilities/networks.json', import.meta.url), 'utf8');

/** The host's capabilities, changed by `edit` (which may mutate the raw JSON), parsed. */
export function capabilities(edit: (caps: Json) => void = () => undefined): NetworkCapabilities {
  const json = JSON.parse(FIXTURE) as Json;
  edit(json);
  return NetworkCapabilities.parse(json);
}

export function network(key: NetworkKey, over: Partial<Network> = {}): Network {
  const base: Record<NetworkKey, Partial<Network>> = {
    ovirtmgmt: { dnsServers: ['192.0.2.53'] },
    display: {},
    storage: { vlan: 100, vmNetwork: false, mtu: 9000 },
    vmnet: { vlan: 300 },
    migration: { vlan: 200, vmNetwork: false },
  };
  return {
    id: N[key],
    name: key,
    vlan: null,
    mtu: 0,
    vmNetwork: true,
    stp: false,
    dnsServers: [],
    qos: null,
    customProperties: {},
    createdAt: T,
    updatedAt: T,
    ...base[key],
    ...over,
  };
}

export function roles(key: NetworkKey): ClusterNetworkRoles {
  if (key === 'ovirtmgmt') return { ...NO_ROLES, management: true, defaultRoute: true, required: true };
  if (key === 'display') return { ...NO_ROLES, display: true };
  return NO_ROLES;
}

export function attachment(key: Exclude<NetworkKey, 'migration'>, over: Partial<NetworkAttachment> = {}): NetworkAttachment {
  const base: Record<Exclude<NetworkKey, 'migration'>, Pick<NetworkAttachment, 'nicName' | 'ipConfiguration'>> = {
    ovirtmgmt: {
      nicName: 'eth0',
      ipConfiguration: {
        ipv4: { bootProtocol: 'STATIC_IP', address: '192.0.2.10', netmask: '255.255.255.0', gateway: '192.0.2.1' },
        ipv6: { bootProtocol: 'STATIC_IP', address: '2001:db8::10', prefix: 64, gateway: '2001:db8::1' },
      },
    },
    display: { nicName: 'eth1', ipConfiguration: { ipv4: { bootProtocol: 'DHCP' }, ipv6: { bootProtocol: 'NONE' } } },
    storage: {
      nicName: 'bond0',
      ipConfiguration: {
        ipv4: { bootProtocol: 'STATIC_IP', address: '198.51.100.10', netmask: '24', gateway: '198.51.100.1' },
        ipv6: { bootProtocol: 'NONE' },
      },
    },
    vmnet: { nicName: 'bond0', ipConfiguration: { ipv4: { bootProtocol: 'NONE' }, ipv6: { bootProtocol: 'NONE' } } },
  };
  return {
    id: A[key],
    hostId: HOST,
    networkId: N[key],
    networkName: key,
    properties: {},
    qos: null,
    dns: null,
    requestedBy: null,
    createdAt: T,
    updatedAt: T,
    ...base[key],
    ...over,
  };
}

const CLUSTER_KEYS: NetworkKey[] = ['ovirtmgmt', 'display', 'storage', 'vmnet', 'migration'];

export function clusterNetworks(keys: NetworkKey[] = CLUSTER_KEYS) {
  return keys.map((key) => ({ clusterId: CLUSTER, networkId: N[key], roles: roles(key), createdAt: T, updatedAt: T }));
}

export function networks(): Network[] {
  return CLUSTER_KEYS.map((key) => network(key));
}

export function attachments(): NetworkAttachment[] {
  return (['display', 'ovirtmgmt', 'storage', 'vmnet'] as const).map((key) => attachment(key));
}

/** The host as the out-of-sync report takes it: the definitions, the attachments and the host's report of `caps`. */
export function hostState(caps: NetworkCapabilities = capabilities(), over: Partial<HostNetworksState> = {}): HostNetworksState {
  return {
    networks: networks(),
    clusterNetworks: clusterNetworks(),
    attachments: attachments(),
    reported: reportedInterfacesFromCapabilities(caps),
    ...over,
  };
}

/** The refresh context: the host with `previous` as its last report, changed by `edit`, parsed. */
export function refreshContext(
  previous: NetworkCapabilities | null = capabilities(),
  edit: (context: Json) => void = () => undefined,
): RefreshContext {
  const json: Json = {
    host: {
      id: HOST,
      name: 'hv1.example.test',
      clusterId: CLUSTER,
      agentEndpoint: null,
      activeNic: 'ovirtmgmt',
      reportedInterfaces: previous ? reportedInterfacesFromCapabilities(previous) : null,
      interfacesReportedAt: previous ? T : null,
      createdAt: T,
      updatedAt: T,
    },
    clusterNetworks: clusterNetworks(),
    networks: networks(),
    attachments: attachments(),
  };
  edit(json);
  return RefreshContext.parse(json);
}
