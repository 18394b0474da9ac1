/**
 * One host in one cluster, as the hostSetupNetworks model sees it, for the model's tests. Every case starts
 * from this world and changes only what it is about.
 *
 * Data-center networks (cluster roles in brackets):
 *   ovirtmgmt  untagged VM network, MTU default, DNS 192.0.2.53  [management, default route, required]
 *   display    untagged VM network                               [display]
 *   migration  VLAN 200, non-VM                                  [migration]
 *   storage    VLAN 100, non-VM                                  []
 *   vmnet      VLAN 300, VM network                              []
 *   jumbo      VLAN 400, non-VM, MTU 9000                        []
 *   outsider   VLAN 500, VM network                              (not attached to the cluster)
 *
 * Host host-1 reports NICs eth0..eth7, bond0 (eth2+eth3, active-backup), the VLAN device bond0.100, and
 * the networks ovirtmgmt on eth0 (holding the default route), storage on bond0 (VLAN 100) and the
 * unmanaged network `legacy` on eth5. It has two stored attachments: ovirtmgmt on eth0 (static IPv4 and
 * IPv6, both with gateways) and storage on bond0 (static IPv4). Free NICs: eth1, eth4, eth6, eth7.
 */
import { HostSetupNetworksContext } from '../../../model/host-setup-networks/context';
import { HostSetupNetworksRequest, type HostSetupNetworksRequestInput } from '../../../model/host-setup-networks/request';

export const T = '2026-01-01T00:00:00.000Z';
export const HOST = 'host-1';
export const CLUSTER = 'cluster-1';

export const N = {
  ovirtmgmt: '10000000-0000-4000-8000-000000000001',
  display: '10000000-0000-4000-8000-000000000002',
  migration: '10000000-0000-4000-8000-000000000003',
  storage: '10000000-0000-4000-8000-000000000004',
  vmnet: '10000000-0000-4000-8000-000000000005',
  jumbo: '10000000-0000-4000-8000-000000000006',
  outsider: '10000000-0000-4000-8000-000000000007',
} as const;

export const A = {
  ovirtmgmt: '20000000-0000-4000-8000-000000000001',
  storage: '20000000-0000-4000-8000-000000000004',
  display: '20000000-0000-4000-8000-000000000002',
} as const;

/** An id nothing in the world has. */
export const UNKNOWN = '99999999-9999-4999-8999-999999999999';

type Json = ReturnType<typeof JSON.parse>;

function network(name: keyof typeof N, over: Partial<Json> = {}): Json {
  return {
    id: N[name],
    name,
    vlan: null,
    mtu: 0,
    vmNetwork: true,
    stp: false,
    dnsServers: [],
    qos: null,
    customProperties: {},
    createdAt: T,
    updatedAt: T,
    ...over,
  };
}

const NO_ROLES = { management: false, defaultRoute: false, display: false, migration: false, required: false };

function clusterNetwork(name: keyof typeof N, roles: Partial<typeof NO_ROLES> = {}): Json {
  return { clusterId: CLUSTER, networkId: N[name], roles: { ...NO_ROLES, ...roles }, createdAt: T, updatedAt: T };
}

export function storedAttachment(
  id: string,
  name: keyof typeof N,
  nicName: string | null,
  ipConfiguration: Json,
  over: Partial<Json> = {},
): Json {
  return {
    id,
    hostId: HOST,
    networkId: N[name],
    networkName: name,
    nicName,
    ipConfiguration,
    properties: {},
    qos: null,
    dns: null,
    requestedBy: null,
    createdAt: T,
    updatedAt: T,
    ...over,
  };
}

const nic = (name: string): Json => ({ name, mac: `52:54:00:00:00:0${name.slice(3)}`, mtu: 1500, speed: 1000 });

/** The world as plain JSON, for cases to change before it is parsed. */
export function worldJson(): Json {
  return {
    host: {
      id: HOST,
      name: 'hv1.example.test',
      clusterId: CLUSTER,
      agentEndpoint: null,
      activeNic: 'eth0',
      reportedInterfaces: {
        nics: ['eth0', 'eth1', 'eth2', 'eth3', 'eth4', 'eth5', 'eth6', 'eth7'].map(nic),
        bonds: [
          {
            name: 'bond0',
            mac: '52:54:00:00:00:02',
            mtu: 1500,
            slaves: ['eth2', 'eth3'],
            options: { mode: '1', miimon: '100' },
            activeSlave: 'eth2',
          },
        ],
        vlans: [{ name: 'bond0.100', baseInterface: 'bond0', vlanId: 100, mtu: 1500 }],
        networks: [
          { name: 'legacy', baseInterface: 'eth5', vlanId: null, bridged: true, mtu: 1500, defaultRoute: false },
          { name: 'ovirtmgmt', baseInterface: 'eth0', vlanId: null, bridged: true, mtu: 1500, defaultRoute: true },
          { name: 'storage', baseInterface: 'bond0', vlanId: 100, bridged: false, mtu: 1500, defaultRoute: false },
        ],
      },
      interfacesReportedAt: T,
      createdAt: T,
      updatedAt: T,
    },
    cluster: { id: CLUSTER, name: 'Default', compatibilityVersion: '4.8', createdAt: T, updatedAt: T },
    clusterNetworks: [
      clusterNetwork('ovirtmgmt', { management: true, defaultRoute: true, required: true }),
      clusterNetwork('display', { display: true }),
      clusterNetwork('migration', { migration: true }),
      clusterNetwork('storage'),
      clusterNetwork('vmnet'),
      clusterNetwork('jumbo'),
    ],
    networks: [
      network('ovirtmgmt', { dnsServers: ['192.0.2.53'] }),
      network('display'),
      network('migration', { vlan: 200, vmNetwork: false }),
      network('storage', { vlan: 100, vmNetwork: false }),
      network('vmnet', { vlan: 300 }),
      network('jumbo', { vlan: 400, vmNetwork: false, mtu: 9000 }),
      network('outsider', { vlan: 500 }),
    ],
    attachments: [
      storedAttachment(A.ovirtmgmt, 'ovirtmgmt', 'eth0', {
        ipv4: { bootProtocol: 'STATIC_IP', address: '192.0.2.10', netmask: '255.255.255.0', gateway: '192.0.2.1' },
        ipv6: { bootProtocol: 'STATIC_IP', address: '2001:db8::10', prefix: 64, gateway: '2001:db8::1' },
      }),
      storedAttachment(A.storage, 'storage', 'bond0', {
        ipv4: { bootProtocol: 'STATIC_IP', address: '198.51.100.10', netmask: '24' },
        ipv6: { bootProtocol: 'NONE' },
      }),
    ],
  };
}

/** The world, changed by `edit` (which may mutate the JSON), parsed as the workflow would. */
export function world(edit: (json: Json) => void = () => undefined): HostSetupNetworksContext {
  const json = worldJson();
  edit(json);
  return HostSetupNetworksContext.parse(json);
}

/** A request for host-1 (version and host filled in). */
export function request(parts: Omit<HostSetupNetworksRequestInput, 'version' | 'hostId'> = {}): HostSetupNetworksRequest {
  return HostSetupNetworksRequest.parse({ version: 1, hostId: HOST, ...parts });
}

/** Edits: the cluster's default-route role moved from ovirtmgmt to display, which host-1 has on eth1 but does not hold the route with yet. */
export function defaultRouteMovedToDisplay(json: Json): void {
  for (const cn of json.clusterNetworks) cn.roles.defaultRoute = cn.networkId === N.display;
  json.networks.find((n: Json) => n.id === N.display).dnsServers = ['198.51.100.53'];
  json.host.reportedInterfaces.networks.push({
    name: 'display',
    baseInterface: 'eth1',
    vlanId: null,
    bridged: true,
    mtu: 1500,
    defaultRoute: false,
  });
  json.attachments.push(
    storedAttachment(A.display, 'display', 'eth1', {
      ipv4: { bootProtocol: 'STATIC_IP', address: '203.0.113.10', netmask: '255.255.255.0', gateway: '203.0.113.1' },
      ipv6: { bootProtocol: 'STATIC_IP', address: '2001:db8:2::10', prefix: 64, gateway: '2001:db8:2::1' },
    }),
  );
}
