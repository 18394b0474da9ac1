/**
 * deviseManagementNetwork: from the host's reported capabilities and the device that reaches the manager,
 * the exact `Host.setupNetworks` request that builds the management network there, matching the DC
 * definition (docs/design-decisions.md#devising-the-management-network). Pure and deterministic: runs inside the workflow.
 *
 * Deliberate difference from the engine: a VLAN on a bond with fewer than two slaves is rejected too
 * (the engine only checks the active device's own name, so it lets that case through).
 */
import { FailureType } from '../failures';
import type { NetworkAttachmentSpec } from '../attachments/attachment';
import type { DeviceInfo, NetworkCapabilities } from '../vdsm/capabilities';
import { mtuOf } from '../vdsm/capability-values';
import { hostNetworkAttributes } from '../vdsm/host-network-attributes';
import { defaultRouteViolations, previousHolderWithoutRole, reportedDefaultRouteNetworks } from './default-route-role';
import { copyIpConfiguration } from './ip-configuration';
import type { NetworkAttributes } from '../vdsm/setup-networks';
import { bondModeAllowsVmNetwork } from '../network/bond-modes';
import type { ManagementNetworkInput } from './contract';

/** The failures devising can report (meanings in model/failures.ts). */
export const DeviseFailureType = {
  DEVICE_NOT_FOUND: FailureType.DEVICE_NOT_FOUND,
  IP_ON_FOREIGN_BRIDGE: FailureType.IP_ON_FOREIGN_BRIDGE,
  VLAN_MISMATCH: FailureType.VLAN_MISMATCH,
  DEGENERATE_BOND: FailureType.DEGENERATE_BOND,
  NO_BOOT_PROTOCOL: FailureType.NO_BOOT_PROTOCOL,
  /** A VM network on a bond whose mode the engine forbids for one (0, 5, 6). */
  BOND_MODE_FORBIDS_VM_NETWORK: FailureType.BOND_MODE_FORBIDS_VM_NETWORK,
  /** The request would break the default-route role's rules (model/install-host/default-route-role.ts). */
  DEFAULT_ROUTE_ROLE: FailureType.DEFAULT_ROUTE_ROLE,
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

export { copyIpConfiguration } from './ip-configuration';

export interface DeviseOptions {
  /**
   * Whether to refuse a VM network on a bond whose mode forbids it. Asked only when the device sits on a
   * bond; the workflow answers with a `patched()` marker, so executions started before the rule keep
   * replaying. @default always
   */
  checkBondMode?: () => boolean;
}

export function deviseManagementNetwork(
  caps: NetworkCapabilities,
  device: string,
  network: ManagementNetworkInput,
  options: DeviseOptions = {},
): DeviseResult {
  const existing = caps.networks[network.name];
  if (
    existing &&
    (device === network.name || existing.iface === device || existing.southbound === device || existing.interface === device)
  ) {
    return {
      kind: 'already-configured',
      device,
      detail: `${network.name} already carries the manager's traffic on ${existing.southbound ?? existing.iface}`,
    };
  }
  const found = findDevice(caps, device);
  if (!found)
    return {
      kind: 'failed',
      type: DeviseFailureType.DEVICE_NOT_FOUND,
      message: `device ${device} reaches the manager but the host does not report it`,
    };
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

  // Taking the default route from another network: that one is sent too, without the role.
  const networks: Record<string, NetworkAttributes> = { [network.name]: attrs };
  const previous = network.defaultRoute ? reportedDefaultRouteNetworks(caps).filter((name) => name !== network.name) : [];
  for (const name of previous) {
    const without = previousHolderWithoutRole(caps, name);
    if (without) networks[name] = without;
  }
  const violations = defaultRouteViolations(networks);
  if (violations.length)
    return { kind: 'failed', type: DeviseFailureType.DEFAULT_ROUTE_ROLE, message: `${device}: ${violations.join('; ')}` };

  return {
    kind: 'configure',
    device,
    baseDevice,
    attachment: { networkName: network.name, nicName: baseDevice, ipConfiguration, properties: {} },
    networks,
    detail: `${previous.length ? `takes the default route from ${previous.join(', ')} (sent without it); ` : ''}${network.name} on ${bond ? 'bond' : 'nic'} ${baseDevice}${network.vlan !== null ? ` VLAN ${network.vlan}` : ''}, ${network.vmNetwork ? 'bridged' : 'bridgeless'}, MTU ${network.mtu} (reported ${mtuOf(found.info)}), IPv4 ${v4.bootProtocol}, IPv6 ${v6.bootProtocol}`,
  };
}
