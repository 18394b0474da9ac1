/**
 * The default-route role in install-host's `Host.setupNetworks` request, as the engine keeps it
 * (docs/engine-host-networking.md#default-route-role):
 * - at most one network of a request holds the role, and the host keeps exactly one holder;
 * - when the management network takes the role from another network the host reports holding it, that
 *   network is sent too, without the role and without its IPv6 gateway (ovirt-engine
 *   HostSetupNetworksCommand `getAttachmentsWithMissingUpdatedDefaultRoute`,
 *   `removeIpv6GatewayFromPreviousDefaultRouteAttachment`), so the request itself says where the role went;
 * - an IPv6 gateway and nameservers only on the default-route network.
 * Pure: runs inside the workflow.
 */
import { parseCidr } from '../ip';
import type { NetworkCapabilities } from '../vdsm/capabilities';
import { mtuOf } from '../vdsm/capability-values';
import type { NetworkAttributes } from '../vdsm/setup-networks';
import { copyIpConfiguration } from './ip-configuration';

/**
 * Reported networks holding the default route, by the engine's test (`IsDefaultRouteOnInterfacePredicate`):
 * an IPv4 default route in the main table, or an IPv6 gateway.
 */
export function reportedDefaultRouteNetworks(caps: NetworkCapabilities): string[] {
  return Object.entries(caps.networks)
    .filter(([, info]) => info.ipv4defaultroute || (info.ipv6gateway !== '' && info.ipv6gateway !== '::'))
    .map(([name]) => name)
    .sort();
}

/**
 * Reported network `name` as setupNetworks attributes without the role: its device, VLAN, bridge, MTU and
 * IP configuration as reported, its IPv4 gateway kept (its own routing table still needs it), no IPv6
 * gateway, no nameservers. `null` when the host does not report it.
 */
export function previousHolderWithoutRole(caps: NetworkCapabilities, name: string): NetworkAttributes | null {
  const info = caps.networks[name];
  if (!info) return null;
  const southbound = info.southbound ?? info.interface ?? info.iface;
  const vlan = caps.vlans[southbound];
  const base = vlan?.iface ?? southbound;
  const attrs: NetworkAttributes = { [caps.bondings[base] ? 'bonding' : 'nic']: base };
  if (vlan) attrs.vlan = String(vlan.vlanid);
  attrs.mtu = mtuOf(info);
  attrs.bridged = info.bridged ? 'true' : 'false';
  if (info.bridged) attrs.STP = info.stp === 'on' ? 'yes' : 'no';
  const ip = copyIpConfiguration(info);
  if (ip.ipv4.bootProtocol === 'DHCP') attrs.bootproto = 'dhcp';
  if (ip.ipv4.bootProtocol === 'STATIC_IP') {
    attrs.ipaddr = ip.ipv4.address;
    if (ip.ipv4.netmask) attrs.netmask = ip.ipv4.netmask;
    if (ip.ipv4.gateway) attrs.gateway = ip.ipv4.gateway;
  }
  attrs.dhcpv6 = ip.ipv6.bootProtocol === 'DHCP' || ip.ipv6.bootProtocol === 'POLY_DHCP_AUTOCONF';
  attrs.ipv6autoconf = ip.ipv6.bootProtocol === 'AUTOCONF' || ip.ipv6.bootProtocol === 'POLY_DHCP_AUTOCONF';
  if (ip.ipv6.bootProtocol === 'STATIC_IP' && ip.ipv6.address !== undefined && ip.ipv6.prefix !== undefined)
    attrs.ipv6addr = `${ip.ipv6.address}/${ip.ipv6.prefix}`;
  attrs.defaultRoute = false;
  return attrs;
}

function holdsRole(attrs: NetworkAttributes): boolean {
  return attrs.defaultRoute === true || attrs.defaultRoute === 'true';
}

/**
 * What breaks the role's rules in a request, in words (empty when none): more than one holder, an IPv6
 * gateway or nameservers on a network without the role.
 */
export function defaultRouteViolations(networks: Readonly<Record<string, NetworkAttributes>>): string[] {
  const problems: string[] = [];
  const holders = Object.keys(networks).filter((name) => holdsRole(networks[name] ?? {}));
  if (holders.length > 1) problems.push(`more than one network takes the default route: ${holders.join(', ')}`);
  for (const [name, attrs] of Object.entries(networks)) {
    if (holdsRole(attrs)) continue;
    const v6gateway = attrs.ipv6gateway;
    if (v6gateway !== undefined && v6gateway !== '' && parseCidr(`${v6gateway}/128`)?.address !== '::')
      problems.push(`${name} has an IPv6 gateway but not the default route`);
    if (attrs.nameservers?.length) problems.push(`${name} has nameservers but not the default route`);
  }
  return problems;
}
