/**
 * The Linux backend: iproute2 for reading and applying, ISC dhclient (with our script) for DHCP.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { Logger } from '../../lib/logger';
import type { CreatableLinkType, Plan } from '../../model/net-state';
import type { NetworkBackend } from './backend';
import { foreignDhcpClients } from './dhcp/foreign';
import { setIpv6 as setIpv6Switches, type Ipv6Switches } from './ipv6-sysctl';
import { DhcpClientManager } from './dhcp/manager';
import { stopPid } from '../../lib/process';
import { applyPlan, type ApplyOptions } from './iproute2/apply';
import { IpBatchLauncher } from './iproute2/batch-launcher';
import { LinkTypeProbe } from './iproute2/link-support';
import { KernelStateReader } from './iproute2/read';
import { routeLookup } from './iproute2/route-get';
import { readNameservers, readResolvConf, resolvConfPathFor, resolvConfWritePathFor, writeResolvConf } from './resolv-conf';
import type { NetnsTarget } from './target';
import { applyQosActions, readDeviceQos } from './tc/qos';

export interface LinuxBackendOptions {
  /**
   * Namespace to act on from outside (`ip -n`, `ip netns exec`): tests and benchmarks. Unset in production,
   * where the agent runs inside the host's namespace and acts on it.
   */
  netns?: string;
  /** Volatile state: lease JSON, dhclient pid files and logs (`<runtimeDir>/dhcp`). */
  runtimeDir: string;
  /** Persistent state: dhclient's lease database (defaults to runtimeDir). */
  stateDir?: string;
  /**
   * resolv.conf to read nameservers from and to write them to (default: reads the one processes in the target
   * namespace see, and writes the namespace's own in `netns` mode, /etc/resolv.conf otherwise).
   */
  resolvConfPath?: string;
  /**
   * `ip -batch` processes an apply may run at once on independent stacks (iproute2/apply.ts). @default 2,
   * or 1 on a host with one CPU ({@link defaultApplyProcesses})
   */
  applyProcesses?: number;
  log: Logger;
}

/** An IPv6 switch write that took this long is logged ({@link createLinuxBackend}'s `setIpv6`). */
const SLOW_IPV6_SWITCH_MS = 1000;
/**
 * `ip -batch` processes an apply runs at once on independent stacks, unless told: two, where the host has two
 * CPUs or more (a third or fourth gained nothing on two cores; docs/performance.md#applying-independent-stacks-at-once).
 */
export function defaultApplyProcesses(): number {
  return Math.min(2, availableParallelism());
}

export function createLinuxBackend(options: LinuxBackendOptions): NetworkBackend {
  const target: NetnsTarget = { netns: options.netns };
  const log = options.log.child({ component: 'linux-backend', ...(options.netns ? { netns: options.netns } : {}) });
  const dhcp = new DhcpClientManager({ netns: options.netns, runtimeDir: options.runtimeDir, stateDir: options.stateDir, log });
  const linkTypes = new LinkTypeProbe(target, log);
  const reader = new KernelStateReader(target, log);
  const launcher = new IpBatchLauncher(target, log);
  const applyProcesses = options.applyProcesses ?? defaultApplyProcesses();
  launcher.prepare('any', applyProcesses);
  const writePath = options.resolvConfPath ?? resolvConfWritePathFor(options.netns);
  const setIpv6 = async (dev: string, switches: Ipv6Switches): Promise<void> => {
    // Never planned in that mode (controlsIpv6): /proc/sys would name a link of this process's namespace.
    if (options.netns) throw new Error(`IPv6 of ${dev} cannot be set from outside namespace ${options.netns}`);
    const started = performance.now();
    await setIpv6Switches(dev, switches);
    const ms = Math.round(performance.now() - started);
    // A disable_ipv6 change only tries the RTNL lock, and the kernel repeats the write until it gets it: while
    // other processes keep taking the lock, the change waits. Said, so that a slow change can be told apart.
    if (ms >= SLOW_IPV6_SWITCH_MS)
      log.warn(
        { dev, ms, switches },
        'setting IPv6 on a link was slow: the kernel retries a disable_ipv6 write until it gets the RTNL lock',
      );
  };

  return {
    read: (scope) => reader.read(scope),
    apply: (plan: Plan, applyOptions?: ApplyOptions) =>
      applyPlan(plan, { target, log, dhcp, launcher, setIpv6, concurrentBatches: applyProcesses }, applyOptions),
    // A kernel booted without IPv6 (ipv6.disable=1) has no per-link switch to set.
    controlsIpv6: !options.netns && existsSync('/proc/sys/net/ipv6/conf/all/disable_ipv6'),
    prepareApply: () => launcher.prepare('any', applyProcesses),
    async readQos(devices) {
      const states = await Promise.all(devices.map(async (dev) => [dev, await readDeviceQos(target, dev)] as const));
      return Object.fromEntries(states);
    },
    applyQos: (actions) => applyQosActions(target, actions),
    supportsLinkType: (type: CreatableLinkType) => linkTypes.supports(type),
    unsupportedReason: (type: CreatableLinkType) => linkTypes.unsupportedReason(type),
    routeTo: (destination: string) => routeLookup(reader, destination),
    async nameservers() {
      const fromResolvConf = readNameservers(options.resolvConfPath ?? resolvConfPathFor(options.netns));
      const fromDhcp = (await dhcp.leases()).filter((lease) => lease.defaultRoute).flatMap((lease) => lease.nameservers);
      return [...new Set([...fromResolvConf, ...fromDhcp])];
    },
    resolvConf: () => readResolvConf(writePath),
    setResolvConf: (text) => writeResolvConf(writePath, text),
    dhcpLeases: () => dhcp.leases(),
    dhcpClients: () => dhcp.clients(),
    foreignDhcpClients: () =>
      foreignDhcpClients(
        target,
        () => dhcp.ourPids(),
        () => reader.namespacePid,
      ),
    async stopForeignDhcpClient(client) {
      log.info(
        { pid: client.pid, dev: client.dev, family: client.family },
        'taking the device over: stopping the DHCP client the OS runs on it',
      );
      await stopPid(client.pid, { timeoutMs: 3_000 });
    },
    waitForDhcpLease: (dev, family, timeoutMs) => dhcp.waitForLease(dev, family, timeoutMs),
    onDhcpLeaseChange: (listener) => dhcp.onLeaseChange(listener),
    dhcpLeaseWatch: () => dhcp.leaseWatch(),
    close: () => {
      reader.close();
      launcher.close();
      dhcp.close();
    },
  };
}
