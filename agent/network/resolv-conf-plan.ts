/**
 * The DNS part of a network change: the default-route network's nameservers become resolv.conf's
 * `nameserver` lines (VDSM puts them in the host's DNS configuration the same way). Pure: it takes the
 * file as the backend read it and returns the text to write, or nothing to do.
 *
 * Only a default-route network that carries nameservers changes the file; none leaves it as it is, and an
 * empty list sent for a static one clears its `nameserver` lines. A resolv.conf a resolver service owns (a
 * symbolic link) is never written.
 *
 * A default-route network that takes its address by DHCP and has no nameservers of its own follows its
 * leases instead: their nameservers and search domains become the file's, as NetworkManager does with a
 * lease's DNS on a VDSM host (docs/setup-networks.md#dns-from-dhcp).
 */
import { BootProto, isRemove, type NetworkConfig, type RemoveEntry } from '../../model/network/config';
import type { DhcpLease } from '../backend/dhcp/lease';
import { familyOfAddress } from '../backend/iproute2/arguments';
import { nameserversFromResolvConf, withNameservers, withSearchDomains, type ResolvConfFile } from '../backend/resolv-conf';

/** The nameservers of the default-route network among `networks`, or none. */
export function defaultRouteNameservers(networks: Readonly<Record<string, NetworkConfig | RemoveEntry>>): string[] {
  for (const entry of Object.values(networks)) if (!isRemove(entry) && entry.defaultRoute) return entry.nameservers;
  return [];
}

export type ResolvConfPlan =
  | { kind: 'unchanged' }
  /** A resolver service owns the file: the nameservers are kept in the configuration, not written. */
  | { kind: 'managed' }
  /** `before` is what a rollback puts back (`null`: there was no file). */
  | { kind: 'write'; before: string | null; after: string };

/**
 * What to do with resolv.conf for the default-route network's `servers`. None leaves the file as it is,
 * unless the request cleared them (`clear`, the request's `clearsNameservers`): then the file's
 * `nameserver` lines go and every other line stays.
 */
export function planResolvConf(file: ResolvConfFile, servers: readonly string[], clear = false): ResolvConfPlan {
  if (servers.length === 0 && !clear) return { kind: 'unchanged' };
  if (file.managed) return { kind: 'managed' };
  const now = nameserversFromResolvConf(file.text ?? '');
  if (now.length === servers.length && now.every((server, i) => server === servers[i])) return { kind: 'unchanged' };
  return { kind: 'write', before: file.text, after: withNameservers(file.text ?? '', servers) };
}

/** Whether the default-route network among `networks` takes its DNS servers from its DHCP leases: it uses DHCP and names none itself. */
export function followsLeaseNameservers(networks: Readonly<Record<string, NetworkConfig>>): boolean {
  return Object.values(networks).some(
    (net) => net.defaultRoute && (net.bootproto === BootProto.DHCP || net.dhcpv6) && net.nameservers.length === 0,
  );
}

/** What the default-route network's DHCP leases offer for resolv.conf. */
export interface LeaseDns {
  nameservers: string[];
  searchDomains: string[];
}

/** glibc reads at most six search domains (MAXDNSRCH). */
const MAX_SEARCH_DOMAINS = 6;
const DOMAIN = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/**
 * The nameservers and search domains the default-route network's leases offer, the IPv4 lease's first, each
 * once. Only the default-route network's client installs its lease as the default route, and its lease file
 * says so. The dhclient script already keeps only addresses and domain names; anything else is dropped here
 * too, because each becomes part of a line of resolv.conf.
 */
export function leaseDns(leases: readonly Pick<DhcpLease, 'family' | 'defaultRoute' | 'nameservers' | 'searchDomains'>[]): LeaseDns {
  const ordered = leases.filter((lease) => lease.defaultRoute).sort((a, b) => a.family - b.family);
  const nameservers = ordered
    .flatMap((lease) => lease.nameservers.map((server) => server.toLowerCase()))
    .filter((server) => familyOfAddress(server) !== null);
  const searchDomains = ordered.flatMap((lease) => lease.searchDomains).filter((domain) => domain.length <= 253 && DOMAIN.test(domain));
  return { nameservers: [...new Set(nameservers)], searchDomains: [...new Set(searchDomains)].slice(0, MAX_SEARCH_DOMAINS) };
}

/**
 * resolv.conf with what the leases offer: their nameservers in place of the file's `nameserver` lines, their
 * search domains in place of its `search` line. What they do not offer stays as it is: better the settings
 * the host has than none.
 */
export function planLeaseResolvConf(file: ResolvConfFile, dns: LeaseDns): ResolvConfPlan {
  if (dns.nameservers.length === 0 && dns.searchDomains.length === 0) return { kind: 'unchanged' };
  if (file.managed) return { kind: 'managed' };
  const before = file.text ?? '';
  let after = before;
  if (dns.searchDomains.length) after = withSearchDomains(after, dns.searchDomains);
  if (dns.nameservers.length) after = withNameservers(after, dns.nameservers);
  return after === before ? { kind: 'unchanged' } : { kind: 'write', before: file.text, after };
}
