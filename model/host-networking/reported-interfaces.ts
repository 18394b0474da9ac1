/**
 * The interfaces a host last reported (NICs, bonds with their slaves and options, VLAN devices), the
 * networks VDSM reports on them with their IP configuration and QoS, and the host's name servers, kept on
 * the host as one document: it is written whole on every capabilities refresh and read whole by every
 * request validation and out-of-sync report, so nothing queries a single interface. Derived from VDSM's
 * capabilities by `reportedInterfacesFromCapabilities`.
 *
 * Fields added after the first version are optional, so a document stored before them still reads; a
 * missing one means "not recorded", and the out-of-sync report does not compare what was not recorded.
 */
import { z } from 'zod';
import { canonicalIP, isIP } from '../ip';
import type { DeviceInfo, NetworkCapabilities, NetworkInfo } from '../vdsm/capabilities';
import { mtuOf } from '../vdsm/capability-values';
import { VlanId } from './network';
import {
  reportedIpv4,
  reportedIpv6,
  reportedQos,
  ReportedIpv4,
  ReportedIpv6,
  ReportedQos,
  specifiedIpv6,
} from './reported-network-details';
import { hasNoControlCharacters } from './values';

/** A Linux interface name: 1..15 bytes, no whitespace, `/` or `:` (IFNAMSIZ). */
export const InterfaceName = z.string().regex(/^[^\s/:]{1,15}$/, 'interface names are 1..15 characters without whitespace, "/" or ":"');
export type InterfaceName = z.infer<typeof InterfaceName>;

export const InterfaceKind = { NIC: 'nic', BOND: 'bond', VLAN: 'vlan' } as const;
export type InterfaceKind = (typeof InterfaceKind)[keyof typeof InterfaceKind];

const Mtu = z.number().int().min(0).max(65_535);

export const ReportedNic = z.object({ name: InterfaceName, mac: z.string().max(64), mtu: Mtu, speed: z.number().int().min(0) }).strict();
export type ReportedNic = z.infer<typeof ReportedNic>;

export const ReportedBond = z
  .object({
    name: InterfaceName,
    mac: z.string().max(64),
    mtu: Mtu,
    slaves: z.array(InterfaceName),
    /** Bonding options as reported (`mode`, `miimon`, ...). */
    options: z.record(z.string().max(64), z.string().max(256)),
    activeSlave: InterfaceName.nullable(),
  })
  .strict();
export type ReportedBond = z.infer<typeof ReportedBond>;

export const ReportedVlan = z.object({ name: InterfaceName, baseInterface: InterfaceName, vlanId: VlanId, mtu: Mtu }).strict();
export type ReportedVlan = z.infer<typeof ReportedVlan>;

/**
 * A network as VDSM reports it: a managed one carries a cluster network's VDSM name (see `vdsmNetworkName`),
 * any other name is an *unmanaged* network (docs/engine-host-networking.md#out-of-sync).
 */
export const ReportedNetwork = z
  .object({
    /** The name on the host (VDSM's key in `networks`). */
    name: z.string().min(1).max(256).refine(hasNoControlCharacters, 'network names have no control characters'),
    /** The NIC or bond under it, VLAN device stripped; `null` for a bridge without such a port. */
    baseInterface: InterfaceName.nullable(),
    vlanId: VlanId.nullable(),
    bridged: z.boolean(),
    /** The MTU of the device carrying it (the engine compares that one), else of the network entry. */
    mtu: Mtu,
    /**
     * Holds the host's default route: reports `ipv4defaultroute`, or an IPv6 gateway that is not `::`
     * (ovirt-engine `IsDefaultRouteOnInterfacePredicate`).
     */
    defaultRoute: z.boolean(),
    /** The NIC, bond or VLAN device carrying it (the bridge's port for a bridged network); `null` when none is reported. */
    device: InterfaceName.nullable().optional(),
    /** VDSM's `switch`: `legacy` (Linux bridge) or `ovs`. */
    switchType: z.string().max(32).refine(hasNoControlCharacters, 'switch types have no control characters').optional(),
    /** IPv4 as the host has it (from the bridge for a bridged network, else from the network entry). */
    ipv4: ReportedIpv4.optional(),
    ipv6: ReportedIpv6.optional(),
    /** Outbound QoS the host applies; `null` = none. */
    qos: ReportedQos.nullable().optional(),
  })
  .strict();
export type ReportedNetwork = z.infer<typeof ReportedNetwork>;

/** The host's DNS name servers as it reports them (VDSM `nameservers`); at most this many are kept. */
export const MAX_REPORTED_NAME_SERVERS = 16;

export const ReportedInterfaces = z
  .object({
    nics: z.array(ReportedNic),
    bonds: z.array(ReportedBond),
    vlans: z.array(ReportedVlan),
    /** @default [] (reports stored before networks were recorded have none) */
    networks: z.array(ReportedNetwork).default([]),
    /** The host's name servers, IP addresses in the host's order. */
    nameServers: z.array(z.string().max(64).refine(isIP, 'name servers are IP addresses')).max(MAX_REPORTED_NAME_SERVERS).optional(),
  })
  .strict()
  .superRefine((report, ctx) => {
    const seen = new Set<string>();
    for (const name of [...report.nics, ...report.bonds, ...report.vlans].map((i) => i.name)) {
      if (seen.has(name)) ctx.addIssue({ code: 'custom', message: `interface ${name} is reported twice` });
      seen.add(name);
    }
    const networks = new Set<string>();
    for (const { name } of report.networks) {
      if (networks.has(name)) ctx.addIssue({ code: 'custom', message: `network ${name} is reported twice` });
      networks.add(name);
    }
  });
export type ReportedInterfaces = z.infer<typeof ReportedInterfaces>;
/** What a caller hands in (`networks` may be left out). */
export type ReportedInterfacesInput = z.input<typeof ReportedInterfaces>;

/** What `name` is on the host according to its report, or `null` when the report does not name it. */
export function interfaceKind(report: ReportedInterfaces, name: string): InterfaceKind | null {
  if (report.nics.some((n) => n.name === name)) return InterfaceKind.NIC;
  if (report.bonds.some((b) => b.name === name)) return InterfaceKind.BOND;
  if (report.vlans.some((v) => v.name === name)) return InterfaceKind.VLAN;
  return null;
}

/** The interface part of VDSM's network capabilities, sorted by name, with the networks on them and the host's name servers. */
export function reportedInterfacesFromCapabilities(caps: NetworkCapabilities): ReportedInterfaces {
  const byName = <T extends { name: string }>(items: T[]): T[] => items.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const { networks, nameServers } = reportedNetworks(caps);
  return {
    nics: byName(Object.entries(caps.nics).map(([name, nic]) => ({ name, mac: nic.hwaddr, mtu: mtuOf(nic), speed: nic.speed }))),
    bonds: byName(
      Object.entries(caps.bondings).map(([name, bond]) => ({
        name,
        mac: bond.hwaddr,
        mtu: mtuOf(bond),
        slaves: [...bond.slaves].sort(),
        options: { ...bond.opts },
        activeSlave: bond.active_slave || null,
      })),
    ),
    vlans: byName(
      Object.entries(caps.vlans).map(([name, vlan]) => ({ name, baseInterface: vlan.iface, vlanId: vlan.vlanid, mtu: mtuOf(vlan) })),
    ),
    networks,
    nameServers,
  };
}

/** What the host reports per network, sorted by name, and its name servers. */
export interface ReportedNetworks {
  networks: ReportedNetwork[];
  /** IP addresses only, IPv6 compressed, in the host's order, duplicates dropped. */
  nameServers: string[];
}

/**
 * What the host reports per network (see `ReportedNetwork`), and its DNS name servers. Entries of
 * `nameservers` that are not IP addresses are left out: no desired name server can equal them.
 */
export function reportedNetworks(caps: NetworkCapabilities): ReportedNetworks {
  const networks = Object.entries(caps.networks)
    .map(([name, net]) => reportedNetwork(caps, name, net))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const nameServers = [...new Set(caps.nameservers.filter(isIP).map(canonicalIP))].slice(0, MAX_REPORTED_NAME_SERVERS);
  return { networks, nameServers };
}

/**
 * One reported network. The device under it is `southbound` when VDSM says so, else the bridge's NIC,
 * bond or VLAN port (bridged) or `iface` itself (bridgeless); a VLAN device is stripped to its base. IP
 * data comes from the bridge's entry for a bridged network and from the network entry otherwise, as the
 * engine reads it.
 */
function reportedNetwork(caps: NetworkCapabilities, name: string, net: NetworkInfo): ReportedNetwork {
  const deviceEntry = (dev: string): DeviceInfo | undefined => caps.nics[dev] ?? caps.bondings[dev] ?? caps.vlans[dev];
  const candidate =
    net.southbound ??
    (net.bridged ? (net.ports ?? caps.bridges[net.iface]?.ports ?? []).find((p) => deviceEntry(p) !== undefined) : net.iface);
  const device = candidate !== undefined && deviceEntry(candidate) !== undefined ? candidate : null;
  const vlan = device === null ? undefined : caps.vlans[device];
  const baseInterface = vlan ? vlan.iface : device;
  const ipEntry: DeviceInfo = (net.bridged ? caps.bridges[net.iface] : undefined) ?? net;
  const deviceInfo = device === null ? undefined : deviceEntry(device);
  return {
    name,
    baseInterface,
    vlanId: vlan?.vlanid ?? net.vlanid ?? null,
    bridged: net.bridged,
    mtu: mtuOf(deviceInfo ?? net),
    defaultRoute: ipEntry.ipv4defaultroute || specifiedIpv6(ipEntry.ipv6gateway) !== null,
    device,
    switchType: net.switch,
    ipv4: reportedIpv4(ipEntry),
    ipv6: reportedIpv6(ipEntry),
    qos: reportedQos(net.hostQos),
  };
}
