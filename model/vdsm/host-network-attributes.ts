/**
 * One network's attributes in `Host.setupNetworks`, as the engine writes them
 * (ovirt-engine vdsbroker HostSetupNetworksVDSCommand `createNetworkAttributes`, HostNetworkQosMapper;
 * docs/engine-host-networking.md#execution-and-the-vdsm-payload). Shared by install-host's management
 * network and by hostSetupNetworks, so both send exactly what the engine would.
 */
import type { IpConfiguration } from '../attachments/attachment';
import type { HostNetworkQos } from '../host-networking/values';
import type { NetworkAttributes } from './setup-networks';

/** VDSM's spelling of "no IPv6 gateway": sent to every static IPv6 network that may not keep one. */
export const UNSPECIFIED_IPV6_GATEWAY = '::';

/** The engine counts QoS rates in Mbps; VDSM's curves take bits per second. */
const MBITS_TO_BITS = 1_000_000;

/** A netmask given as a prefix (`24` or `/24`) is sent as `prefix` (ovirt-engine IPv4MaskValidator `isPrefixValid`). */
const IPV4_PREFIX = /^\/?([0-9]|[12][0-9]|3[0-2])$/;

/** Everything the engine's `HostNetwork` carries for one network on one host. */
export interface HostNetworkSpec {
  /** The base NIC or bond (never a VLAN device). */
  nicName: string;
  /** The device is a bond (existing or created in the same request): sent as `bonding`, else `nic`. */
  bonding: boolean;
  /** `null` for an untagged network. */
  vlan: number | null;
  /** The effective MTU (the data-center default already applied to 0). */
  mtu: number;
  /** A VM network is bridged. */
  vmNetwork: boolean;
  stp: boolean;
  ipConfiguration: IpConfiguration;
  /** The network holds the default route: `defaultRoute: true` and its real IPv6 gateway. */
  defaultRoute: boolean;
  /** The cluster's switch type; omitted when `undefined` (VDSM then uses `legacy`). */
  switchType?: string;
  /** Custom properties; sent as `custom` when not empty. */
  properties?: Readonly<Record<string, string>>;
  /** The effective QoS (attachment override, else the network's); `null`/empty sends none. */
  qos?: HostNetworkQos | null;
  /** Name servers (only ever for the default-route network); omitted when `undefined`. */
  nameServers?: readonly string[];
}

/** The attributes of one network in `Host.setupNetworks`' `networks`. */
export function hostNetworkAttributes(spec: HostNetworkSpec): NetworkAttributes {
  const attrs: NetworkAttributes = spec.bonding ? { bonding: spec.nicName } : { nic: spec.nicName };
  if (spec.vlan !== null) attrs.vlan = String(spec.vlan);
  attrs.mtu = spec.mtu;
  attrs.bridged = spec.vmNetwork ? 'true' : 'false';
  if (spec.vmNetwork) attrs.STP = spec.stp ? 'yes' : 'no';
  Object.assign(attrs, ipv4Attributes(spec.ipConfiguration.ipv4), ipv6Attributes(spec.ipConfiguration.ipv6, spec.defaultRoute));
  if (spec.defaultRoute) attrs.defaultRoute = true;
  if (spec.switchType !== undefined) attrs.switch = spec.switchType;
  if (spec.properties && Object.keys(spec.properties).length) attrs.custom = { ...spec.properties };
  const hostQos = spec.qos ? hostQosAttribute(spec.qos) : null;
  if (hostQos) attrs.hostQos = hostQos;
  if (spec.nameServers !== undefined) attrs.nameservers = [...spec.nameServers];
  return attrs;
}

/** `bootproto: "dhcp"`, or for a static address `ipaddr`, `prefix` or `netmask`, and `gateway` (each when set); nothing for NONE. */
function ipv4Attributes(ipv4: IpConfiguration['ipv4']): NetworkAttributes {
  if (ipv4.bootProtocol === 'DHCP') return { bootproto: 'dhcp' };
  if (ipv4.bootProtocol !== 'STATIC_IP') return {};
  const attrs: NetworkAttributes = {};
  if (ipv4.address) attrs.ipaddr = ipv4.address;
  if (ipv4.netmask) {
    if (IPV4_PREFIX.test(ipv4.netmask)) attrs.prefix = ipv4.netmask.replace('/', '');
    else attrs.netmask = ipv4.netmask;
  }
  if (ipv4.gateway) attrs.gateway = ipv4.gateway;
  return attrs;
}

/**
 * `dhcpv6` and `ipv6autoconf` always; for a static address `ipv6addr` and `ipv6gateway`, which is the real
 * gateway only on the default-route network and `::` everywhere else, so the host keeps a single IPv6
 * default route (HostSetupNetworksVDSCommand `selectIpv6Gateway`).
 */
function ipv6Attributes(ipv6: IpConfiguration['ipv6'], defaultRoute: boolean): NetworkAttributes {
  const proto = ipv6.bootProtocol;
  const attrs: NetworkAttributes = {
    dhcpv6: proto === 'DHCP' || proto === 'POLY_DHCP_AUTOCONF',
    ipv6autoconf: proto === 'AUTOCONF' || proto === 'POLY_DHCP_AUTOCONF',
  };
  if (proto === 'STATIC_IP') {
    if (ipv6.address) attrs.ipv6addr = ipv6.prefix === undefined ? ipv6.address : `${ipv6.address}/${ipv6.prefix}`;
    attrs.ipv6gateway = defaultRoute && ipv6.gateway ? ipv6.gateway : UNSPECIFIED_IPV6_GATEWAY;
  }
  return attrs;
}

/** `{out: {ls: {m2: share}, ul: {m2: bps}, rt: {m2: bps}}}` for the values set, or `null` when none is. */
export function hostQosAttribute(qos: HostNetworkQos): Record<string, unknown> | null {
  const out: Record<string, { m2: number }> = {};
  if (qos.outAverageLinkshare !== undefined) out.ls = { m2: qos.outAverageLinkshare };
  if (qos.outAverageUpperlimit !== undefined) out.ul = { m2: qos.outAverageUpperlimit * MBITS_TO_BITS };
  if (qos.outAverageRealtime !== undefined) out.rt = { m2: qos.outAverageRealtime * MBITS_TO_BITS };
  return Object.keys(out).length ? { out } : null;
}
