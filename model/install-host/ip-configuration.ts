/** A reported device's IP configuration as the engine copies it into an attachment. Pure. */
import { isIPv4, parseCidr, prefixToNetmask } from '../ip';
import type { IpConfiguration } from '../attachments/attachment';
import type { DeviceInfo } from '../vdsm/capabilities';

/**
 * The engine's copy rules (NicToIpv4AddressFunction & co): DHCP when the device reports it, else static
 * when it has an address; address, netmask and gateway are copied only for static.
 */
export function copyIpConfiguration(info: DeviceInfo): IpConfiguration {
  let ipv4: IpConfiguration['ipv4'] = { bootProtocol: 'NONE' };
  if (info.dhcpv4) ipv4 = { bootProtocol: 'DHCP' };
  else if (info.addr && isIPv4(info.addr)) {
    const netmask = info.netmask || prefixNetmask(info.ipv4addrs, info.addr);
    ipv4 = {
      bootProtocol: 'STATIC_IP',
      address: info.addr,
      ...(netmask ? { netmask } : {}),
      ...(info.gateway ? { gateway: info.gateway } : {}),
    };
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
