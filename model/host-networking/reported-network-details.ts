/**
 * What a host reports about one network beyond where it sits: its IPv4 and IPv6 configuration with the
 * boot protocol the engine derives from it, and its outbound QoS. These are the host-side values the
 * out-of-sync report compares (docs/engine-host-networking.md#out-of-sync) and the values refresh copies
 * into a new attachment (docs/engine-host-networking.md#refresh-from-capabilities).
 *
 * Derivation follows the engine's capabilities parser (ovirt-engine VdsBrokerObjectsBuilder
 * `addHostNetworksAndUpdateInterfaces`, `addBootProtocol`, Ipv4BootProtocolResolver, Ipv6BootProtocolResolver):
 * - IPv4: `dhcpv4` gives DHCP, otherwise an address gives STATIC_IP, otherwise NONE.
 * - IPv6: `dhcpv6` and `ipv6autoconf` together give POLY_DHCP_AUTOCONF, either alone gives DHCP or
 *   AUTOCONF, otherwise an address gives STATIC_IP, otherwise NONE.
 * - A gateway is kept only when the boot protocol is STATIC_IP.
 *
 * Values are normalised on the way in (addresses checked and IPv6 compressed, a netmask always dotted), so
 * nothing the host sends is stored unchecked: a value that is not what it claims to be is left out.
 */
import { z } from 'zod';
import { Ipv4BootProtocol, Ipv6BootProtocol } from '../attachments/attachment';
import { canonicalIP, isIPv4, isIPv6, netmaskToPrefix, parseCidr, prefixToNetmask } from '../ip';
import type { DeviceInfo, HostQosInfo } from '../vdsm/capabilities';

const IpText = z.string().max(64);

export const ReportedIpv4 = z
  .object({
    bootProtocol: z.enum(Ipv4BootProtocol),
    /** The primary address, whatever the boot protocol (a DHCP lease included). */
    address: IpText.nullable(),
    /** Dotted, e.g. `255.255.255.0`. */
    netmask: IpText.nullable(),
    /** Only when the boot protocol is STATIC_IP. */
    gateway: IpText.nullable(),
  })
  .strict();
export type ReportedIpv4 = z.infer<typeof ReportedIpv4>;

export const ReportedIpv6 = z
  .object({
    bootProtocol: z.enum(Ipv6BootProtocol),
    /** The first global address, compressed (link-local addresses are never it). */
    address: IpText.nullable(),
    prefix: z.number().int().min(0).max(128).nullable(),
    /** Only when the boot protocol is STATIC_IP; `null` also when the host reports `::` (no gateway). */
    gateway: IpText.nullable(),
  })
  .strict();
export type ReportedIpv6 = z.infer<typeof ReportedIpv6>;

/**
 * Outbound QoS as the host reports it, in the engine's units: link share as a weight, upper limit and real
 * time in Mbps. Unlike a desired QoS it has no bounds but being whole and not negative: it is what the host
 * has, sensible or not.
 */
export const ReportedQos = z
  .object({
    outAverageLinkshare: z.number().int().min(0).nullable(),
    outAverageUpperlimit: z.number().int().min(0).nullable(),
    outAverageRealtime: z.number().int().min(0).nullable(),
  })
  .strict();
export type ReportedQos = z.infer<typeof ReportedQos>;

/** VDSM's rates are bits per second; the engine's Mbps (ovirt-engine HostNetworkQosMapper `MBITS_TO_BITS`). */
const MBITS_TO_BITS = 1_000_000;

/** The unspecified IPv6 address: VDSM's "no gateway". */
const UNSPECIFIED_IPV6 = '::';

/** IPv4 of a reported device entry (see the module comment). */
export function reportedIpv4(entry: DeviceInfo): ReportedIpv4 {
  const address = isIPv4(entry.addr) ? entry.addr : null;
  const netmask = address === null ? null : dottedNetmask(entry, address);
  const bootProtocol = entry.dhcpv4 ? Ipv4BootProtocol.DHCP : address !== null ? Ipv4BootProtocol.STATIC_IP : Ipv4BootProtocol.NONE;
  const gateway = bootProtocol === Ipv4BootProtocol.STATIC_IP && isIPv4(entry.gateway) ? entry.gateway : null;
  return { bootProtocol, address, netmask, gateway };
}

/** VDSM's `netmask`, or the prefix of the address in `ipv4addrs` when `netmask` is missing or malformed. */
function dottedNetmask(entry: DeviceInfo, address: string): string | null {
  if (netmaskToPrefix(entry.netmask) !== null) return entry.netmask;
  const cidr = entry.ipv4addrs.map((a) => parseCidr(a)).find((c) => c?.address === address);
  return cidr ? prefixToNetmask(cidr.prefixLen) : null;
}

/** IPv6 of a reported device entry (see the module comment). */
export function reportedIpv6(entry: DeviceInfo): ReportedIpv6 {
  const global = entry.ipv6addrs
    .map((a) => parseCidr(a))
    .find((c): c is NonNullable<typeof c> => c !== null && isIPv6(c.address) && !isIPv4(c.address) && !isLinkLocalIPv6(c.address));
  let bootProtocol: Ipv6BootProtocol = Ipv6BootProtocol.NONE;
  if (entry.dhcpv6 && entry.ipv6autoconf) bootProtocol = Ipv6BootProtocol.POLY_DHCP_AUTOCONF;
  else if (entry.dhcpv6) bootProtocol = Ipv6BootProtocol.DHCP;
  else if (entry.ipv6autoconf) bootProtocol = Ipv6BootProtocol.AUTOCONF;
  else if (global) bootProtocol = Ipv6BootProtocol.STATIC_IP;
  const gateway = bootProtocol === Ipv6BootProtocol.STATIC_IP ? specifiedIpv6(entry.ipv6gateway) : null;
  return { bootProtocol, address: global?.address ?? null, prefix: global?.prefixLen ?? null, gateway };
}

/** The reported IPv6 gateway compressed, or `null` for none (empty, `::` or not an IPv6 address). */
export function specifiedIpv6(value: string): string | null {
  if (!value || !isIPv6(value) || isIPv4(value)) return null;
  const canonical = canonicalIP(value);
  return canonical === UNSPECIFIED_IPV6 ? null : canonical;
}

/** fe80::/10. */
export function isLinkLocalIPv6(address: string): boolean {
  const first = canonicalIP(address).split(':')[0] ?? '';
  return first !== '' && (Number.parseInt(first, 16) & 0xffc0) === 0xfe80;
}

/**
 * The network entry's `hostQos` in the engine's units (ovirt-engine HostNetworkQosMapper `deserialize`):
 * `null` when the host reports none, or reports it with no value set.
 */
export function reportedQos(hostQos: HostQosInfo | undefined): ReportedQos | null {
  const out = hostQos?.out;
  if (!out) return null;
  const rate = (m2: number | undefined) => (m2 === undefined ? null : Math.floor(m2 / MBITS_TO_BITS));
  const qos: ReportedQos = {
    outAverageLinkshare: out.ls?.m2 ?? null,
    outAverageUpperlimit: rate(out.ul?.m2),
    outAverageRealtime: rate(out.rt?.m2),
  };
  return qos.outAverageLinkshare === null && qos.outAverageUpperlimit === null && qos.outAverageRealtime === null ? null : qos;
}
