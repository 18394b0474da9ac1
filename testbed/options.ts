/** What a testbed is made of, as asked by a test or `hostprov testbed up`; validated with zod. */
import { z } from 'zod';
import { MAX_HOSTS } from './addressing';
import { FactoryBoot } from './description';

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
  name: z.string().regex(HOST_NAME, { message: 'host names are lower-case letters, digits and -, at most 16, starting with a letter' }).optional(),
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

export class DuplicateHostNameError extends Error {
  override readonly name = 'DuplicateHostNameError';
  constructor(readonly host: string) {
    super(`testbed host name ${host} is used twice`);
  }
}

/** Per-host options with names filled in (`host1`, `host2`, … for unnamed hosts). */
export function resolveHosts(options: ResolvedTestbedOptions): ResolvedHostOptions[] {
  const entries = typeof options.hosts === 'number' ? Array.from({ length: options.hosts }, () => TestbedHostOptionsSchema.parse({})) : options.hosts;
  const hosts = entries.map((h, i) => ({ ...h, name: h.name ?? `host${i + 1}` }));
  const seen = new Set<string>();
  for (const h of hosts) {
    if (seen.has(h.name)) throw new DuplicateHostNameError(h.name);
    seen.add(h.name);
  }
  return hosts;
}

/** Replaces `{placeholder}`s in every argument; unknown `{…}` are left as they are. */
export function expandBootCommand(argv: readonly string[], values: Readonly<Record<BootPlaceholder, string>>): string[] {
  return argv.map((arg) => arg.replace(/\{([A-Za-z]+)\}/g, (whole, key: string) => ((BOOT_PLACEHOLDERS as readonly string[]).includes(key) ? values[key as BootPlaceholder] : whole)));
}
