/**
 * zod schemas for the values operators type into the host networking commands (commander hands over
 * strings). Each one parses to the model's own type, checked by the model's own schema, so a flag and the
 * JSON the store takes cannot disagree.
 */
import { z } from 'zod';
import type { ClusterNetworkRolesPatch } from '../../model/host-networking/cluster';
import { NetworkMtu, VlanId } from '../../model/host-networking/network';
import { CustomProperties, HostNetworkQos, IpAddress, MAX_NAME_SERVERS } from '../../model/host-networking/values';
import { UsageError } from '../usage-error';

/** The word that clears an optional value (`--vlan none`, `--qos none`). */
export const NONE = 'none';

const wholeNumber = (what: string) =>
  z
    .string()
    .regex(/^\d{1,9}$/, `${what} is a whole number`)
    .transform(Number);

/** `--vlan 100`, or `none` for untagged. */
export const VlanFlag = z.union([z.literal(NONE).transform(() => null), wholeNumber('a VLAN id').pipe(VlanId)]);

/** `--mtu 9000`; 0 is the default MTU. */
export const MtuFlag = wholeNumber('an MTU').pipe(NetworkMtu);

/** `--port 54321`. */
export const PortFlag = wholeNumber('a port').pipe(z.number().int().min(1, 'ports are 1..65535').max(65_535, 'ports are 1..65535'));

/** `--dns-servers 192.0.2.53,2001:db8::53`, or `none`. */
export const DnsServersFlag = z
  .string()
  .transform((text) => (text === NONE ? [] : text.split(',').map((s) => s.trim())))
  .pipe(z.array(IpAddress).max(MAX_NAME_SERVERS, `at most ${MAX_NAME_SERVERS} name servers`));

const QOS_KEYS = { linkshare: 'outAverageLinkshare', upperlimit: 'outAverageUpperlimit', realtime: 'outAverageRealtime' } as const;

/** `--qos linkshare=50,upperlimit=2000,realtime=100` (Mbps for the rates), or `none`. */
export const QosFlag = z
  .string()
  .transform((text, ctx) => {
    if (text === NONE) return null;
    const qos: Record<string, number> = {};
    for (const part of text.split(',')) {
      const match = /^(linkshare|upperlimit|realtime)=(\d{1,9})$/.exec(part.trim());
      if (!match) {
        ctx.addIssue({
          code: 'custom',
          message: `"${part}": expected linkshare=N, upperlimit=MBPS or realtime=MBPS, comma-separated, or none`,
        });
        return z.NEVER;
      }
      qos[QOS_KEYS[match[1] as keyof typeof QOS_KEYS]] = Number(match[2]);
    }
    return qos;
  })
  .pipe(HostNetworkQos.nullable());

const PROPERTY_NAME = /^[A-Za-z0-9_.-]{1,128}$/;

/** Repeated `--property key=value`: the whole set of custom properties. */
export const PropertiesFlag = z
  .array(z.string())
  .transform((pairs, ctx) => {
    const properties: Record<string, string> = {};
    for (const pair of pairs) {
      const eq = pair.indexOf('=');
      if (eq <= 0) {
        ctx.addIssue({ code: 'custom', message: `"${pair}": expected key=value` });
        return z.NEVER;
      }
      const key = pair.slice(0, eq);
      // Checked here too: the record schema reports a bad key without saying which rule it broke.
      if (!PROPERTY_NAME.test(key)) {
        ctx.addIssue({ code: 'custom', message: `property ${key}: property names are 1..128 of [A-Za-z0-9_.-]` });
        return z.NEVER;
      }
      if (key in properties) {
        ctx.addIssue({ code: 'custom', message: `property ${key} is given twice` });
        return z.NEVER;
      }
      properties[key] = pair.slice(eq + 1);
    }
    return properties;
  })
  .pipe(CustomProperties);

/** Commander collects a repeatable option into an array. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

const ROLE_FLAGS = {
  defaultRoute: 'default-route',
  display: 'display',
  migration: 'migration',
  required: 'required',
  management: 'management',
} as const;

/** The role flags a command offers, `--display`/`--no-display` etc.; a role left out is not changed. */
export const RoleFlags = z.object({
  management: z.boolean().optional(),
  defaultRoute: z.boolean().optional(),
  display: z.boolean().optional(),
  migration: z.boolean().optional(),
  required: z.boolean().optional(),
});

/** The roles patch from the role flags that were given. */
export function rolesFromFlags(flags: z.infer<typeof RoleFlags>): ClusterNetworkRolesPatch {
  const roles: ClusterNetworkRolesPatch = {};
  for (const key of Object.keys(ROLE_FLAGS) as Array<keyof typeof ROLE_FLAGS>) {
    if (flags[key] !== undefined) roles[key] = flags[key];
  }
  return roles;
}

/** The `--<role>`/`--no-<role>` pairs, for commander. */
export const ROLE_FLAG_NAMES = ROLE_FLAGS;

/** Parses a positional argument; a problem is a UsageError naming it as `<name>`. */
export function parseArgument<T>(schema: z.ZodType<T>, name: string, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new UsageError(`<${name}>: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
}
