/**
 * The parts of `ip -j -d` output the backend relies on, as zod schemas. Lenient on purpose: iproute2 adds keys
 * between versions and omits many when unset, so unknown keys are accepted and most fields are optional;
 * the few we cannot work without (names, mtu, priorities) are required.
 * - Links and addresses drop the keys they do not name: a link of `ip -j -d` has some 25 keys of which the
 *   model uses ten, and copying the others cost most of the parse of every read (docs/setup-networks.md,
 *   "What a change costs"). A bond's or VLAN's `info_data` is kept whole (a record).
 * - Routes and rules keep them (loose): a rule with a key the model cannot express (fwmark, iif, ...) must be
 *   recognised and left out (read.ts), not read as a plainer rule.
 */
import { z } from 'zod';
import { IpJsonShapeError } from '../errors';

/**
 * A link's `info_data` (bridge, bond, VLAN details): an object, taken as it is. read.ts checks each value it
 * uses where it uses it; a bridge has some 40 keys, and checking each one here cost as much as the rest of
 * its link.
 */
const InfoData = z.custom<Record<string, unknown>>(
  (value) => typeof value === 'object' && value !== null && !Array.isArray(value),
  'expected an object',
);

export const IpLinkJson = z.object({
  /** Tells a renamed link apart from a new one (read.ts). */
  ifindex: z.number().optional(),
  ifname: z.string(),
  flags: z.array(z.string()).default([]),
  mtu: z.number(),
  operstate: z.string().optional(),
  master: z.string().optional(),
  link_type: z.string().optional(),
  address: z.string().optional(),
  /** The lower link: a VLAN's base (also a veth's peer, which we ignore). `null` when it is in another namespace. */
  link: z.string().nullable().optional(),
  linkinfo: z
    .object({
      info_kind: z.string().optional(),
      info_data: InfoData.optional(),
      info_slave_kind: z.string().optional(),
    })
    .optional(),
});
export type IpLinkJson = z.infer<typeof IpLinkJson>;

export const IpAddrInfoJson = z.object({
  family: z.string(),
  local: z.string().optional(),
  prefixlen: z.number(),
  scope: z.string().optional(),
  /** Seconds; 4294967295 (INFINITY_LIFE_TIME) for static addresses. */
  valid_life_time: z.number().optional(),
});

export const IpAddrJson = z.object({
  ifname: z.string(),
  addr_info: z.array(IpAddrInfoJson).default([]),
});
export type IpAddrJson = z.infer<typeof IpAddrJson>;

/** `ip -j -d addr show` without a family: every link, as `link show` prints it, with its addresses. */
export const IpLinkWithAddrJson = IpLinkJson.extend({ addr_info: z.array(IpAddrInfoJson).default([]) });
export type IpLinkWithAddrJson = z.infer<typeof IpLinkWithAddrJson>;

export const IpRouteJson = z.looseObject({
  /** Present with `-d`; missing means unicast. */
  type: z.string().optional(),
  dst: z.string(),
  gateway: z.string().optional(),
  dev: z.string().optional(),
  /** Absent for the main table in some listings; a number as a string, or a name from rt_tables. */
  table: z.string().optional(),
  protocol: z.string().optional(),
  prefsrc: z.string().optional(),
  metric: z.number().optional(),
});
export type IpRouteJson = z.infer<typeof IpRouteJson>;

export const IpRuleJson = z.looseObject({
  priority: z.number(),
  /** `all`, or an address whose prefix is in `srclen` (absent for a host). */
  src: z.string().optional(),
  srclen: z.number().optional(),
  dst: z.string().optional(),
  dstlen: z.number().optional(),
  table: z.string().optional(),
});
export type IpRuleJson = z.infer<typeof IpRuleJson>;

/** `ip -j -d route get` (one element). */
export const IpRouteGetJson = z.array(
  z.looseObject({
    dst: z.string(),
    gateway: z.string().optional(),
    dev: z.string(),
    prefsrc: z.string().optional(),
  }),
);

/**
 * Parses one line of `ip -j -batch` output (a JSON array) against `schema`; with `keep`, only the elements
 * it accepts (it sees them unchecked, so it must not trust their shape).
 */
export function parseIpJsonLine<T>(what: string, line: string | undefined, schema: z.ZodType<T>, keep?: (raw: unknown) => boolean): T[] {
  let raw: unknown;
  try {
    raw = JSON.parse(line ?? '');
  } catch (err) {
    throw new IpJsonShapeError(what, `not JSON: ${(err as Error).message}`);
  }
  if (keep && Array.isArray(raw)) raw = raw.filter(keep);
  const parsed = z.array(schema).safeParse(raw);
  if (!parsed.success) throw new IpJsonShapeError(what, z.prettifyError(parsed.error));
  return parsed.data;
}
