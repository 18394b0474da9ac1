/**
 * The host's nameservers, for capabilities' `nameservers`. VDSM reports nmstate's running DNS; we have no
 * NetworkManager, so that is resolv.conf plus what the default-route network's DHCP lease offered (our
 * dhclient script never edits resolv.conf, so those would otherwise be lost).
 */
import { existsSync, readFileSync } from 'node:fs';
import { familyOfAddress } from './iproute2/arguments';

/** `nameserver` entries of resolv.conf text, in order; IPv6 zone suffixes (`%eth0`) dropped. */
export function nameserversFromResolvConf(text: string): string[] {
  const servers: string[] = [];
  for (const line of text.split('\n')) {
    const match = /^\s*nameserver\s+(\S+)/.exec(line);
    const address = match?.[1]?.split('%')[0]?.toLowerCase();
    if (address && familyOfAddress(address) !== null && !servers.includes(address)) servers.push(address);
  }
  return servers;
}

/**
 * The resolv.conf processes in `netns` see: `ip netns exec` bind-mounts /etc/netns/<ns>/resolv.conf over
 * /etc/resolv.conf when it exists.
 */
export function resolvConfPathFor(netns: string | undefined): string {
  if (netns) {
    const perNamespace = `/etc/netns/${netns}/resolv.conf`;
    if (existsSync(perNamespace)) return perNamespace;
  }
  return '/etc/resolv.conf';
}

/**
 * Synchronous on purpose: a change reads it beside the kernel read, and a small local file costs microseconds,
 * while each step of an asynchronous read waited its turn on the event loop behind the read's parsing
 * (docs/setup-networks.md#what-a-change-costs).
 */
export function readNameservers(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    text = '';
  }
  return nameserversFromResolvConf(text);
}
