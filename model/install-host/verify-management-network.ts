/**
 * After the change (and the reboot), the host must report the management network exactly as devised and
 * a clean (`netConfigDirty: "False"`) configuration. Returns the differences in words; empty = verified.
 */
import { readVdsmBoolean } from '../vdsm/boolean';
import type { NetworkCapabilities } from '../vdsm/capabilities';
import { isDirty, mtuOf } from '../vdsm/capability-values';
import type { NetworkAttributes } from '../vdsm/setup-networks';

export function verifyManagementNetwork(caps: NetworkCapabilities, name: string, wanted: NetworkAttributes): string[] {
  const problems: string[] = [];
  const net = caps.networks[name];
  if (!net) return [`the host does not report network ${name}`];
  const bridged = wanted.bridged === undefined || readVdsmBoolean(wanted.bridged) !== false;
  if (net.bridged !== bridged)
    problems.push(`${name} is ${net.bridged ? 'bridged' : 'bridgeless'}, expected ${bridged ? 'bridged' : 'bridgeless'}`);
  const base = (wanted.nic ?? wanted.bonding) as string | undefined;
  const southbound = wanted.vlan !== undefined ? `${base}.${wanted.vlan}` : base;
  const reportedSouthbound = net.southbound ?? (bridged ? net.ports?.[0] : net.iface);
  if (southbound && reportedSouthbound !== southbound)
    problems.push(`${name} sits on ${reportedSouthbound ?? 'nothing'}, expected ${southbound}`);
  const vlan = wanted.vlan === undefined ? undefined : Number(wanted.vlan);
  if ((net.vlanid ?? undefined) !== vlan) problems.push(`${name} has VLAN ${net.vlanid ?? 'none'}, expected ${vlan ?? 'none'}`);
  if (wanted.mtu !== undefined && mtuOf(net) !== Number(wanted.mtu)) problems.push(`${name} has MTU ${mtuOf(net)}, expected ${wanted.mtu}`);
  if (wanted.ipaddr && net.addr !== wanted.ipaddr) problems.push(`${name} has address ${net.addr || 'none'}, expected ${wanted.ipaddr}`);
  if (wanted.bootproto === 'dhcp' && !net.dhcpv4) problems.push(`${name} is not using DHCP`);
  if (isDirty(caps)) problems.push('the host reports unsaved network changes (netConfigDirty is True)');
  return problems;
}
