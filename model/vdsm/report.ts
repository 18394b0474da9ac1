/**
 * Kernel state + running config → VDSM's network capabilities (docs/vdsm-verbs.md#capabilities): the shape real
 * oVirt engines parse. Pure: the agent reads, this renders. MTUs are strings, `netConfigDirty` a string.
 */
import { inSubnet, isIPv4, prefixToNetmask } from '../ip';
import { MAIN_TABLE, type Family, type KernelState, type LinkState } from '../net-state';
import { bondModeNumber, nonDefaultBondOptions } from '../network/bond-options';
import { southboundOf, topDeviceOf, type RunningConfig } from '../network/config';
import { QOS_DEFAULT_MINOR, qosDeviceOf, reportedHostQos, type DeviceQosState } from '../network/host-qos';
import type { BondInfo, BridgeInfo, DeviceInfo, NetworkCapabilities, NetworkInfo, NicInfo, VlanInfo } from './capabilities';
import { compareNames } from '../name-order';

export interface ReportInput {
  kernel: KernelState;
  running: RunningConfig;
  /** Devices with a DHCP client running (ours or the OS's), by family. */
  dhcp: ReadonlyArray<{ dev: string; family: Family }>;
  nameservers: readonly string[];
  netConfigDirty: boolean;
  /** The queueing of the devices of networks with a hostQos. @default none read */
  qos?: Readonly<Record<string, DeviceQosState>>;
}

/** A network's QoS as its base device holds it (VDSM reports the class of the network), if any. */
function reportedQosOf(
  input: ReportInput,
  net: { nic?: string; bonding?: string; vlan?: number },
): ReturnType<typeof reportedHostQos> | undefined {
  const dev = qosDeviceOf(net);
  const state = dev ? input.qos?.[dev] : undefined;
  if (state?.kind !== 'hostprov') return undefined;
  const cls = state.qos.classes.find((c) => c.minor === (net.vlan ?? QOS_DEFAULT_MINOR));
  return cls ? reportedHostQos(cls) : undefined;
}

function addressesOf(kernel: KernelState, dev: string, family: Family): string[] {
  return kernel.addresses.filter((a) => a.dev === dev && a.family === family).map((a) => `${a.address}/${a.prefixLen}`);
}

/**
 * VDSM's gateway lookup searches every table for the device's default route, main table first
 * (docs/setup-networks.md#reporting-gateways).
 */
function gatewayOf(kernel: KernelState, dev: string, family: Family): string | undefined {
  const defaults = kernel.routes.filter((r) => r.dev === dev && r.family === family && r.dst === 'default' && r.gateway);
  return (defaults.find((r) => r.table === MAIN_TABLE) ?? defaults[0])?.gateway;
}

/**
 * A network's device reports its `ipv6autoconf` as configured, as VDSM reports it from NetworkManager's
 * profile (lib/vdsm/network/netinfo/cache.py, `_get_devices_info_from_nmstate`), not from the kernel's
 * switches: a bridge an older agent made, still taking advertisements as the kernel's defaults say, reads
 * as its network is defined until the next change sets it (docs/setup-networks.md#ipv6-per-device). Any
 * other device reports what its switches say, as VDSM's `is_ipv6_local_auto` (lib/vdsm/network/sysctl.py)
 * reads them: IPv6 on and taking advertisements. So a host the OS gave SLAAC reports it on the NIC that
 * reaches the manager, and its management network gets `AUTOCONF` as the engine derives it.
 */
function reportedIpv6Autoconf(running: RunningConfig, link: LinkState): boolean {
  const networks = Object.entries(running.networks).filter(([name, net]) => topDeviceOf(name, net) === link.name);
  if (networks.length) return networks.some(([, net]) => net.ipv6autoconf);
  return link.ipv6 === true && link.ipv6Autoconf === true;
}

export function deviceInfo(input: ReportInput, link: LinkState): DeviceInfo {
  const { kernel } = input;
  const v4 = kernel.addresses.filter((a) => a.dev === link.name && a.family === 4);
  const gateway = gatewayOf(kernel, link.name, 4);
  // VDSM prefers the address in the gateway's subnet as the primary one.
  const primary = v4.find((a) => gateway && isIPv4(gateway) && inSubnet(gateway, a.address, a.prefixLen)) ?? v4[0];
  const dhcp = (family: Family) =>
    input.dhcp.some((d) => d.dev === link.name && d.family === family) ||
    kernel.addresses.some((a) => a.dev === link.name && a.family === family && a.dynamic);
  return {
    addr: primary?.address ?? '',
    netmask: primary ? prefixToNetmask(primary.prefixLen) : '',
    ipv4addrs: addressesOf(kernel, link.name, 4),
    ipv6addrs: addressesOf(kernel, link.name, 6),
    gateway: gateway ?? '',
    ipv6gateway: gatewayOf(kernel, link.name, 6) ?? '::',
    ipv4defaultroute: kernel.routes.some((r) => r.dev === link.name && r.family === 4 && r.table === MAIN_TABLE && r.dst === 'default'),
    ipv6autoconf: reportedIpv6Autoconf(input.running, link),
    mtu: String(link.mtu),
    dhcpv4: dhcp(4),
    dhcpv6: dhcp(6),
  };
}

export function reportNetworkCapabilities(input: ReportInput): NetworkCapabilities {
  const { kernel } = input;
  const byName = new Map(kernel.links.map((l) => [l.name, l]));
  const portsOf = (master: string) =>
    kernel.links
      .filter((l) => l.master === master)
      .map((l) => l.name)
      .sort();
  const nics: Record<string, NicInfo> = {};
  const bondings: Record<string, BondInfo> = {};
  const vlans: Record<string, VlanInfo> = {};
  const bridges: Record<string, BridgeInfo> = {};
  for (const link of [...kernel.links].sort((a, b) => compareNames(a.name, b.name))) {
    const info = deviceInfo(input, link);
    if (link.kind === 'nic') {
      // A bond slave's own MAC beside the bond's, as VDSM reports it: the engine tells NICs apart by it.
      nics[link.name] = { ...info, hwaddr: link.mac, speed: link.speed ?? 0, ...(link.permMac ? { permhwaddr: link.permMac } : {}) };
    } else if (link.kind === 'bond') {
      const mode = bondModeNumber(link.bond?.mode ?? '0') ?? '0';
      bondings[link.name] = {
        ...info,
        hwaddr: link.mac,
        slaves: portsOf(link.name),
        active_slave: link.bond?.activeSlave ?? '',
        // As VDSM reports them: the mode, and the options that differ from a fresh bond's.
        opts: { mode, ...nonDefaultBondOptions(link.bond?.options ?? {}) },
        switch: 'legacy',
      };
    } else if (link.kind === 'vlan' && link.vlan) {
      vlans[link.name] = { ...info, iface: link.vlan.base, vlanid: link.vlan.id };
    } else if (link.kind === 'bridge') {
      // As VDSM reports them: the bridge's options by sysfs name (here those hostprov sets, and stp_state).
      const opts = Object.fromEntries(
        Object.entries({ ...link.bridge?.options, stp_state: link.bridge?.stp ? '1' : '0' }).sort(([a], [b]) => compareNames(a, b)),
      );
      bridges[link.name] = { ...info, ports: portsOf(link.name), stp: link.bridge?.stp ? 'on' : 'off', opts };
    }
  }
  const networks: Record<string, NetworkInfo> = {};
  for (const [name, net] of Object.entries(input.running.networks)) {
    const top = topDeviceOf(name, net);
    const topLink = top ? byName.get(top) : undefined;
    if (!top || !topLink) continue; // VDSM reports only networks that exist
    const southbound = southboundOf(net);
    networks[name] = {
      ...deviceInfo(input, topLink),
      iface: top,
      bridged: net.bridged,
      switch: 'legacy',
      ...(southbound ? { southbound } : {}),
      ...(net.vlan !== undefined ? { vlanid: net.vlan } : {}),
      ...(net.bridged ? { ports: portsOf(top), stp: topLink.bridge?.stp ? 'on' : 'off' } : { interface: top }),
    };
    // Only a network that has one reports it: the default class of a device with tagged QoS networks only
    // is VDSM's share for the rest of the traffic, not an untagged network's QoS.
    const hostQos = net.hostQos ? reportedQosOf(input, net) : undefined;
    if (hostQos) networks[name].hostQos = hostQos;
  }
  return {
    nics,
    bondings,
    vlans,
    bridges,
    networks,
    nameservers: [...input.nameservers],
    supportsIPv6: true,
    netConfigDirty: input.netConfigDirty ? 'True' : 'False',
  };
}
