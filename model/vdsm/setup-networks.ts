/**
 * `Host.setupNetworks(networks, bondings, options)` as it arrives on the wire (docs/setup-networks.md#parameters).
 *
 * Deliberately lenient, as VDSM is: the engine sends `vlan` as a string, `bridged` as "true"/"false",
 * `STP` as "yes"/"no", `connectivityCheck` as "true"/"false". canonicalize.ts turns this into the
 * canonical typed form; validate.ts then checks meaning. Unknown keys are rejected: a typo must not be
 * silently ignored on a change that can cut a host off.
 */
import { z } from 'zod';

const boolish = z.union([z.boolean(), z.string(), z.number()]);
const intish = z.union([z.number(), z.string()]);

export const NetworkAttributes = z
  .object({
    nic: z.string().optional(),
    bonding: z.string().optional(),
    vlan: intish.optional(),
    mtu: intish.optional(),
    bridged: boolish.optional(),
    stp: boolish.optional(),
    /** The engine spells it in capitals. */
    STP: boolish.optional(),
    bootproto: z.string().optional(),
    ipaddr: z.string().optional(),
    netmask: z.string().optional(),
    prefix: intish.optional(),
    gateway: z.string().optional(),
    ipv6addr: z.string().optional(),
    ipv6gateway: z.string().optional(),
    dhcpv6: boolish.optional(),
    ipv6autoconf: boolish.optional(),
    defaultRoute: boolish.optional(),
    nameservers: z.array(z.string()).optional(),
    switch: z.string().optional(),
    hostQos: z.record(z.string(), z.unknown()).optional(),
    custom: z.record(z.string(), z.unknown()).optional(),
    remove: boolish.optional(),
    blockingdhcp: boolish.optional(),
  })
  .strict();
export type NetworkAttributes = z.infer<typeof NetworkAttributes>;

export const BondAttributes = z
  .object({
    nics: z.array(z.string()).optional(),
    options: z.string().optional(),
    hwaddr: z.string().optional(),
    switch: z.string().optional(),
    remove: boolish.optional(),
  })
  .strict();
export type BondAttributes = z.infer<typeof BondAttributes>;

export const SetupNetworksOptions = z
  .object({
    connectivityCheck: boolish.optional(),
    connectivityTimeout: intish.optional(),
    commitOnSuccess: boolish.optional(),
  })
  .passthrough();
export type SetupNetworksOptions = z.infer<typeof SetupNetworksOptions>;

/**
 * A record of named entries. zod drops a `__proto__` key without a word, so a network or bond of that name
 * would vanish from the request and the request would answer "Done": refuse the name instead.
 */
function namedRecord<T extends z.ZodType>(entry: T) {
  return z
    .unknown()
    .superRefine((value, ctx) => {
      if (typeof value === 'object' && value !== null && Object.hasOwn(value, '__proto__')) {
        ctx.addIssue({ code: 'custom', message: 'the name "__proto__" is not allowed', path: ['__proto__'] });
      }
    })
    .pipe(z.record(z.string(), entry));
}

export const SetupNetworksParams = z.object({
  networks: namedRecord(NetworkAttributes),
  bondings: namedRecord(BondAttributes),
  options: SetupNetworksOptions,
});
export type SetupNetworksParams = z.infer<typeof SetupNetworksParams>;

/** VDSM's default when `connectivityTimeout` is absent (seconds). */
export const DEFAULT_CONNECTIVITY_TIMEOUT_SECONDS = 4;
