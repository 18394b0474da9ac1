/** Rows ↔ model objects. Reads decode through the model schemas, so a foreign or corrupt row is an error. */
import type { Selectable } from 'kysely';
import { Cluster, ClusterNetwork } from '../model/host-networking/cluster';
import { Host } from '../model/host-networking/host';
import { Network } from '../model/host-networking/network';
import { NetworkAttachment } from '../model/host-networking/network-attachment';
import { readBool, readJson, readNullableTime, readTime, type Codec } from './codec';
import { decodeRow } from './context';
import type { ClusterNetworksTable, ClustersTable, HostsTable, NetworkAttachmentsTable, NetworksTable } from './schema';

export function networkFromRow(r: Selectable<NetworksTable>): Network {
  return decodeRow(
    Network,
    {
      id: r.id,
      name: r.name,
      vlan: r.vlan,
      mtu: r.mtu,
      vmNetwork: readBool(r.vm_network),
      stp: readBool(r.stp),
      dnsServers: readJson(r.dns_servers),
      qos: readJson(r.qos),
      customProperties: readJson(r.custom_properties),
      createdAt: readTime(r.created_at),
      updatedAt: readTime(r.updated_at),
    },
    `network ${r.id}`,
  );
}

export function networkToRow(n: Network, codec: Codec) {
  return {
    id: n.id,
    name: n.name,
    vlan: n.vlan,
    mtu: n.mtu,
    vm_network: codec.bool(n.vmNetwork),
    stp: codec.bool(n.stp),
    dns_servers: codec.json(n.dnsServers),
    qos: codec.nullableJson(n.qos),
    custom_properties: codec.json(n.customProperties),
    created_at: n.createdAt,
    updated_at: n.updatedAt,
  };
}

export function clusterFromRow(r: Selectable<ClustersTable>): Cluster {
  return decodeRow(
    Cluster,
    {
      id: r.id,
      name: r.name,
      compatibilityVersion: r.compatibility_version,
      createdAt: readTime(r.created_at),
      updatedAt: readTime(r.updated_at),
    },
    `cluster ${r.id}`,
  );
}

export function clusterNetworkFromRow(r: Selectable<ClusterNetworksTable>): ClusterNetwork {
  return decodeRow(
    ClusterNetwork,
    {
      clusterId: r.cluster_id,
      networkId: r.network_id,
      roles: {
        management: readBool(r.management),
        defaultRoute: readBool(r.default_route),
        display: readBool(r.display),
        migration: readBool(r.migration),
        required: readBool(r.required),
      },
      createdAt: readTime(r.created_at),
      updatedAt: readTime(r.updated_at),
    },
    `cluster network ${r.cluster_id}/${r.network_id}`,
  );
}

export function hostFromRow(r: Selectable<HostsTable>): Host {
  return decodeRow(
    Host,
    {
      id: r.id,
      name: r.name,
      clusterId: r.cluster_id,
      agentEndpoint: readJson(r.agent_endpoint),
      activeNic: r.active_nic,
      reportedInterfaces: readJson(r.reported_interfaces),
      interfacesReportedAt: readNullableTime(r.interfaces_reported_at),
      createdAt: readTime(r.created_at),
      updatedAt: readTime(r.updated_at),
    },
    `host ${r.id}`,
  );
}

export function hostToRow(h: Host, codec: Codec) {
  return {
    id: h.id,
    name: h.name,
    cluster_id: h.clusterId,
    agent_endpoint: codec.nullableJson(h.agentEndpoint),
    active_nic: h.activeNic,
    reported_interfaces: codec.nullableJson(h.reportedInterfaces),
    interfaces_reported_at: h.interfacesReportedAt,
    created_at: h.createdAt,
    updated_at: h.updatedAt,
  };
}

export type AttachmentRow = Selectable<NetworkAttachmentsTable> & { network_name: string };

/** Drops absent optional fields, so a row reads back exactly as the object that was written. */
function present<T extends Record<string, unknown>>(fields: T): Partial<T> {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== null && v !== undefined)) as Partial<T>;
}

export function attachmentFromRow(r: AttachmentRow): NetworkAttachment {
  const dns = readJson(r.dns_name_servers);
  return decodeRow(
    NetworkAttachment,
    {
      id: r.id,
      hostId: r.host_id,
      networkId: r.network_id,
      networkName: r.network_name,
      nicName: r.nic_name,
      ipConfiguration: {
        ipv4: { bootProtocol: r.boot_protocol, ...present({ address: r.address, netmask: r.netmask, gateway: r.gateway }) },
        ipv6: {
          bootProtocol: r.ipv6_boot_protocol,
          ...present({ address: r.ipv6_address, prefix: r.ipv6_prefix, gateway: r.ipv6_gateway }),
        },
      },
      properties: readJson(r.custom_properties),
      qos: readJson(r.qos),
      dns: dns === null ? null : { nameServers: dns },
      requestedBy: r.requested_by,
      createdAt: readTime(r.created_at),
      updatedAt: readTime(r.updated_at),
    },
    `attachment ${r.id}`,
  );
}

export function attachmentToRow(a: Omit<NetworkAttachment, 'networkName'>, codec: Codec) {
  const { ipv4, ipv6 } = a.ipConfiguration;
  return {
    id: a.id,
    host_id: a.hostId,
    network_id: a.networkId,
    nic_name: a.nicName,
    boot_protocol: ipv4.bootProtocol,
    address: ipv4.address ?? null,
    netmask: ipv4.netmask ?? null,
    gateway: ipv4.gateway ?? null,
    ipv6_boot_protocol: ipv6.bootProtocol,
    ipv6_address: ipv6.address ?? null,
    ipv6_prefix: ipv6.prefix ?? null,
    ipv6_gateway: ipv6.gateway ?? null,
    custom_properties: codec.json(a.properties),
    qos: codec.nullableJson(a.qos),
    dns_name_servers: a.dns ? codec.json(a.dns.nameServers) : null,
    requested_by: a.requestedBy,
    created_at: a.createdAt,
    updated_at: a.updatedAt,
  };
}
