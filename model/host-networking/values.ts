/**
 * Value types shared by the host networking entities: ids, timestamps, custom properties, QoS and DNS.
 * Field names and bounds follow oVirt's entities (ovirt-engine common/businessentities/network/
 * NetworkAttachment.java, HostNetworkQos.java, DnsResolverConfiguration.java).
 */
import { z } from 'zod';

/** True when `text` has no C0 control character and no DEL. */
export function hasNoControlCharacters(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return false;
  }
  return true;
}

/** Ids the store generates (networks, attachments): RFC 4122 UUIDs. */
export const EntityId = z.uuid();
export type EntityId = z.infer<typeof EntityId>;

/**
 * Ids a caller may bring (hosts, clusters): the engine's GUIDs, or any short string the install-host
 * contract accepts as a host id, less control characters.
 */
export const ExternalId = z.string().min(1).max(128).refine(hasNoControlCharacters, 'ids have no control characters');
export type ExternalId = z.infer<typeof ExternalId>;

/** The key of a request that records an intent (a workflow id, run id and activity id; Temporal allows 1000-character ids). */
export const IntentKey = z.string().min(1).max(1200).refine(hasNoControlCharacters, 'keys have no control characters');

/** An ISO-8601 instant in UTC with milliseconds, as `Date.prototype.toISOString` writes it. */
export const Timestamp = z.iso.datetime();
export type Timestamp = z.infer<typeof Timestamp>;

/** Names of networks, clusters and hosts: printable, no surrounding space. */
export const EntityName = z
  .string()
  .min(1)
  .max(255)
  .regex(/^\S(.*\S)?$/, 'names have no leading or trailing whitespace')
  .refine(hasNoControlCharacters, 'names have no control characters');

/** Network custom properties (`bridge_opts`, `ethtool_opts`, user-defined keys), string to string. */
export const CustomProperties = z.record(
  z.string().regex(/^[A-Za-z0-9_.-]{1,128}$/, 'property names are 1..128 of [A-Za-z0-9_.-]'),
  z.string().max(4096),
);
export type CustomProperties = z.infer<typeof CustomProperties>;

/** Upper bound of link share, engine config `MaxHostNetworkQosShares`. */
export const MAX_HOST_NETWORK_QOS_SHARES = 100;

/**
 * Outbound host network QoS (ovirt-engine `HostNetworkQos`): link share (weight) and upper limit / real
 * time rates in Mbps. Which combinations make sense is a request validation, not a storage rule.
 */
export const HostNetworkQos = z
  .object({
    outAverageLinkshare: z.number().int().min(1).max(MAX_HOST_NETWORK_QOS_SHARES).optional(),
    outAverageUpperlimit: z.number().int().min(1).optional(),
    outAverageRealtime: z.number().int().min(1).optional(),
  })
  .strict();
export type HostNetworkQos = z.infer<typeof HostNetworkQos>;

/**
 * zod's `ipv4()`/`ipv6()` with copies of zod's own patterns. zod resets a format's pattern (`lastIndex = 0`)
 * before each test, and its default patterns are module constants: in the workflow sandbox, where zod is
 * preloaded and the SDK deep-freezes preloaded modules (workflows/sandbox-zod.ts), that write throws on the
 * frozen RegExp, so every workflow parse of an address failed. A pattern of this module's own is not frozen.
 * zod's parameter types leave `pattern` out; its constructors take it (`def.pattern ?? default`). The same
 * addresses pass, and the JSON Schema still says `format: ipv4` / `ipv6` (test/model/ip-address-schema.test.ts).
 */
function ownPattern(pattern: RegExp): z.core.$ZodIPv4Params & z.core.$ZodIPv6Params {
  return { pattern: new RegExp(pattern.source, pattern.flags) } as z.core.$ZodIPv4Params & z.core.$ZodIPv6Params;
}

export const IpAddress = z.union([z.ipv4(ownPattern(z.core.regexes.ipv4)), z.ipv6(ownPattern(z.core.regexes.ipv6))]);

/** At most 3 name servers (engine `MAX_SUPPORTED_DNS_CONFIGURATIONS`). */
export const MAX_NAME_SERVERS = 3;

/** Name servers, in order (ovirt-engine `DnsResolverConfiguration`). */
export const DnsResolverConfiguration = z.object({ nameServers: z.array(IpAddress).min(1).max(MAX_NAME_SERVERS) }).strict();
export type DnsResolverConfiguration = z.infer<typeof DnsResolverConfiguration>;
