/**
 * A NetworkAttachment: the desired state of one network on one host NIC or bond
 * (docs/engine-host-networking.md#networkattachment). The store keeps these as rows; the install workflow
 * records them as intent before applying and compensates them when the host rolls back.
 */
import { z } from 'zod';

export const Ipv4BootProtocol = { NONE: 'NONE', DHCP: 'DHCP', STATIC_IP: 'STATIC_IP' } as const;
export type Ipv4BootProtocol = (typeof Ipv4BootProtocol)[keyof typeof Ipv4BootProtocol];

export const Ipv6BootProtocol = {
  NONE: 'NONE',
  DHCP: 'DHCP',
  AUTOCONF: 'AUTOCONF',
  POLY_DHCP_AUTOCONF: 'POLY_DHCP_AUTOCONF',
  STATIC_IP: 'STATIC_IP',
} as const;
export type Ipv6BootProtocol = (typeof Ipv6BootProtocol)[keyof typeof Ipv6BootProtocol];

export const Ipv4Address = z.object({
  bootProtocol: z.enum(Ipv4BootProtocol),
  address: z.string().optional(),
  netmask: z.string().optional(),
  gateway: z.string().optional(),
});
export type Ipv4Address = z.infer<typeof Ipv4Address>;

export const Ipv6Address = z.object({
  bootProtocol: z.enum(Ipv6BootProtocol),
  address: z.string().optional(),
  prefix: z.number().int().min(0).max(128).optional(),
  gateway: z.string().optional(),
});
export type Ipv6Address = z.infer<typeof Ipv6Address>;

export const IpConfiguration = z.object({ ipv4: Ipv4Address, ipv6: Ipv6Address });
export type IpConfiguration = z.infer<typeof IpConfiguration>;

export const NetworkAttachmentSpec = z.object({
  networkName: z.string().min(1),
  /** Always the base NIC or bond, never a VLAN device. */
  nicName: z.string().min(1),
  ipConfiguration: IpConfiguration,
  properties: z.record(z.string(), z.string()).default({}),
});
export type NetworkAttachmentSpec = z.infer<typeof NetworkAttachmentSpec>;
