/**
 * The testbed's DHCP server: dnsmasq (DHCP only, DNS off) in its own namespace on the switch. It reserves
 * each host's address for its first NIC's MAC, so a DHCP host gets the same, predictable address a static
 * one has; other clients (e.g. a bridge the agent creates with a new MAC) get one from the pool.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { SubnetPlan } from './addressing';

/** The switch's DHCP pool and router: what the testbed's dnsmasq offers untagged hosts. */
export function switchDhcpRange(plan: SubnetPlan): Pick<DnsmasqConfig, 'range' | 'gateway'> {
  return { range: { start: plan.dhcpPoolStart, end: plan.dhcpPoolEnd, netmask: '255.255.255.0' }, gateway: plan.gateway };
}
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
  /** Pool (start, end, netmask) and the router option offered. */
  range: { start: string; end: string; netmask: string };
  gateway: string;
  reservations: readonly DhcpReservation[];
  /** @default '1h' */
  leaseTime?: string;
  /** @default `<dir>/dnsmasq.pid` */
  pidFile?: string;
}

export function dnsmasqPaths(dir: string): { leaseFile: string; pidFile: string; log: string } {
  return { leaseFile: join(dir, 'dnsmasq.leases'), pidFile: join(dir, 'dnsmasq.pid'), log: join(dir, 'dnsmasq.log') };
}

const NO_ROUTE_TAG = 'noroute';

export function dnsmasqArgv(config: DnsmasqConfig): string[] {
  const paths = dnsmasqPaths(config.dir);
  const { range } = config;
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
    `--dhcp-range=${range.start},${range.end},${range.netmask},${config.leaseTime ?? '1h'}`,
    `--dhcp-option=option:router,${config.gateway}`,
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
