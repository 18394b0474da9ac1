/**
 * deviseManagementNetwork: from the host's reported capabilities and the device that reaches the manager,
 * the exact `Host.setupNetworks` request that builds the management network there, matching the DC
 * definition (docs/design-decisions.md#devising-the-management-network). Pure and deterministic: runs inside the workflow.
 *
 * Deliberate difference from the engine: a VLAN on a bond with fewer than two slaves is rejected too
 * (the engine only checks the active device's own name, so it lets that case through).
 */
import { isIPv4, parseCidr, prefixToNetmask } from '../ip';
import type { NetworkAttachmentSpec, IpConfiguration } from '../attachments/attachment';
import { mtuOf, type DeviceInfo, type NetworkCapabilities } from '../vdsm/capabilities';
import type { NetworkAttributes } from '../vdsm/setup-networks';
import { bondModeAllowsVmNetwork } from '../network/bond-modes';
import type { ManagementNetworkInput } from './contract';

export const DeviseFailureType = {
  DEVICE_NOT_FOUND: 'DeviceNotFound',
  IP_ON_FOREIGN_BRIDGE: 'IpOnForeignBridge',
  VLAN_MISMATCH: 'VlanMismatch',
  DEGENERATE_BOND: 'DegenerateBond',
  NO_BOOT_PROTOCOL: 'NoBootProtocol',
  /** A VM network on a bond whose mode the engine forbids for one (0, 5, 6). */
  BOND_MODE_FORBIDS_VM_NETWORK: 'BondModeForbidsVmNetwork',
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

export interface DeviseOptions {
  /**
   * Whether to refuse a VM network on a bond whose mode forbids it. Asked only when the device sits on a
   * bond; the workflow answers with a `patched()` marker, so executions started before the rule keep
   * replaying. @default always
   */
  checkBondMode?: () => boolean;
}

export function deviseManagementNetwork(caps: NetworkCapabilities, device: string, network: ManagementNetworkInput, options: DeviseOptions = {}): DeviseResult {
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
  if (bond && network.vmNetwork && !bondModeAllowsVmNetwork(bond.opts.mode) && (options.checkBondMode?.() ?? true)) {
    return {
      kind: 'failed',
      type: DeviseFailureType.BOND_MODE_FORBIDS_VM_NETWORK,
      message: `bond ${baseDevice} is in mode ${bond.opts.mode ?? '(none)'}, which cannot carry the VM network ${network.name}; use mode 1, 2, 3 or 4, or make ${network.name} a non-VM network`,
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

  const attrs: NetworkAttributes = { [bond ? 'bonding' : 'nic']: baseDevice };
  if (network.vlan !== null) attrs.vlan = String(network.vlan);
  attrs.mtu = network.mtu;
  attrs.bridged = network.vmNetwork ? 'true' : 'false';
  if (network.vmNetwork) attrs.STP = network.stp ? 'yes' : 'no';
  const v4 = ipConfiguration.ipv4;
  if (v4.bootProtocol === 'DHCP') attrs.bootproto = 'dhcp';
  if (v4.bootProtocol === 'STATIC_IP') {
    attrs.ipaddr = v4.address;
    attrs.netmask = v4.netmask;
    if (v4.gateway) attrs.gateway = v4.gateway;
  }
  const v6 = ipConfiguration.ipv6;
  attrs.dhcpv6 = v6.bootProtocol === 'DHCP' || v6.bootProtocol === 'POLY_DHCP_AUTOCONF';
  attrs.ipv6autoconf = v6.bootProtocol === 'AUTOCONF' || v6.bootProtocol === 'POLY_DHCP_AUTOCONF';
  if (v6.bootProtocol === 'STATIC_IP' && v6.address !== undefined && v6.prefix !== undefined) {
    attrs.ipv6addr = `${v6.address}/${v6.prefix}`;
    // Only the default-route network keeps its IPv6 gateway (docs/engine-host-networking.md#default-route-role).
    if (v6.gateway && network.defaultRoute) attrs.ipv6gateway = v6.gateway;
  }
  if (network.defaultRoute) attrs.defaultRoute = true;

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
