/**
 * deviseManagementNetwork: from the host's reported capabilities and the device that reaches the manager,
 * the exact `Host.setupNetworks` request that builds the management network there, matching the DC
 * definition (docs/design-decisions.md#devising-the-management-network). Pure and deterministic: runs inside the workflow.
 *
 * Deliberate difference from the engine: a VLAN on a bond with fewer than two slaves is rejected too
 * (the engine only checks the active device's own name, so it lets that case through).
 */
import { FailureType } from '../failures';
import { isIPv4, parseCidr, prefixToNetmask } from '../ip';
import type { NetworkAttachmentSpec, IpConfiguration } from '../attachments/attachment';
import { mtuOf, type DeviceInfo, type NetworkCapabilities } from '../vdsm/capabilities';
import { hostNetworkAttributes } from '../vdsm/host-network-attributes';
import type { NetworkAttributes } from '../vdsm/setup-networks';
import type { ManagementNetworkInput } from './contract';

/** The failures devising can report (meanings in model/failures.ts). */
export const DeviseFailureType = {
  DEVICE_NOT_FOUND: FailureType.DEVICE_NOT_FOUND,
  IP_ON_FOREIGN_BRIDGE: FailureType.IP_ON_FOREIGN_BRIDGE,
  VLAN_MISMATCH: FailureType.VLAN_MISMATCH,
  DEGENERATE_BOND: FailureType.DEGENERATE_BOND,
  NO_BOOT_PROTOCOL: FailureType.NO_BOOT_PROTOCOL,
} as const;
export type DeviseFailureType = (typeof DeviseFailureType)[keyof typeof DeviseFailureType];

export type DeviseResult =
  | { kind: 'already-configured'; device: string; detail: string }
  | {
      kind: 'configure';
      /** The device the manager's traffic uses (may be a VLAN device). */
      device: string;
      /** Where the attachment goes: the base NIC or bond, never a VLAN device. */
      baseDevice: string;
      attachment: NetworkAttachmentSpec;
      networks: Record<string, NetworkAttributes>;
      detail: string;
    }
  | { kind: 'failed'; type: DeviseFailureType; message: string };

type DeviceKind = 'nic' | 'bond' | 'vlan' | 'bridge';

function findDevice(caps: NetworkCapabilities, name: string): { kind: DeviceKind; info: DeviceInfo } | null {
  if (caps.nics[name]) return { kind: 'nic', info: caps.nics[name] };
  if (caps.bondings[name]) return { kind: 'bond', info: caps.bondings[name] };
  if (caps.vlans[name]) return { kind: 'vlan', info: caps.vlans[name] };
  if (caps.bridges[name]) return { kind: 'bridge', info: caps.bridges[name] };
  return null;
}

export function deviseManagementNetwork(caps: NetworkCapabilities, device: string, network: ManagementNetworkInput): DeviseResult {
  const existing = caps.networks[network.name];
  if (existing && (device === network.name || existing.iface === device || existing.southbound === device || existing.interface === device)) {
    return { kind: 'already-configured', device, detail: `${network.name} already carries the manager's traffic on ${existing.southbound ?? existing.iface}` };
  }
  const found = findDevice(caps, device);
  if (!found) return { kind: 'failed', type: DeviseFailureType.DEVICE_NOT_FOUND, message: `device ${device} reaches the manager but the host does not report it` };
  if (found.kind === 'bridge') {
    return {
      kind: 'failed',
      type: DeviseFailureType.IP_ON_FOREIGN_BRIDGE,
      message: `the host address sits on bridge ${device}, which is not the ${network.name} network; tear that bridge down (or rename it) and retry`,
    };
  }

  const vlanInfo = found.kind === 'vlan' ? caps.vlans[device] : undefined;
  const reportedVlan = vlanInfo?.vlanid ?? 0;
  const wantedVlan = network.vlan ?? 0;
  if (reportedVlan !== wantedVlan) {
    return {
      kind: 'failed',
      type: DeviseFailureType.VLAN_MISMATCH,
      message: `${device} carries VLAN ${reportedVlan || 'none (untagged)'} but ${network.name} is defined with VLAN ${wantedVlan || 'none (untagged)'}`,
    };
  }
  const baseDevice = vlanInfo?.iface ?? device;
  const bond = caps.bondings[baseDevice];
  if (bond && bond.slaves.length < 2) {
    return {
      kind: 'failed',
      type: DeviseFailureType.DEGENERATE_BOND,
      message: `bond ${baseDevice} has ${bond.slaves.length} slave(s); a management network needs a bond of at least two`,
    };
  }

  const ipConfiguration = copyIpConfiguration(found.info);
  if (network.defaultRoute && ipConfiguration.ipv4.bootProtocol === 'NONE' && ipConfiguration.ipv6.bootProtocol === 'NONE') {
    return {
      kind: 'failed',
      type: DeviseFailureType.NO_BOOT_PROTOCOL,
      message: `${device} has neither an IPv4 nor an IPv6 address or DHCP; the default-route network needs a boot protocol`,
    };
  }

  // The engine builds this request through HostSetupNetworks, so the attributes are the ones it sends there.
  const attrs = hostNetworkAttributes({
    nicName: baseDevice,
    bonding: bond !== undefined,
    vlan: network.vlan,
    mtu: network.mtu,
    vmNetwork: network.vmNetwork,
    stp: network.stp,
    ipConfiguration,
    defaultRoute: network.defaultRoute,
  });
  const v4 = ipConfiguration.ipv4;
  const v6 = ipConfiguration.ipv6;

  return {
    kind: 'configure',
    device,
    baseDevice,
    attachment: { networkName: network.name, nicName: baseDevice, ipConfiguration, properties: {} },
    networks: { [network.name]: attrs },
    detail: `${network.name} on ${bond ? 'bond' : 'nic'} ${baseDevice}${network.vlan !== null ? ` VLAN ${network.vlan}` : ''}, ${network.vmNetwork ? 'bridged' : 'bridgeless'}, MTU ${network.mtu} (reported ${mtuOf(found.info)}), IPv4 ${v4.bootProtocol}, IPv6 ${v6.bootProtocol}`,
  };
}

/**
 * The engine's copy rules (NicToIpv4AddressFunction & co): DHCP when the device reports it, else static
 * when it has an address; address, netmask and gateway are copied only for static.
 */
export function copyIpConfiguration(info: DeviceInfo): IpConfiguration {
  let ipv4: IpConfiguration['ipv4'] = { bootProtocol: 'NONE' };
  if (info.dhcpv4) ipv4 = { bootProtocol: 'DHCP' };
  else if (info.addr && isIPv4(info.addr)) {
    const netmask = info.netmask || prefixNetmask(info.ipv4addrs, info.addr);
    ipv4 = { bootProtocol: 'STATIC_IP', address: info.addr, ...(netmask ? { netmask } : {}), ...(info.gateway ? { gateway: info.gateway } : {}) };
  }
  let ipv6: IpConfiguration['ipv6'] = { bootProtocol: 'NONE' };
  if (info.dhcpv6 && info.ipv6autoconf) ipv6 = { bootProtocol: 'POLY_DHCP_AUTOCONF' };
  else if (info.dhcpv6) ipv6 = { bootProtocol: 'DHCP' };
  else if (info.ipv6autoconf) ipv6 = { bootProtocol: 'AUTOCONF' };
  else {
    const global = info.ipv6addrs.map((a) => parseCidr(a)).find((c) => c && !c.address.startsWith('fe80'));
    if (global) {
      const gateway = info.ipv6gateway && info.ipv6gateway !== '::' ? info.ipv6gateway : undefined;
      ipv6 = { bootProtocol: 'STATIC_IP', address: global.address, prefix: global.prefixLen, ...(gateway ? { gateway } : {}) };
    }
  }
  return { ipv4, ipv6 };
}

function prefixNetmask(ipv4addrs: string[], addr: string): string | undefined {
  const cidr = ipv4addrs.map((a) => parseCidr(a)).find((c) => c?.address === addr);
  return cidr ? prefixToNetmask(cidr.prefixLen) : undefined;
}
