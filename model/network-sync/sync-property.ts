/**
 * The properties the out-of-sync report compares, named as the engine names them
 * (ovirt-engine common/businessentities/network/ReportedConfigurationType.java), in the engine's order
 * (docs/engine-host-networking.md#out-of-sync). STP, custom properties and labels are not compared, as in
 * the engine.
 */
import { z } from 'zod';

export const SyncProperty = {
  MTU: 'MTU',
  BRIDGED: 'BRIDGED',
  VLAN: 'VLAN',
  /** hostprov clusters always require `legacy` (Linux bridges); a host reporting `ovs` differs. */
  SWITCH_TYPE: 'SWITCH_TYPE',
  IPV4_BOOT_PROTOCOL: 'IPV4_BOOT_PROTOCOL',
  IPV4_NETMASK: 'IPV4_NETMASK',
  IPV4_ADDRESS: 'IPV4_ADDRESS',
  IPV4_GATEWAY: 'IPV4_GATEWAY',
  IPV6_BOOT_PROTOCOL: 'IPV6_BOOT_PROTOCOL',
  IPV6_PREFIX: 'IPV6_PREFIX',
  IPV6_ADDRESS: 'IPV6_ADDRESS',
  IPV6_GATEWAY: 'IPV6_GATEWAY',
  OUT_AVERAGE_LINK_SHARE: 'OUT_AVERAGE_LINK_SHARE',
  OUT_AVERAGE_UPPER_LIMIT: 'OUT_AVERAGE_UPPER_LIMIT',
  OUT_AVERAGE_REAL_TIME: 'OUT_AVERAGE_REAL_TIME',
  DNS_CONFIGURATION: 'DNS_CONFIGURATION',
  DEFAULT_ROUTE: 'DEFAULT_ROUTE',
} as const;
export type SyncProperty = (typeof SyncProperty)[keyof typeof SyncProperty];

export const SyncPropertySchema = z.enum(SyncProperty);

/** A compared value as JSON: a number (MTU, VLAN, prefix, rates), a flag, a text (addresses, boot protocols, name servers) or none. */
export type SyncValue = string | number | boolean | null;

/** One compared property: what the data center wants, what the host has, and whether they count as equal. */
export interface PropertyComparison {
  property: SyncProperty;
  desired: SyncValue;
  reported: SyncValue;
  inSync: boolean;
}

/** `MTU: desired 1500, host 9000` (none for `null`): how refusals and warnings name a difference. */
export function describeComparison(c: Pick<PropertyComparison, 'property' | 'desired' | 'reported'>): string {
  const value = (v: SyncValue) => (v === null ? 'none' : String(v));
  return `${c.property}: desired ${value(c.desired)}, host ${value(c.reported)}`;
}
