/**
 * When a desired value and a reported one count as equal: the engine's rules
 * (ovirt-engine NetworkInSyncWithVdsNetworkInterface, SubnetUtils `equalSubnet`, IpAddressPredicate;
 * docs/engine-host-networking.md#out-of-sync). Each rule is a small pure function so it can be tested on
 * its own; everything not listed here is compared with plain equality.
 */
import { canonicalIP, isIPv4, isIPv6, netmaskToPrefix } from '../ip';
import { DEFAULT_MTU } from '../host-networking/network';

/** The MTU the data center means: the network's, or the default for 0 (engine config `DefaultMTU`). */
export function effectiveMtu(networkMtu: number, defaultMtu: number = DEFAULT_MTU): number {
  return networkMtu === 0 ? defaultMtu : networkMtu;
}

/** The prefix length of a netmask given dotted (`255.255.255.0`) or as a length (`24`, `/24`); `null` when it is neither. */
export function ipv4PrefixOf(mask: string): number | null {
  const length = /^\/?([0-9]|[12][0-9]|3[0-2])$/.exec(mask.trim());
  if (length) return Number(length[1]);
  return netmaskToPrefix(mask.trim());
}

/** Same subnet mask, whichever way each side writes it; two missing masks are equal, one missing is not. */
export function sameNetmask(desired: string | null, reported: string | null): boolean {
  if (desired === null || reported === null || desired === reported) return desired === reported;
  const a = ipv4PrefixOf(desired);
  return a !== null && a === ipv4PrefixOf(reported);
}

/** No IPv4 gateway: missing, empty, or `0.0.0.0` (which the engine sends to mean none). */
function noIpv4Gateway(value: string | null): boolean {
  return value === null || value === '' || value === '0.0.0.0';
}

/** Equal gateways; or none on either side, where a desired `0.0.0.0` is none. */
export function sameIpv4Gateway(desired: string | null, reported: string | null): boolean {
  if (noIpv4Gateway(desired) || noIpv4Gateway(reported)) return noIpv4Gateway(desired) && noIpv4Gateway(reported);
  return desired === reported;
}

/** The same IPv4 address, as strings (the engine's `Objects.equals`; IPv4 has one spelling here, checked on the way in). */
export function sameIpv4Address(desired: string | null, reported: string | null): boolean {
  return desired === reported;
}

function unspecifiedIpv6(value: string | null): boolean {
  return value === null || value === '' || (isIPv6(value) && !isIPv4(value) && canonicalIP(value) === '::');
}

/**
 * Equal as IPv6 addresses (`2001:DB8::0:1` equals `2001:db8::1`); or nothing desired while the host
 * reports none or the unspecified address.
 */
export function sameIpv6Address(desired: string | null, reported: string | null): boolean {
  if (desired === null) return unspecifiedIpv6(reported);
  if (reported === null) return false;
  return desired === reported || canonicalIP(desired) === canonicalIP(reported);
}

/** Every expected name server is among the host's (compared as IP addresses; order and extras do not matter). */
export function nameServersInclude(host: readonly string[], expected: readonly string[]): boolean {
  if (expected.every((ns) => host.includes(ns))) return true;
  const have = new Set(host.map(canonicalIP));
  return expected.every((ns) => have.has(canonicalIP(ns)));
}

/** A list of name servers as the report shows it: sorted, comma-separated; `null` for none (the engine's form). */
export function nameServersText(nameServers: readonly string[]): string | null {
  return nameServers.length ? [...nameServers].map(canonicalIP).sort().join(',') : null;
}
