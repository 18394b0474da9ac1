/**
 * zod schemas of {@link KernelState}, for the agent's own files read back from disk: the kernel snapshot a
 * pending transaction keeps so that an agent restarted mid-change can still roll it back exactly.
 */
import { z } from 'zod';
import { LinkKind, type KernelState } from './net-state';

const FamilySchema = z.union([z.literal(4), z.literal(6)]);

export const LinkStateSchema = z
  .object({
    name: z.string(),
    kind: z.enum(LinkKind),
    mtu: z.number().int(),
    up: z.boolean(),
    operUp: z.boolean().optional(),
    mac: z.string(),
    master: z.string().nullable(),
    permMac: z.string().optional(),
    speed: z.number().optional(),
    // Snapshots written before bridge options were read have none: their rollback leaves options alone.
    bridge: z
      .object({ stp: z.boolean(), options: z.record(z.string(), z.string()).optional() })
      .strict()
      .optional(),
    bond: z
      .object({ mode: z.string(), options: z.record(z.string(), z.string()), activeSlave: z.string().nullable().optional() })
      .strict()
      .optional(),
    vlan: z.object({ base: z.string(), id: z.number().int() }).strict().optional(),
    // Snapshots written before IPv6 was read per bridge have none: their rollback leaves IPv6 alone.
    ipv6: z.boolean().optional(),
    ipv6Autoconf: z.boolean().optional(),
    ipv6DefaultRouter: z.boolean().optional(),
  })
  .strict();

export const AddressStateSchema = z
  .object({ dev: z.string(), family: FamilySchema, address: z.string(), prefixLen: z.number().int(), dynamic: z.boolean() })
  .strict();

export const RouteStateSchema = z
  .object({
    family: FamilySchema,
    table: z.number().int(),
    dst: z.string(),
    gateway: z.string().optional(),
    dev: z.string().optional(),
    src: z.string().optional(),
    metric: z.number().int().optional(),
    protocol: z.string().optional(),
  })
  .strict();

export const RuleStateSchema = z
  .object({
    family: FamilySchema,
    priority: z.number().int(),
    from: z.string().optional(),
    to: z.string().optional(),
    table: z.number().int(),
  })
  .strict();

export const KernelStateSchema = z
  .object({
    links: z.array(LinkStateSchema),
    addresses: z.array(AddressStateSchema),
    routes: z.array(RouteStateSchema),
    rules: z.array(RuleStateSchema),
  })
  .strict() satisfies z.ZodType<KernelState>;
