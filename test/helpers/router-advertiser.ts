/**
 * A router advertising IPv6 prefixes on a namespace's interface (dnsmasq, DNS off), and the wait for a
 * namespace to learn a default route from such advertisements: the router-advertisement tests' shared parts.
 */
import { readFile } from 'node:fs/promises';
import type { Netns } from '../../testbed/netns';

/** Starts dnsmasq advertising on `iface` with these `--dhcp-range` and extra options; returns its pid. */
export async function startRouterAdvertiser(
  ns: Netns,
  iface: string,
  dhcpRange: string,
  pidFile: string,
  extra: string[] = [],
): Promise<number> {
  await ns.exec([
    'dnsmasq',
    '--conf-file=/dev/null',
    '--no-resolv',
    '--no-hosts',
    '--port=0',
    `--interface=${iface}`,
    '--bind-interfaces',
    '--user=root',
    '--group=root',
    '--enable-ra',
    `--dhcp-range=${dhcpRange}`,
    ...extra,
    `--pid-file=${pidFile}`,
  ]);
  return Number((await readFile(pidFile, 'utf8')).trim());
}

/** Waits until `ns` has an IPv6 default route learned from an advertisement (`proto ra`). */
export async function waitForLearnedDefaultRoute(ns: Netns, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const routes = await ns.ipJson<Array<{ protocol?: string }>>(['-6', 'route', 'show', 'default']);
    if (routes.some((r) => r.protocol === 'ra')) return;
    if (Date.now() > deadline) throw new Error(`${what} learned no default route within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
