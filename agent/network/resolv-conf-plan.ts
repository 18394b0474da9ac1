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
 * leases instead: their nameservers become the file's, as NetworkManager does with a lease's DNS on a VDSM
 * host (docs/setup-networks.md#dns-from-dhcp).
 */
import { BootProto, isRemove, type NetworkConfig, type RemoveEntry } from '../../model/network/config';
import type { DhcpLease } from '../backend/dhcp/lease';
import { familyOfAddress } from '../backend/iproute2/arguments';
import { nameserversFromResolvConf, withNameservers, type ResolvConfFile } from '../backend/resolv-conf';

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

/**
 * The nameservers the default-route network's leases offer, the IPv4 lease's first, each once. Only the
 * default-route network's client installs its lease as the default route, and its lease file says so.
 * The dhclient script already keeps only addresses; anything else is dropped here too, because it becomes
 * a line of resolv.conf.
 */
export function leaseNameservers(leases: readonly Pick<DhcpLease, 'family' | 'defaultRoute' | 'nameservers'>[]): string[] {
  const servers = leases
    .filter((lease) => lease.defaultRoute)
    .sort((a, b) => a.family - b.family)
    .flatMap((lease) => lease.nameservers.map((server) => server.toLowerCase()))
    .filter((server) => familyOfAddress(server) !== null);
  return [...new Set(servers)];
}
