/**
 * The interfaces a host last reported (NICs, bonds with their slaves and options, VLAN devices) and the
 * networks VDSM reports on them, kept on the host as one document: it is written whole on every
 * capabilities refresh and read whole by every request validation, so nothing queries a single interface.
 * Derived from VDSM's capabilities by `reportedInterfacesFromCapabilities`.
 */
import { z } from 'zod';
import { canonicalIP, isIPv6 } from '../ip';
import { mtuOf, type NetworkCapabilities, type NetworkInfo } from '../vdsm/capabilities';
import { VlanId } from './network';
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
    mtu: Mtu,
    /**
     * Holds the host's default route: reports `ipv4defaultroute`, or an IPv6 gateway that is not `::`
     * (ovirt-engine `IsDefaultRouteOnInterfacePredicate`).
     */
    defaultRoute: z.boolean(),
  })
  .strict();
export type ReportedNetwork = z.infer<typeof ReportedNetwork>;

export const ReportedInterfaces = z
  .object({
    nics: z.array(ReportedNic),
    bonds: z.array(ReportedBond),
    vlans: z.array(ReportedVlan),
    /** @default [] (reports stored before networks were recorded have none) */
    networks: z.array(ReportedNetwork).default([]),
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

/** The interface part of VDSM's network capabilities, sorted by name. */
export function reportedInterfacesFromCapabilities(caps: NetworkCapabilities): ReportedInterfaces {
  const byName = <T extends { name: string }>(items: T[]): T[] => items.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
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
    vlans: byName(Object.entries(caps.vlans).map(([name, vlan]) => ({ name, baseInterface: vlan.iface, vlanId: vlan.vlanid, mtu: mtuOf(vlan) }))),
    networks: byName(Object.entries(caps.networks).map(([name, net]) => reportedNetwork(caps, name, net))),
  };
}

/**
 * One reported network. The device under it is `southbound` when VDSM says so, else the bridge's NIC,
 * bond or VLAN port (bridged) or `iface` itself (bridgeless); a VLAN device is stripped to its base.
 */
function reportedNetwork(caps: NetworkCapabilities, name: string, net: NetworkInfo): ReportedNetwork {
  const isDevice = (dev: string) => dev in caps.nics || dev in caps.bondings || dev in caps.vlans;
  const device = net.southbound ?? (net.bridged ? (net.ports ?? caps.bridges[net.iface]?.ports ?? []).find(isDevice) : net.iface);
  const vlan = device === undefined ? undefined : caps.vlans[device];
  const baseInterface = vlan ? vlan.iface : device !== undefined && isDevice(device) ? device : null;
  const ipv6Gateway = net.ipv6gateway && isIPv6(net.ipv6gateway) ? canonicalIP(net.ipv6gateway) : '::';
  return {
    name,
    baseInterface,
    vlanId: vlan?.vlanid ?? net.vlanid ?? null,
    bridged: net.bridged,
    mtu: mtuOf(net),
    defaultRoute: net.ipv4defaultroute || ipv6Gateway !== '::',
  };
}
