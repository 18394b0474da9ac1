/**
 * `<stateDir>/testbed.json`: everything another process needs to use or tear down a testbed (names,
 * addresses, files, pids). Written before anything is built and updated as parts come up, so even a
 * half-built testbed can be torn down. Validated with zod when read back.
 */
import { randomBytes } from 'node:crypto';
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { readJsonFile } from '../lib/json-file';

export const DESCRIPTION_FILE = 'testbed.json';

export const TestbedPhase = {
  /** Parts may be missing; teardown must tolerate that. */
  BUILDING: 'building',
  READY: 'ready',
} as const;
export type TestbedPhase = (typeof TestbedPhase)[keyof typeof TestbedPhase];

export const FactoryBoot = {
  STATIC: 'static',
  DHCP: 'dhcp',
} as const;
export type FactoryBoot = (typeof FactoryBoot)[keyof typeof FactoryBoot];

/**
 * What a testbed host is: a network namespace of this machine's kernel (fast; no bonds or VLANs here), or
 * a User-Mode Linux guest with a kernel of its own that has bonding, 8021q and bridges (slow to boot).
 */
export const HostKind = {
  NETNS: 'netns',
  UML: 'uml',
} as const;
export type HostKind = (typeof HostKind)[keyof typeof HostKind];

const Ipv4 = z.ipv4();
const NetnsName = z.string().regex(/^[A-Za-z0-9_.-]+$/);
const IfName = z.string().min(1).max(15);
const AbsolutePath = z.string().startsWith('/');
const Pid = z.number().int().positive().nullable();

export const TestbedNicSchema = z.object({
  /** Name inside the host namespace (`eth0`, `eth1`, …). */
  name: IfName,
  mac: z.string().regex(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/),
  /** The peer end: a port of the switch's bridge. */
  switchPort: IfName,
});
export type TestbedNic = z.infer<typeof TestbedNicSchema>;

export const TestbedBmcSchema = z.object({
  /** ipmi_sim's address on the switch (in the out-of-band namespace; reachable while the host is off). */
  address: Ipv4,
  /** UDP port (IPMI over LAN, plain `lan`, not lanplus). */
  port: z.number().int().min(1).max(65535),
  username: z.string(),
  /** fence agent to use with `Host.fenceNode`. */
  agent: z.literal('ipmilan'),
  dir: AbsolutePath,
  pid: Pid,
});
export type TestbedBmc = z.infer<typeof TestbedBmcSchema>;

/** Bond options as `ip link add … type bond` takes them (`mode active-backup miimon 100`). */
export const FactoryBondSchema = z.object({
  name: z.string().regex(/^bond[0-9]{1,4}$/),
  options: z.record(z.string().regex(/^[a-z_]{1,32}$/), z.string().regex(/^[A-Za-z0-9_.:,-]{1,64}$/)),
});
export type FactoryBond = z.infer<typeof FactoryBondSchema>;

/**
 * The device that carries the factory address: a NIC, a bond of NICs, a VLAN on either. Bonds and VLANs
 * only exist on full-kernel hosts.
 */
export const FactoryDeviceSchema = z.object({
  /** The NIC, or the bond's slaves in the order they are enslaved (the bond takes the first one's MAC). */
  nics: z.array(IfName).min(1),
  bond: FactoryBondSchema.nullable(),
  vlan: z.number().int().min(1).max(4094).nullable(),
});
export type FactoryDevice = z.infer<typeof FactoryDeviceSchema>;

/** The device name the factory address sits on (`eth0`, `bond4`, `bond4.3000`). */
export function factoryDeviceName(device: FactoryDevice): string {
  const base = device.bond?.name ?? device.nics[0] ?? 'eth0';
  return device.vlan === null ? base : `${base}.${device.vlan}`;
}

export const TestbedHostSchema = z.object({
  name: z.string(),
  /** @default 'netns' (descriptions written before full-kernel hosts existed) */
  kind: z.enum([HostKind.NETNS, HostKind.UML]).default(HostKind.NETNS),
  /** The host's namespace; a full-kernel host's guest process runs in it, its NICs are taps there. */
  namespace: NetnsName,
  nics: z.array(TestbedNicSchema).min(1),
  factory: z.object({
    boot: z.enum(FactoryBoot),
    /** `eth0`'s address (static, or reserved for its MAC in the DHCP server) with prefix length. */
    address: z.string(),
    /** Default route via the manager gateway; `null` = the host has no route to the manager address. */
    gateway: Ipv4.nullable(),
    /** @default eth0 alone */
    device: FactoryDeviceSchema.default({ nics: ['eth0'], bond: null, vlan: null }),
  }),
  /** The factory address without prefix length: where the manager reaches the host's agent. */
  address: Ipv4,
  /** Testbed files of this host (power script, console log, boot pid). */
  dir: AbsolutePath,
  /** Persistent: survives power cycles. */
  stateDir: AbsolutePath,
  /** Wiped at every power-on: a fresh runtime dir means "this is a new boot". */
  runtimeDir: AbsolutePath,
  /** stdout/stderr of the boot command, appended across boots with a marker line per power event. */
  consoleLog: AbsolutePath,
  /** `chassis_control` program of the BMC; also run directly by testbed/power.ts. */
  powerScript: AbsolutePath,
  bootCommand: z.array(z.string()).min(1),
  bmc: TestbedBmcSchema,
});
export type TestbedHost = z.infer<typeof TestbedHostSchema>;

export const TestbedDescriptionSchema = z.object({
  version: z.literal(1),
  phase: z.enum(TestbedPhase),
  token: z.string().regex(/^[0-9a-f]+$/),
  createdAt: z.string(),
  stateDir: AbsolutePath,
  subnet: z.object({
    index: z.number().int(),
    hostSubnet: z.string(),
    managerSubnet: z.string(),
  }),
  switch: z.object({ namespace: NetnsName, bridge: IfName }),
  manager: z.object({
    /** veth end in the root namespace (the only change this testbed makes there). */
    interface: IfName,
    switchPort: IfName,
    /** On the hosts' subnet; their default gateway and the source of manager→host connections. */
    gateway: Ipv4,
    /** Outside the hosts' subnet; what a host must route to in order to reach the manager. */
    address: Ipv4,
  }),
  dhcp: z.object({
    namespace: NetnsName,
    interface: IfName,
    switchPort: IfName,
    address: Ipv4,
    dir: AbsolutePath,
    pid: Pid,
  }),
  oob: z.object({ namespace: NetnsName, interface: IfName, switchPort: IfName }),
  hosts: z.array(TestbedHostSchema),
  /**
   * The top-of-rack router: a full-kernel guest that terminates the testbed's VLAN (this machine's kernel
   * cannot), serves DHCP on it and routes it to the manager side. `null` when no host's factory network is
   * tagged.
   */
  router: z
    .object({
      vlan: z.number().int().min(1).max(4094),
      /** Untagged address on the switch (the manager routes the VLAN subnet through it). */
      address: Ipv4,
      vlanSubnet: z.string(),
      vlanGateway: Ipv4,
      namespace: NetnsName,
      nic: TestbedNicSchema,
      dir: AbsolutePath,
      powerScript: AbsolutePath,
    })
    .nullable()
    .default(null),
  /** JSON file (mode 0600) with every host's BMC password. */
  credentialsFile: AbsolutePath,
});
export type TestbedDescription = z.infer<typeof TestbedDescriptionSchema>;

export class TestbedDescriptionError extends Error {
  override readonly name = 'TestbedDescriptionError';
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`testbed description ${path} is unusable: ${reason}`);
  }
}

export function descriptionPath(stateDir: string): string {
  return join(stateDir, DESCRIPTION_FILE);
}

/** Reads and validates `<stateDir>/testbed.json`; `null` when there is none. */
export async function readDescription(stateDir: string): Promise<TestbedDescription | null> {
  const path = descriptionPath(stateDir);
  return readJsonFile(path, TestbedDescriptionSchema, (detail) => new TestbedDescriptionError(path, detail));
}

/**
 * Writes atomically (temp file + rename), so a reader never sees half a description. `exclusive` is for
 * the first write: it fails with EEXIST if the state dir already holds a testbed — also one another
 * process is creating this very moment (an O_EXCL create, and a short file, so never seen half-written).
 */
export async function writeDescription(
  description: TestbedDescription,
  { exclusive = false }: { exclusive?: boolean } = {},
): Promise<void> {
  const path = descriptionPath(description.stateDir);
  if (exclusive) {
    await writeFile(path, `${JSON.stringify(description, null, 2)}\n`, { flag: 'wx' });
    return;
  }
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, `${JSON.stringify(description, null, 2)}\n`);
  await rename(tmp, path);
}

/** The host called `name`, or an error listing the hosts there are. */
export function findHost(description: TestbedDescription, name: string): TestbedHost {
  const host = description.hosts.find((h) => h.name === name);
  if (!host)
    throw new UnknownTestbedHostError(
      name,
      description.hosts.map((h) => h.name),
    );
  return host;
}

export class UnknownTestbedHostError extends Error {
  override readonly name = 'UnknownTestbedHostError';
  constructor(
    readonly host: string,
    readonly known: readonly string[],
  ) {
    super(`no testbed host ${JSON.stringify(host)}; hosts are: ${known.join(', ') || '(none)'}`);
  }
}
