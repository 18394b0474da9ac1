/**
 * IPv6 per link, as sysctls under `net.ipv6.conf.<link>`:
 * - on or off (`disable_ipv6`). The agent turns it off on the bridge of a network without IPv6 configuration,
 *   as VDSM does (docs/setup-networks.md#ipv6-per-device): otherwise anything on a VM network's bridge, a
 *   guest included, could give the host an address and a default route there with a router advertisement,
 *   and reach it over the bridge's link-local address;
 * - whether a link with IPv6 on takes router advertisements: `autoconf`, `accept_ra` and `accept_redirects`,
 *   all three on or all three off, as VDSM's sysctl.py sets them for `ipv6autoconf`;
 * - whether one that takes them makes a default route of an advertised router (`accept_ra_defrtr`).
 *
 * /proc/sys/net shows the namespace of the process that opens it, so these work only where the agent acts on
 * its own namespace (production); a backend driving another namespace from outside does not use them.
 */
import { readFile, writeFile } from 'node:fs/promises';

/** Link names as the kernel allows them (no `/`, not `.` or `..`), so the path stays under /proc/sys. */
const SAFE_LINK_NAME = /^(?!\.\.?$)[^/\0\s]{1,15}$/;

/** The three switches of "takes router advertisements", in the order they are written. */
const AUTOCONF_SWITCHES = ['autoconf', 'accept_ra', 'accept_redirects'] as const;

type Ipv6Switch = 'disable_ipv6' | 'accept_ra_defrtr' | (typeof AUTOCONF_SWITCHES)[number];

function switchPath(link: string, name: Ipv6Switch): string {
  if (!SAFE_LINK_NAME.test(link)) throw new Error(`not a link name: ${JSON.stringify(link)}`);
  return `/proc/sys/net/ipv6/conf/${link}/${name}`;
}

/** A switch's value, or null when the file is missing (link gone, kernel without IPv6) or holds no integer. */
async function readSwitch(link: string, name: Ipv6Switch): Promise<number | null> {
  try {
    const text = (await readFile(switchPath(link, name), 'utf8')).trim();
    return /^-?\d+$/.test(text) ? Number(text) : null;
  } catch {
    return null;
  }
}

export interface Ipv6LinkState {
  enabled: boolean;
  /** Whether it takes router advertisements; read only while IPv6 is on. */
  autoconf?: boolean;
  /** Whether an advertised router becomes a default route; read only while it takes advertisements. */
  defaultRouter?: boolean;
}

/** IPv6 per link; a link with no such files (gone, or a kernel without IPv6) is left out. */
export async function readIpv6States(links: readonly string[]): Promise<Map<string, Ipv6LinkState>> {
  const states = await Promise.all(
    links.map(async (link): Promise<[string, Ipv6LinkState] | null> => {
      const disabled = await readSwitch(link, 'disable_ipv6');
      if (disabled !== 0 && disabled !== 1) return null;
      if (disabled === 1) return [link, { enabled: false }];
      const [defrtr, ...autoconf] = await Promise.all(
        ['accept_ra_defrtr' as const, ...AUTOCONF_SWITCHES].map((name) => readSwitch(link, name)),
      );
      if (autoconf.includes(null)) return [link, { enabled: true }];
      // accept_ra 2 (taken even when forwarding) counts as on, as VDSM counts it.
      if (!autoconf.every((v) => v !== 0)) return [link, { enabled: true, autoconf: false }];
      return [link, defrtr === null ? { enabled: true, autoconf: true } : { enabled: true, autoconf: true, defaultRouter: defrtr !== 0 }];
    }),
  );
  return new Map(states.filter((s): s is [string, Ipv6LinkState] => s !== null));
}

export interface Ipv6Switches {
  enabled: boolean;
  /** Takes router advertisements. @default left as it is */
  autoconf?: boolean | undefined;
  /** Makes a default route of an advertised router. @default left as it is */
  defaultRouter?: boolean | undefined;
}

/**
 * Turns IPv6 on or off on `link`. Off, the kernel drops every IPv6 address and route the link had. Router
 * advertisements are switched first, so a link turned on without them never takes one.
 */
export async function setIpv6(link: string, { enabled, autoconf, defaultRouter }: Ipv6Switches): Promise<void> {
  if (defaultRouter !== undefined) await writeFile(switchPath(link, 'accept_ra_defrtr'), defaultRouter ? '1\n' : '0\n');
  if (autoconf !== undefined) {
    for (const name of AUTOCONF_SWITCHES) await writeFile(switchPath(link, name), autoconf ? '1\n' : '0\n');
  }
  await writeFile(switchPath(link, 'disable_ipv6'), enabled ? '0\n' : '1\n');
}
