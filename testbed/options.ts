/** What a testbed is made of, as asked by a test or `hostprov testbed up`; validated with zod. */
import { z } from 'zod';
import { MAX_HOSTS } from './addressing';
import { FactoryBoot, FactoryBondSchema, HostKind } from './description';

/** Testbed paths end up in bash config, ipmi_sim's `chassis_control` line and dhclient arguments. */
export const SHELL_SAFE_ABSOLUTE_PATH = /^\/[A-Za-z0-9_./-]*$/;

/** The default boot command: nothing but "the OS is up" (the host is on while it runs). */
export const DEFAULT_BOOT_COMMAND: readonly string[] = ['sleep', 'infinity'];

/**
 * Placeholders replaced in boot-command arguments, per host: `{host}`, `{namespace}`, `{address}`,
 * `{stateDir}`, `{runtimeDir}`, `{managerAddress}`, `{gateway}`.
 */
export const BOOT_PLACEHOLDERS = ['host', 'namespace', 'address', 'stateDir', 'runtimeDir', 'managerAddress', 'gateway'] as const;
export type BootPlaceholder = (typeof BOOT_PLACEHOLDERS)[number];

export const HOST_NAME = /^[a-z][a-z0-9-]{0,15}$/;

const BootCommand = z.array(z.string()).min(1, { message: 'a boot command needs at least the program' }).readonly();

export const TestbedHostOptionsSchema = z.object({
  /** @default `host<N>` (1-based position) */
  name: z
    .string()
    .regex(HOST_NAME, { message: 'host names are lower-case letters, digits and -, at most 16, starting with a letter' })
    .optional(),
  /** Factory (install-time) config of eth0. @default 'static' */
  factory: z.enum(FactoryBoot).default(FactoryBoot.STATIC),
  /**
   * Default route via the manager gateway. `false` makes a host with no route to the manager's address
   * (198.19.N.1 is outside its subnet). @default true
   */
  defaultRoute: z.boolean().default(true),
  /** Number of NICs: eth0, eth1, … (only eth0 gets the factory config). @default 1 */
  nics: z.number().int().min(1).max(8).default(1),
  /** argv started in the host namespace at every power-on; overrides the testbed's {@link TestbedOptions.bootCommand}. */
  bootCommand: BootCommand.optional(),
  /**
   * `uml`: a User-Mode Linux guest with its own full kernel (bonds, VLANs; boots in seconds, runs Node about
   * 15 times slower). @default 'netns'
   */
  kind: z.enum([HostKind.NETNS, HostKind.UML]).default(HostKind.NETNS),
  /**
   * The factory address on a bond of these NICs instead of on eth0 (full-kernel hosts only). The bond takes
   * the first NIC's MAC. @default no bond
   */
  bond: z
    .object({
      name: FactoryBondSchema.shape.name,
      nics: z
        .array(z.string().regex(/^eth[0-7]$/))
        .min(1)
        .max(8),
      /** @default { mode: 'active-backup', miimon: '100' } */
      options: FactoryBondSchema.shape.options.default({ mode: 'active-backup', miimon: '100' }),
    })
    .optional(),
  /**
   * The factory address on this VLAN of eth0 or of the bond (full-kernel hosts only). The testbed then
   * gets a top-of-rack router that terminates the VLAN. @default untagged
   */
  vlan: z.number().int().min(1).max(4094).optional(),
});
export type TestbedHostOptions = z.input<typeof TestbedHostOptionsSchema>;
export type ResolvedHostOptions = z.output<typeof TestbedHostOptionsSchema> & { name: string };

export const TestbedOptionsSchema = z.object({
  /**
   * Directory for everything the testbed writes (testbed.json, per-host state/runtime dirs, logs). Created
   * if missing; must not already hold a testbed; absolute and shell-safe (letters, digits, `_ . / -`).
   */
  stateDir: z.string().regex(SHELL_SAFE_ABSOLUTE_PATH, { message: 'must be an absolute path of letters, digits, _ . / - only' }),
  /** Number of hosts with default options, or one entry per host. @default 1 */
  hosts: z.union([z.number().int().min(1).max(MAX_HOSTS), z.array(TestbedHostOptionsSchema).min(1).max(MAX_HOSTS).readonly()]).default(1),
  /** argv started in each host's namespace at every power-on ({@link BOOT_PLACEHOLDERS} replaced). @default ['sleep', 'infinity'] */
  bootCommand: BootCommand.default([...DEFAULT_BOOT_COMMAND]),
  /** Working directory of boot commands. @default process.cwd() */
  bootCwd: z.string().startsWith('/').optional(),
  /** Extra environment of boot commands (they start with a clean environment). @default {} */
  bootEnv: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string()).default({}),
  /**
   * Power-off waits this long after SIGTERM before SIGKILL. ipmi_sim waits for the power script and
   * fence_ipmilan retransmits after about a second, so keep it short (a real power cut has no grace at
   * all; the NICs go down before the SIGTERM either way). @default 1000
   */
  powerOffGraceMs: z.number().int().min(0).max(30_000).default(1_000),
});
export type TestbedOptionsInput = z.input<typeof TestbedOptionsSchema>;
export type ResolvedTestbedOptions = z.output<typeof TestbedOptionsSchema>;

export class FactoryNetworkError extends Error {
  override readonly name = 'FactoryNetworkError';
  constructor(
    readonly host: string,
    readonly reason: string,
  ) {
    super(`testbed host ${host}: ${reason}`);
  }
}

/** Bonds and VLANs need a full kernel; the NICs must exist; one VLAN per testbed (one router serves it). */
function checkFactoryNetwork(hosts: readonly ResolvedHostOptions[]): void {
  const vlans = new Set<number>();
  for (const h of hosts) {
    if ((h.bond || h.vlan !== undefined) && h.kind !== HostKind.UML) {
      throw new FactoryNetworkError(h.name, "bonds and VLANs need a full-kernel host (kind: 'uml'); this machine's kernel has neither");
    }
    for (const nic of h.bond?.nics ?? []) {
      if (Number(nic.slice(3)) >= h.nics)
        throw new FactoryNetworkError(h.name, `bond NIC ${nic} does not exist (the host has ${h.nics} NICs)`);
    }
    if (h.bond && new Set(h.bond.nics).size !== h.bond.nics.length)
      throw new FactoryNetworkError(h.name, 'a NIC is named twice in the bond');
    if (h.vlan !== undefined) vlans.add(h.vlan);
  }
  if (vlans.size > 1)
    throw new FactoryNetworkError(
      hosts.find((h) => h.vlan !== undefined)?.name ?? '',
      `hosts use VLANs ${[...vlans].join(', ')}; a testbed routes one VLAN`,
    );
}

export class DuplicateHostNameError extends Error {
  override readonly name = 'DuplicateHostNameError';
  constructor(readonly host: string) {
    super(`testbed host name ${host} is used twice`);
  }
}

/** Per-host options with names filled in (`host1`, `host2`, … for unnamed hosts). */
export function resolveHosts(options: ResolvedTestbedOptions): ResolvedHostOptions[] {
  const entries =
    typeof options.hosts === 'number' ? Array.from({ length: options.hosts }, () => TestbedHostOptionsSchema.parse({})) : options.hosts;
  const hosts = entries.map((h, i) => ({ ...h, name: h.name ?? `host${i + 1}` }));
  const seen = new Set<string>();
  for (const h of hosts) {
    if (seen.has(h.name)) throw new DuplicateHostNameError(h.name);
    seen.add(h.name);
  }
  checkFactoryNetwork(hosts);
  return hosts;
}

/** Replaces `{placeholder}`s in every argument; unknown `{…}` are left as they are. */
export function expandBootCommand(argv: readonly string[], values: Readonly<Record<BootPlaceholder, string>>): string[] {
  return argv.map((arg) =>
    arg.replace(/\{([A-Za-z]+)\}/g, (whole, key: string) =>
      (BOOT_PLACEHOLDERS as readonly string[]).includes(key) ? values[key as BootPlaceholder] : whole,
    ),
  );
}
