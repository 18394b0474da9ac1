/**
 * IPv6 on or off per link: `net.ipv6.conf.<link>.disable_ipv6`. The agent turns it off on the bridge of a
 * network without IPv6 configuration, as VDSM does (docs/setup-networks.md#ipv6-off-where-a-network-has-none):
 * otherwise anything on a VM network's bridge, a guest included, could give the host an address and a
 * default route there with a router advertisement, and reach it over the bridge's link-local address.
 *
 * /proc/sys/net shows the namespace of the process that opens it, so these work only where the agent acts on
 * its own namespace (production); a backend driving another namespace from outside does not use them.
 */
import { readFile, writeFile } from 'node:fs/promises';

/** Link names as the kernel allows them (no `/`, not `.` or `..`), so the path stays under /proc/sys. */
const SAFE_LINK_NAME = /^(?!\.\.?$)[^/\0\s]{1,15}$/;

function disableIpv6Path(link: string): string {
  if (!SAFE_LINK_NAME.test(link)) throw new Error(`not a link name: ${JSON.stringify(link)}`);
  return `/proc/sys/net/ipv6/conf/${link}/disable_ipv6`;
}

/** Whether IPv6 is on, per link; a link with no such file (gone, or a kernel without IPv6) is left out. */
export async function readIpv6Enabled(links: readonly string[]): Promise<Map<string, boolean>> {
  const states = await Promise.all(
    links.map(async (link): Promise<[string, boolean] | null> => {
      try {
        const text = (await readFile(disableIpv6Path(link), 'utf8')).trim();
        return text === '0' || text === '1' ? [link, text === '0'] : null;
      } catch {
        return null;
      }
    }),
  );
  return new Map(states.filter((s): s is [string, boolean] => s !== null));
}

/** Turns IPv6 on or off on `link`. Off, the kernel drops every IPv6 address and route the link had. */
export async function setIpv6Enabled(link: string, enabled: boolean): Promise<void> {
  await writeFile(disableIpv6Path(link), enabled ? '0\n' : '1\n');
}
