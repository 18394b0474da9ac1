/**
 * Whether the host is guarded against ARP flux (docs/setup-networks.md#arp-flux). By default Linux answers
 * ARP for any of the host's addresses on every interface, so with several NICs on one segment the manager
 * may learn, for the management address, the MAC of a NIC that does not hold it, and loses the host when a
 * change takes that NIC (into a bond, say) until its neighbour entry expires: longer than a connectivity
 * check waits. packaging/sysctl.d/hostprov-agent.conf sets what VDSM's static/etc/sysctl.d/vdsm.conf sets.
 *
 * For both settings the kernel uses the larger of `all` and the interface's own value (the kernel's
 * Documentation/networking/ip-sysctl.rst), so `all` alone guards every interface; without it, each
 * interface needs its own, and `default` is what the ones made later (the agent's bridges, bonds and VLANs)
 * start with. Read from /proc/sys, which shows the namespace of the process that reads it: only an agent
 * acting on its own namespace can check.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The settings, and the least value of each that guards. */
const ARP_FLUX_GUARD = [
  { name: 'arp_ignore', atLeast: 1 },
  { name: 'arp_announce', atLeast: 2 },
] as const;

/** Interfaces that never carry the manager's traffic. */
const IGNORED_INTERFACES = new Set(['all', 'default', 'lo']);

/** What the shipped file puts right. */
export const ARP_FLUX_REMEDY =
  'install packaging/sysctl.d/hostprov-agent.conf as /etc/sysctl.d/hostprov-agent.conf and apply it (sysctl -p FILE)';

function readSetting(conf: string, iface: string, name: string): number | null {
  try {
    const text = readFileSync(join(conf, iface, name), 'utf8').trim();
    return /^\d+$/.test(text) ? Number(text) : null;
  } catch {
    return null;
  }
}

/**
 * One line per setting that leaves an interface unguarded (`net.ipv4.conf.all.arp_ignore is 0: eth1 and
 * interfaces made from now on are not guarded`); none when the host is guarded, or when this kernel has no
 * IPv4 settings to read.
 */
export function arpFluxExposure(procSys = '/proc/sys'): string[] {
  const conf = join(procSys, 'net', 'ipv4', 'conf');
  let interfaces: string[];
  try {
    interfaces = readdirSync(conf)
      .filter((iface) => !IGNORED_INTERFACES.has(iface))
      .sort();
  } catch {
    return [];
  }
  const exposure: string[] = [];
  for (const { name, atLeast } of ARP_FLUX_GUARD) {
    const all = readSetting(conf, 'all', name);
    if (all === null || all >= atLeast) continue;
    const unguarded = interfaces.filter((iface) => (readSetting(conf, iface, name) ?? atLeast) < atLeast);
    const later = (readSetting(conf, 'default', name) ?? atLeast) < atLeast;
    if (!unguarded.length && !later) continue;
    const who = [...unguarded, ...(later ? ['interfaces made from now on'] : [])];
    exposure.push(`net.ipv4.conf.all.${name} is ${all}, below ${atLeast}: ${who.join(', ')} not guarded`);
  }
  return exposure;
}
