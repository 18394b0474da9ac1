/**
 * The testbed's DHCP server: dnsmasq (DHCP only, DNS off) in its own namespace on the switch. It reserves
 * each host's address for its first NIC's MAC, so a DHCP host gets the same, predictable address a static
 * one has; other clients (e.g. a bridge the agent creates with a new MAC) get one from the pool.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { SubnetPlan } from './addressing';
import { startDetached, stopRecordedDaemon, waitUntilReady } from './daemon';
import type { Netns } from './netns';

export interface DhcpReservation {
  /** Every MAC the host may ask from (a bond's NICs: the bond takes the first one's). */
  macs: readonly string[];
  address: string;
  /** `false` = do not send a router option (a host without a route to the manager). */
  defaultRoute: boolean;
}

export interface DnsmasqConfig {
  /** Directory for the lease file, pid file and log. */
  dir: string;
  /** Interface inside the DHCP namespace (already holding the server address). */
  interface: string;
  /** The pool and the router offered; a testbed's {@link SubnetPlan} is one. */
  plan: Pick<SubnetPlan, 'dhcpPoolStart' | 'dhcpPoolEnd' | 'gateway'>;
  reservations: readonly DhcpReservation[];
  /** @default '255.255.255.0' */
  netmask?: string;
  /** @default '1h' (dnsmasq gives at least 2 minutes) */
  leaseTime?: string;
  /** @default `<dir>/dnsmasq.pid` */
  pidFile?: string;
  /**
   * Renewal (T1) and rebinding (T2) times in seconds, sent as DHCP options 58 and 59 instead of dnsmasq's
   * half and seven eighths of the lease: short ones make clients ask again within seconds, so a test sees a
   * renumbered subnet reach the host quickly. @default dnsmasq's
   */
  renewal?: { t1Seconds: number; t2Seconds: number };
  /** IPv4 DNS servers offered (DHCP option 6). @default none: with DNS off, dnsmasq offers no server of its own */
  nameservers?: readonly string[];
  /** The domain name (DHCP option 15). @default none */
  domainName?: string;
  /** The domain search list (DHCP option 119). @default none */
  searchDomains?: readonly string[];
}

export function dnsmasqPaths(dir: string): { leaseFile: string; pidFile: string; log: string } {
  return { leaseFile: join(dir, 'dnsmasq.leases'), pidFile: join(dir, 'dnsmasq.pid'), log: join(dir, 'dnsmasq.log') };
}

const NO_ROUTE_TAG = 'noroute';

export function dnsmasqArgv(config: DnsmasqConfig): string[] {
  const paths = dnsmasqPaths(config.dir);
  const { plan } = config;
  return [
    'dnsmasq',
    '--keep-in-foreground',
    // Never read the machine's /etc/dnsmasq.conf or /etc/hosts; no DNS at all.
    '--conf-file=/dev/null',
    '--no-hosts',
    '--no-resolv',
    '--port=0',
    `--interface=${config.interface}`,
    '--bind-interfaces',
    // Root: the lease and log files live in the testbed dir; there is no dnsmasq user with dnsmasq-base.
    '--user=root',
    '--group=root',
    `--dhcp-range=${plan.dhcpPoolStart},${plan.dhcpPoolEnd},${config.netmask ?? '255.255.255.0'},${config.leaseTime ?? '1h'}`,
    `--dhcp-option=option:router,${plan.gateway}`,
    ...(config.renewal
      ? [`--dhcp-option=option:T1,${config.renewal.t1Seconds}`, `--dhcp-option=option:T2,${config.renewal.t2Seconds}`]
      : []),
    ...(config.nameservers?.length ? [`--dhcp-option=option:dns-server,${config.nameservers.join(',')}`] : []),
    ...(config.domainName ? [`--dhcp-option=option:domain-name,${config.domainName}`] : []),
    ...(config.searchDomains?.length ? [`--dhcp-option=option:domain-search,${config.searchDomains.join(',')}`] : []),
    // An option with no value is not sent: tagged hosts get no default route.
    `--dhcp-option=tag:${NO_ROUTE_TAG},option:router`,
    // Several MACs on one line: dnsmasq may move the address to whichever of them asks (a bond, or a
    // bridge that took one of its ports' MAC).
    ...config.reservations.map((r) => `--dhcp-host=${r.macs.join(',')},${r.defaultRoute ? '' : `set:${NO_ROUTE_TAG},`}${r.address}`),
    '--dhcp-authoritative',
    // No ICMP probe before offering: the switch is ours, and the probe costs seconds per lease.
    '--no-ping',
    '--log-dhcp',
    `--log-facility=${paths.log}`,
    `--dhcp-leasefile=${paths.leaseFile}`,
    `--pid-file=${config.pidFile ?? paths.pidFile}`,
  ];
}

async function dhcpListening(ns: Netns): Promise<boolean> {
  const { stdout } = await ns.exec(['ss', '-Hlun', 'sport = :67'], { allowFailure: true });
  return stdout.trim() !== '';
}

/** Starts dnsmasq inside `ns` and waits until it serves DHCP; returns its pid. */
export async function startDnsmasq(ns: Netns, config: DnsmasqConfig, { timeoutMs = 10_000 } = {}): Promise<number> {
  await mkdir(config.dir, { recursive: true });
  const paths = dnsmasqPaths(config.dir);
  const pid = startDetached(ns.wrap(dnsmasqArgv(config)), paths.log);
  await waitUntilReady('dnsmasq (testbed DHCP server)', () => dhcpListening(ns), { pid, logFile: paths.log }, { timeoutMs });
  return pid;
}

/** Stops the dnsmasq recorded as `pid` if it still is the one writing `dir`'s lease file. */
export async function stopDnsmasq(pid: number | null, dir: string): Promise<void> {
  await stopRecordedDaemon(pid, dnsmasqPaths(dir).leaseFile);
}
