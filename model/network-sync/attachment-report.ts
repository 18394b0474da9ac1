/**
 * outOfSyncReport: one attachment compared, property by property, with what the host reports for its
 * network (ovirt-engine NetworkInSyncWithVdsNetworkInterface `reportConfigurationsOnHost`;
 * docs/engine-host-networking.md#out-of-sync). Pure and cheap: it runs for every attachment of every host
 * the status query or search attribute covers.
 *
 * What is compared, and when:
 * - MTU (network MTU, 0 meaning 1500), bridged (the VM-network flag), VLAN, and the switch type (always
 *   `legacy` in hostprov): always.
 * - IPv4 and IPv6 boot protocol: always (every stored attachment has both families). Netmask or prefix,
 *   address and gateway: only when both sides are STATIC_IP.
 * - QoS link share, upper limit and real time: when the attachment's QoS (else the network's) or the
 *   host's is set.
 * - DNS: only for the cluster's default-route network; the host's name servers must include the
 *   attachment's (else the network's).
 * - Default route: the host holds it on this network exactly when the network has the role.
 *
 * A property the stored report did not record (a report written before hostprov kept it) is not compared,
 * rather than counted as different.
 */
import { NO_ROLES, type ClusterNetworkRoles } from '../host-networking/cluster';
import type { Network } from '../host-networking/network';
import type { NetworkAttachment } from '../host-networking/network-attachment';
import type { ReportedNetwork } from '../host-networking/reported-interfaces';
import { vdsmNetworkName } from '../host-networking/vdsm-name';
import type { HostNetworkQos } from '../host-networking/values';
import type { ReportedQos } from '../host-networking/reported-network-details';
import {
  effectiveMtu,
  nameServersInclude,
  nameServersText,
  sameIpv4Address,
  sameIpv4Gateway,
  sameIpv6Address,
  sameNetmask,
} from './equality';
import { NetworkSyncPreconditionError } from './errors';
import { SyncProperty, type PropertyComparison, type SyncValue } from './sync-property';

export const AttachmentSyncState = {
  IN_SYNC: 'in-sync',
  OUT_OF_SYNC: 'out-of-sync',
  /**
   * The host reports the network on no interface. Not a drift in the engine's sense (nothing to compare);
   * the next refresh drops such an attachment, and a request that re-sends it puts the network back.
   */
  NOT_REPORTED: 'not-reported',
} as const;
export type AttachmentSyncState = (typeof AttachmentSyncState)[keyof typeof AttachmentSyncState];

/** The switch type hostprov clusters require: Linux bridges (hostprov has no OVS clusters). */
export const REQUIRED_SWITCH_TYPE = 'legacy';

export interface OutOfSyncOptions {
  /**
   * The host's name servers as reported (`ReportedInterfaces.nameServers`).
   * @default not recorded: DNS is not compared
   */
  hostNameServers?: readonly string[];
  /**
   * The MTU a network with MTU 0 means (engine config `DefaultMTU`).
   * @default 1500
   */
  defaultMtu?: number;
  /**
   * The cluster's switch type.
   * @default "legacy"
   */
  requiredSwitchType?: string;
}

/** One attachment against the host. */
export interface AttachmentSyncReport {
  attachmentId: string;
  networkId: string;
  networkName: string;
  /** The network's name on the host (its VDSM name). */
  hostNetworkName: string;
  /** The attachment's base NIC or bond. */
  nicName: string | null;
  /** The base NIC or bond the host reports the network on; `null` when it reports it on none. */
  reportedBaseInterface: string | null;
  state: AttachmentSyncState;
  /** Every property compared, in the engine's order; `[]` when the network is not reported. */
  comparisons: PropertyComparison[];
  /** The comparisons that are not in sync, in the same order. */
  differences: PropertyComparison[];
}

/**
 * Compares `attachment` (of `network`, with the network's `roles` in the host's cluster, `null` when the
 * cluster no longer has it) with `reported`, what the host reports for that network (`null` when it
 * reports no network of that name).
 * @throws NetworkSyncPreconditionError when the attachment, the network and the report are not of one network.
 */
export function outOfSyncReport(
  attachment: NetworkAttachment,
  network: Network,
  roles: ClusterNetworkRoles | null,
  reported: ReportedNetwork | null,
  options: OutOfSyncOptions = {},
): AttachmentSyncReport {
  const hostNetworkName = vdsmNetworkName(network);
  if (attachment.networkId !== network.id) {
    throw new NetworkSyncPreconditionError(
      `attachment ${attachment.id} is of network ${attachment.networkId}, not of ${network.name} (${network.id})`,
    );
  }
  if (reported !== null && reported.name !== hostNetworkName) {
    throw new NetworkSyncPreconditionError(
      `the host's network ${reported.name} is not network ${network.name}, which the host calls ${hostNetworkName}`,
    );
  }
  const base = {
    attachmentId: attachment.id,
    networkId: network.id,
    networkName: network.name,
    hostNetworkName,
    nicName: attachment.nicName,
    reportedBaseInterface: reported?.baseInterface ?? null,
  };
  if (reported === null || reported.baseInterface === null) {
    return { ...base, state: AttachmentSyncState.NOT_REPORTED, comparisons: [], differences: [] };
  }
  const comparisons = compare(attachment, network, roles ?? NO_ROLES, reported, options);
  const differences = comparisons.filter((c) => !c.inSync);
  return { ...base, state: differences.length ? AttachmentSyncState.OUT_OF_SYNC : AttachmentSyncState.IN_SYNC, comparisons, differences };
}

function compare(
  attachment: NetworkAttachment,
  network: Network,
  roles: ClusterNetworkRoles,
  reported: ReportedNetwork,
  options: OutOfSyncOptions,
): PropertyComparison[] {
  const out: PropertyComparison[] = [];
  const add = (property: SyncProperty, desired: SyncValue, host: SyncValue, inSync: boolean = desired === host) =>
    out.push({ property, desired, reported: host, inSync });

  add(SyncProperty.MTU, effectiveMtu(network.mtu, options.defaultMtu), reported.mtu);
  add(SyncProperty.BRIDGED, network.vmNetwork, reported.bridged);
  add(SyncProperty.VLAN, network.vlan, reported.vlanId);
  if (reported.switchType !== undefined)
    add(SyncProperty.SWITCH_TYPE, options.requiredSwitchType ?? REQUIRED_SWITCH_TYPE, reported.switchType);

  const { ipv4, ipv6 } = attachment.ipConfiguration;
  if (reported.ipv4 !== undefined) {
    const host = reported.ipv4;
    add(SyncProperty.IPV4_BOOT_PROTOCOL, ipv4.bootProtocol, host.bootProtocol);
    if (ipv4.bootProtocol === 'STATIC_IP' && host.bootProtocol === 'STATIC_IP') {
      const desired = { netmask: ipv4.netmask ?? null, address: ipv4.address ?? null, gateway: ipv4.gateway ?? null };
      add(SyncProperty.IPV4_NETMASK, desired.netmask, host.netmask, sameNetmask(desired.netmask, host.netmask));
      add(SyncProperty.IPV4_ADDRESS, desired.address, host.address, sameIpv4Address(desired.address, host.address));
      add(SyncProperty.IPV4_GATEWAY, desired.gateway, host.gateway, sameIpv4Gateway(desired.gateway, host.gateway));
    }
  }
  if (reported.ipv6 !== undefined) {
    const host = reported.ipv6;
    add(SyncProperty.IPV6_BOOT_PROTOCOL, ipv6.bootProtocol, host.bootProtocol);
    if (ipv6.bootProtocol === 'STATIC_IP' && host.bootProtocol === 'STATIC_IP') {
      const desired = { prefix: ipv6.prefix ?? null, address: ipv6.address ?? null, gateway: ipv6.gateway ?? null };
      add(SyncProperty.IPV6_PREFIX, desired.prefix, host.prefix);
      add(SyncProperty.IPV6_ADDRESS, desired.address, host.address, sameIpv6Address(desired.address, host.address));
      add(SyncProperty.IPV6_GATEWAY, desired.gateway, host.gateway, sameIpv6Address(desired.gateway, host.gateway));
    }
  }

  if (reported.qos !== undefined) {
    const desired = attachment.qos ?? network.qos;
    if (desired !== null || reported.qos !== null) {
      const want = desiredQos(desired);
      const have = reported.qos ?? { outAverageLinkshare: null, outAverageUpperlimit: null, outAverageRealtime: null };
      add(SyncProperty.OUT_AVERAGE_LINK_SHARE, want.outAverageLinkshare, have.outAverageLinkshare);
      add(SyncProperty.OUT_AVERAGE_UPPER_LIMIT, want.outAverageUpperlimit, have.outAverageUpperlimit);
      add(SyncProperty.OUT_AVERAGE_REAL_TIME, want.outAverageRealtime, have.outAverageRealtime);
    }
  }

  if (roles.defaultRoute && options.hostNameServers !== undefined) {
    const own = attachment.dns?.nameServers ?? [];
    const expected = own.length ? own : network.dnsServers;
    add(
      SyncProperty.DNS_CONFIGURATION,
      nameServersText(expected),
      nameServersText(options.hostNameServers),
      nameServersInclude(options.hostNameServers, expected),
    );
  }

  add(SyncProperty.DEFAULT_ROUTE, roles.defaultRoute, reported.defaultRoute);
  return out;
}

function desiredQos(qos: HostNetworkQos | null): ReportedQos {
  return {
    outAverageLinkshare: qos?.outAverageLinkshare ?? null,
    outAverageUpperlimit: qos?.outAverageUpperlimit ?? null,
    outAverageRealtime: qos?.outAverageRealtime ?? null,
  };
}
