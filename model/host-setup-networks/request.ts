/**
 * The hostSetupNetworks request: one change to one host's networks, carrying many parts at once, as the
 * engine's HostSetupNetworksParameters does (docs/engine-host-networking.md#parameters): new and modified
 * attachments, removed attachments, created or updated bonds, removed bonds and removed unmanaged networks,
 * plus how to apply it. Versioned JSON, validated by zod; the shape checks here are the engine's bean
 * validation, the meaning checks are `validateHostSetupNetworks`.
 *
 * Deliberately loose where the engine answers with an error key of its own: an attachment may name no
 * network or no NIC, and a bond name is any short word, so those mistakes come back as violations with
 * the engine's keys, together with every other one, instead of as a schema error.
 */
import { z } from 'zod';
import { Ipv4BootProtocol, Ipv6BootProtocol } from '../attachments/attachment';
import { isIPv4, isIPv6, netmaskToPrefix } from '../ip';
import { NetworkName } from '../host-networking/network';
import { InterfaceName } from '../host-networking/reported-interfaces';
import {
  CustomProperties,
  DnsResolverConfiguration,
  EntityId,
  ExternalId,
  hasNoControlCharacters,
  HostNetworkQos,
} from '../host-networking/values';

export const HOST_SETUP_NETWORKS_REQUEST_VERSION = 1;

/** Upper bound on each list of one request: a request is one operator's change, not a bulk import. */
export const MAX_REQUEST_ITEMS = 1000;

/** The engine's `NetworkConnectivityCheckTimeoutInSeconds`: how long the host waits for our confirmation. */
export const ENGINE_CONNECTIVITY_TIMEOUT_SECONDS = 120;

/** A dotted netmask (contiguous) or a prefix length, optionally with a leading `/` (ovirt-engine `@Mask`). */
export const Ipv4Netmask = z
  .string()
  .refine(
    (mask) => /^\/?([0-9]|[12][0-9]|3[0-2])$/.test(mask) || netmaskToPrefix(mask) !== null,
    'a netmask is dotted (255.255.255.0) or a prefix length 0..32',
  );

export const RequestIpv4Address = z
  .object({
    bootProtocol: z.enum(Ipv4BootProtocol),
    address: z.string().refine(isIPv4, 'not an IPv4 address').optional(),
    netmask: Ipv4Netmask.optional(),
    gateway: z.string().refine(isIPv4, 'not an IPv4 address').optional(),
  })
  .strict();

export const RequestIpv6Address = z
  .object({
    bootProtocol: z.enum(Ipv6BootProtocol),
    address: z
      .string()
      .refine((a) => isIPv6(a) && !isIPv4(a), 'not an IPv6 address')
      .optional(),
    prefix: z.number().int().min(0).max(128).optional(),
    gateway: z
      .string()
      .refine((a) => isIPv6(a) && !isIPv4(a), 'not an IPv6 address')
      .optional(),
  })
  .strict();

/** At most one address per family; a family left out becomes boot protocol NONE (engine `IpConfigurationCompleter`). */
export const RequestIpConfiguration = z.object({ ipv4: RequestIpv4Address.optional(), ipv6: RequestIpv6Address.optional() }).strict();
export type RequestIpConfiguration = z.infer<typeof RequestIpConfiguration>;

/**
 * A new attachment (no `id`) or a change to a stored one (`id`). A change keeps every field it leaves out
 * from the stored attachment; a field given replaces the stored value whole (`qos: null` and `dns: null`
 * go back to the network's).
 */
export const AttachmentRequest = z
  .object({
    /** The stored attachment to change; omitted for a new one. */
    id: EntityId.optional(),
    /** The data-center network, by id or by name (one is enough; both must agree). */
    networkId: EntityId.optional(),
    networkName: NetworkName.optional(),
    /** The base NIC or bond, or a bond created in the same request; never a VLAN device. */
    nicName: InterfaceName.optional(),
    ipConfiguration: RequestIpConfiguration.optional(),
    /** Network custom properties, e.g. `bridge_opts`. */
    properties: CustomProperties.optional(),
    /** Overrides the network's QoS on this host; `null` = the network's. */
    qos: HostNetworkQos.nullable().optional(),
    /** Name servers; `null` = the network's. Sent only for the default-route network. */
    dns: DnsResolverConfiguration.nullable().optional(),
    /**
     * Sync: re-send the attachment even when it equals the stored one, overwriting what the host has
     * (docs/engine-host-networking.md#out-of-sync). Not stored.
     * @default false
     */
    overrideConfiguration: z.boolean().default(false),
  })
  .strict();
export type AttachmentRequest = z.infer<typeof AttachmentRequest>;

/** Bond names: `bond` plus word characters is checked as a violation (`NETWORK_BOND_NAME_BAD_FORMAT`). */
export const BondName = z.string().min(1).max(50).refine(hasNoControlCharacters, 'bond names have no control characters');

/** A bond to create, or (when the host reports one of that name) to update: its options and slaves replace the host's. */
export const BondRequest = z
  .object({
    name: BondName,
    /**
     * Bonding options as VDSM takes them (`"mode=1 miimon=100"`).
     * @default "mode=4 miimon=100 xmit_hash_policy=2" (the engine's, for a bond sent without options)
     */
    options: z.string().max(1024).refine(hasNoControlCharacters, 'bond options have no control characters').optional(),
    slaves: z.array(InterfaceName).max(64),
  })
  .strict();
export type BondRequest = z.infer<typeof BondRequest>;

/** A network name as the host reports it (unmanaged networks have any name VDSM took). */
export const ReportedNetworkName = z.string().min(1).max(256).refine(hasNoControlCharacters, 'network names have no control characters');

export const HostSetupNetworksOptions = z
  .object({
    /**
     * The engine's `rollbackOnFailure`: VDSM's connectivity check. The host rolls back unless we confirm
     * connectivity within the timeout.
     * @default true
     */
    rollbackOnFailure: z.boolean().default(true),
    /** How long the host waits for a confirmation before rolling back. @default 120 */
    connectivityTimeoutSeconds: z.number().int().min(1).max(3600).default(ENGINE_CONNECTIVITY_TIMEOUT_SECONDS),
    /** The host persists the change itself once it succeeded (VDSM `commitOnSuccess`). @default false */
    commitOnSuccess: z.boolean().default(false),
  })
  .strict();
export type HostSetupNetworksOptions = z.infer<typeof HostSetupNetworksOptions>;

const list = <T extends z.ZodType>(item: T) => z.array(item).max(MAX_REQUEST_ITEMS).default([]);

/** Reports every value `key` gives twice (the engine keeps these lists as sets). */
function refuseDuplicates<T>(
  ctx: z.RefinementCtx,
  items: readonly T[],
  key: (item: T) => string | undefined,
  path: string,
  what: string,
): void {
  const seen = new Set<string>();
  for (const [i, item] of items.entries()) {
    const k = key(item);
    if (k === undefined) continue;
    if (seen.has(k)) ctx.addIssue({ code: 'custom', path: [path, i], message: `${what} ${k} is listed twice` });
    seen.add(k);
  }
}

export const HostSetupNetworksRequest = z
  .object({
    version: z.literal(HOST_SETUP_NETWORKS_REQUEST_VERSION),
    hostId: ExternalId,
    /** New and modified attachments. @default [] */
    attachments: list(AttachmentRequest),
    /** Ids of stored attachments to remove. @default [] */
    removedAttachments: list(EntityId),
    /** Bonds to create or update. @default [] */
    bonds: list(BondRequest),
    /** Names of bonds to remove. @default [] */
    removedBonds: list(InterfaceName),
    /** Unmanaged networks (reported by the host, unknown to the cluster) to remove, by their name on the host. @default [] */
    removedUnmanagedNetworks: list(ReportedNetworkName),
    /** @default rollback on, 120 s, no commit */
    options: HostSetupNetworksOptions.default({
      rollbackOnFailure: true,
      connectivityTimeoutSeconds: ENGINE_CONNECTIVITY_TIMEOUT_SECONDS,
      commitOnSuccess: false,
    }),
  })
  .strict()
  .superRefine((request, ctx) => {
    refuseDuplicates(ctx, request.attachments, (a) => a.id, 'attachments', 'attachment');
    refuseDuplicates(ctx, request.removedAttachments, (id) => id, 'removedAttachments', 'attachment');
    refuseDuplicates(ctx, request.bonds, (b) => b.name, 'bonds', 'bond');
    refuseDuplicates(ctx, request.removedBonds, (name) => name, 'removedBonds', 'bond');
    refuseDuplicates(ctx, request.removedUnmanagedNetworks, (name) => name, 'removedUnmanagedNetworks', 'network');
  });
export type HostSetupNetworksRequest = z.infer<typeof HostSetupNetworksRequest>;
/** What callers send (defaults may be omitted). */
export type HostSetupNetworksRequestInput = z.input<typeof HostSetupNetworksRequest>;
