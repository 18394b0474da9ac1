/**
 * IPv6 per link, as sysctls under `net.ipv6.conf.<link>`:
 * - on or off (`disable_ipv6`). The agent turns it off on bridge ports and on the top device (bridge, or a
 *   bridgeless network's device) of a network without IPv6 configuration, as VDSM does
 *   (docs/setup-networks.md#ipv6-per-device): otherwise anything on a VM network's bridge, a guest included,
 *   could give the host an address and a default route there with a router advertisement, and reach it over
 *   the bridge's link-local address;
 * - whether a link with IPv6 on takes router advertisements: `autoconf`, `accept_ra` and `accept_redirects`,
 *   all three on or all three off, as VDSM's sysctl.py sets them for `ipv6autoconf`; but `accept_ra` on is
 *   written 2, not VDSM's 1: at 1 a link that forwards IPv6 ignores advertisements (the kernel's
 *   Documentation/networking/ip-sysctl.rst), at 2 it takes them either way;
 * - whether one that takes them makes a default route of an advertised router (`accept_ra_defrtr`).
 *
 * /proc/sys/net shows the namespace of the process that opens it, so these work only where the agent acts on
 * its own namespace (production); a backend driving another namespace from outside does not use them.
 */
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';

/** Link names as the kernel allows them (no `/`, not `.` or `..`), so the path stays under /proc/sys. */
const SAFE_LINK_NAME = /^(?!\.\.?$)[^/\0\s]{1,15}$/;

/** The three switches of "takes router advertisements", in the order they are written. */
const AUTOCONF_SWITCHES = ['autoconf', 'accept_ra', 'accept_redirects'] as const;

type Ipv6Switch = 'disable_ipv6' | 'accept_ra_defrtr' | 'forwarding' | (typeof AUTOCONF_SWITCHES)[number];

/** `accept_ra` as written for a link that takes advertisements: taken even while the link forwards IPv6. */
const ACCEPT_RA_EVEN_FORWARDING = 2;

function switchPath(link: string, name: Ipv6Switch): string {
  if (!SAFE_LINK_NAME.test(link)) throw new Error(`not a link name: ${JSON.stringify(link)}`);
  return `/proc/sys/net/ipv6/conf/${link}/${name}`;
}

/** A switch's value, or null when the file is missing (link gone, kernel without IPv6) or holds no integer. */
function readSwitch(link: string, name: Ipv6Switch): number | null {
  try {
    const text = readFileSync(switchPath(link, name), 'utf8').trim();
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

/**
 * IPv6 per link; a link with no such files (gone, or a kernel without IPv6) is left out. Read synchronously:
 * a /proc/sys file costs a synchronous read some 15 µs, and fs.promises' open, read and close through the
 * thread pool ten times that (docs/performance.md#ipv6-switches-read-synchronously).
 */
export function readIpv6States(links: readonly string[]): Map<string, Ipv6LinkState> {
  const states = new Map<string, Ipv6LinkState>();
  for (const link of links) {
    const disabled = readSwitch(link, 'disable_ipv6');
    if (disabled !== 0 && disabled !== 1) continue;
    if (disabled === 1) {
      states.set(link, { enabled: false });
      continue;
    }
    const autoconf = AUTOCONF_SWITCHES.map((name) => readSwitch(link, name));
    if (autoconf.includes(null)) states.set(link, { enabled: true });
    else if (!autoconf.every((v) => v !== 0) || ignoredWhileForwarding(link, autoconf[1] as number))
      states.set(link, { enabled: true, autoconf: false });
    else {
      const defrtr = readSwitch(link, 'accept_ra_defrtr');
      states.set(
        link,
        defrtr === null ? { enabled: true, autoconf: true } : { enabled: true, autoconf: true, defaultRouter: defrtr !== 0 },
      );
    }
  }
  return states;
}

/**
 * `accept_ra` 1 on a link that forwards IPv6: the kernel takes no advertisements there, so the link does
 * not take them, whatever VDSM's reading of the switch says; the next change that wants them writes 2.
 */
function ignoredWhileForwarding(link: string, acceptRa: number): boolean {
  return acceptRa === 1 && (readSwitch(link, 'forwarding') ?? 0) !== 0;
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
 * advertisements are switched first, so a link turned on without them never takes one. Written through the
 * thread pool, unlike the reads: a `disable_ipv6` write retries in the kernel until it gets the RTNL lock
 * (`addrconf_sysctl_disable`), and while another process holds that lock the event loop must go on
 * answering (the confirmations of a change among others). A change writes a few; the cost is the reads'.
 */
export async function setIpv6(link: string, { enabled, autoconf, defaultRouter }: Ipv6Switches): Promise<void> {
  // Every path first: a bad name writes nothing.
  const defrtrPath = switchPath(link, 'accept_ra_defrtr');
  const disablePath = switchPath(link, 'disable_ipv6');
  if (defaultRouter !== undefined) await writeFile(defrtrPath, defaultRouter ? '1\n' : '0\n');
  if (autoconf !== undefined) {
    for (const name of AUTOCONF_SWITCHES) {
      const on = name === 'accept_ra' ? ACCEPT_RA_EVEN_FORWARDING : 1;
      await writeFile(switchPath(link, name), `${autoconf ? on : 0}\n`);
    }
  }
  await writeFile(disablePath, enabled ? '0\n' : '1\n');
}
