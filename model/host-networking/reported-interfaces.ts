/**
 * The interfaces a host last reported (NICs, bonds with their slaves and options, VLAN devices), kept on
 * the host as one document: it is written whole on every capabilities refresh and read whole by every
 * request validation, so nothing queries a single interface. Derived from VDSM's capabilities by
 * `reportedInterfacesFromCapabilities`.
 */
import { z } from 'zod';
import { mtuOf, type NetworkCapabilities } from '../vdsm/capabilities';
import { VlanId } from './network';

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

export const ReportedInterfaces = z
  .object({ nics: z.array(ReportedNic), bonds: z.array(ReportedBond), vlans: z.array(ReportedVlan) })
  .strict()
  .superRefine((report, ctx) => {
    const seen = new Set<string>();
    for (const name of [...report.nics, ...report.bonds, ...report.vlans].map((i) => i.name)) {
      if (seen.has(name)) ctx.addIssue({ code: 'custom', message: `interface ${name} is reported twice` });
      seen.add(name);
    }
  });
export type ReportedInterfaces = z.infer<typeof ReportedInterfaces>;

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
  };
}
