/**
 * The DNS part of a network change: the default-route network's nameservers become resolv.conf's
 * `nameserver` lines (VDSM puts them in the host's DNS configuration the same way). Pure: it takes the
 * file as the backend read it and returns the text to write, or nothing to do.
 *
 * Only a default-route network that carries nameservers changes the file; none leaves it as it is, and an
 * empty list sent for a static one clears its `nameserver` lines. A resolv.conf a resolver service owns (a
 * symbolic link) is never written.
 */
import { isRemove, type NetworkConfig, type RemoveEntry } from '../../model/network/config';
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
