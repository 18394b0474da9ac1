/**
 * A data-center network: the definition every host attachment of it follows (ovirt-engine
 * common/businessentities/network/Network.java, the fields host networking uses).
 */
import { z } from 'zod';
import { CustomProperties, EntityId, HostNetworkQos, IpAddress, MAX_NAME_SERVERS, Timestamp } from './values';

/** 1..256 letters, digits, `.`, `_` or `-`. Names VDSM cannot take are mapped to a VDSM name on the wire. */
export const NetworkName = z.string().regex(/^[\p{L}\p{N}._-]{1,256}$/u, 'network names are 1..256 letters, digits, ".", "_" or "-"');

/** 802.1Q tag. */
export const VlanId = z.number().int().min(0).max(4094);

/** MTU in bytes; 0 means the default (engine config `DefaultMTU`, 1500). */
export const NetworkMtu = z
  .number()
  .int()
  .refine((mtu) => mtu === 0 || (mtu >= 68 && mtu <= 65_535), 'MTU is 0 (default) or 68..65535');

/** The engine's effective MTU for MTU 0 (config `DefaultMTU`). */
export const DEFAULT_MTU = 1500;

export const Network = z
  .object({
    id: EntityId,
    name: NetworkName,
    /** `null` for an untagged network. */
    vlan: VlanId.nullable(),
    mtu: NetworkMtu,
    /** A VM network is bridged on the host. */
    vmNetwork: z.boolean(),
    stp: z.boolean(),
    dnsServers: z.array(IpAddress).max(MAX_NAME_SERVERS),
    qos: HostNetworkQos.nullable(),
    customProperties: CustomProperties,
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .strict();
export type Network = z.infer<typeof Network>;

/** What creating a network takes; everything but the name has the engine's default. */
export const NetworkDraft = z
  .object({
    /** @default a new UUID */
    id: EntityId.optional(),
    name: NetworkName,
    /** @default null */
    vlan: VlanId.nullable().default(null),
    /** @default 0 */
    mtu: NetworkMtu.default(0),
    /** @default true */
    vmNetwork: z.boolean().default(true),
    /** @default false */
    stp: z.boolean().default(false),
    /** @default [] */
    dnsServers: z.array(IpAddress).max(MAX_NAME_SERVERS).default([]),
    /** @default null */
    qos: HostNetworkQos.nullable().default(null),
    /** @default {} */
    customProperties: CustomProperties.default({}),
  })
  .strict();
export type NetworkDraft = z.input<typeof NetworkDraft>;

/** A partial update of a network (only the given fields change). */
export const NetworkPatch = z
  .object({
    name: NetworkName,
    vlan: VlanId.nullable(),
    mtu: NetworkMtu,
    vmNetwork: z.boolean(),
    stp: z.boolean(),
    dnsServers: z.array(IpAddress).max(MAX_NAME_SERVERS),
    qos: HostNetworkQos.nullable(),
    customProperties: CustomProperties,
  })
  .partial()
  .strict();
export type NetworkPatch = z.infer<typeof NetworkPatch>;
