/**
 * A NetworkAttachment as the store keeps it: one data-center network on one host, on a base NIC or bond
 * (never a VLAN device; the VLAN comes from the network) or on no NIC at all, with the engine entity's
 * fields (ovirt-engine common/businessentities/network/NetworkAttachment.java): IPv4 and IPv6
 * configuration, custom properties, a QoS override and DNS. One attachment per (host, network).
 */
import { z } from 'zod';
import { IpConfiguration } from '../attachments/attachment';
import { NetworkName } from './network';
import { InterfaceName } from './reported-interfaces';
import { CustomProperties, DnsResolverConfiguration, EntityId, ExternalId, HostNetworkQos, Timestamp } from './values';

/** Both address families with boot protocol NONE: what the engine fills in when a family is missing. */
export const NO_IP_CONFIGURATION: IpConfiguration = { ipv4: { bootProtocol: 'NONE' }, ipv6: { bootProtocol: 'NONE' } };

export const NetworkAttachment = z
  .object({
    id: EntityId,
    hostId: ExternalId,
    networkId: EntityId,
    /** The network's name, read with the row (not stored on it). */
    networkName: NetworkName,
    /** The base NIC or bond; `null` for a network without a NIC. */
    nicName: InterfaceName.nullable(),
    ipConfiguration: IpConfiguration,
    properties: CustomProperties,
    /** Overrides the network's QoS on this host; `null` = the network's. */
    qos: HostNetworkQos.nullable(),
    /** `null` = the network's name servers. */
    dns: DnsResolverConfiguration.nullable(),
    /** Who wrote the row last (a workflow id, a user), for audit. */
    requestedBy: z.string().max(512).nullable(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .strict();
export type NetworkAttachment = z.infer<typeof NetworkAttachment>;

/** A new attachment, or (with the id of an existing one) its full replacement. */
export const AttachmentDraft = z
  .object({
    /** Set to replace that attachment; omitted for a new one. */
    id: EntityId.optional(),
    networkId: EntityId,
    /** @default null (no NIC) */
    nicName: InterfaceName.nullable().default(null),
    /** @default both families NONE */
    ipConfiguration: IpConfiguration.default(NO_IP_CONFIGURATION),
    /** @default {} */
    properties: CustomProperties.default({}),
    /** @default null */
    qos: HostNetworkQos.nullable().default(null),
    /** @default null */
    dns: DnsResolverConfiguration.nullable().default(null),
  })
  .strict();
export type AttachmentDraft = z.input<typeof AttachmentDraft>;

/** A partial update of one attachment; its network cannot change (engine `CANNOT_CHANGE_ATTACHED_NETWORK`). */
export const AttachmentPatch = z
  .object({
    nicName: InterfaceName.nullable(),
    ipConfiguration: IpConfiguration,
    properties: CustomProperties,
    qos: HostNetworkQos.nullable(),
    dns: DnsResolverConfiguration.nullable(),
  })
  .partial()
  .strict();
export type AttachmentPatch = z.input<typeof AttachmentPatch>;
