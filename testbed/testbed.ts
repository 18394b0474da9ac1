/**
 * A testbed: namespaced hosts on a switch, a manager side in the root namespace, a DHCP server, and one
 * real BMC (ipmi_sim) per host whose power control really boots and powers off the host.
 *
 * ```ts
 * const testbed = await createTestbed({ stateDir, hosts: [{}, { factory: 'dhcp' }], bootCommand: ['python3', '-m', 'http.server', '8000'] });
 * try {
 *   // testbed.hosts[0].address is reachable from this (root) namespace; fence through its BMC:
 *   await fenceThroughBmc(await testbed.bmcCredentials('host1'), 'reboot');
 * } finally {
 *   await testbed.destroy();
 * }
 * ```
 *
 * `hostprov testbed down --state-dir …` tears down a testbed another process built, from testbed.json.
 */
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { getLogger, type Logger } from '../lib/logger';
import { subnetPlan } from './addressing';
import { readBmcCredentials, writeBmcCredentials, fenceNodeParamsFor, type BmcCredentials } from './bmc-credentials';
import {
  buildDhcpNamespace,
  buildHost,
  buildManagerSide,
  buildOobNamespace,
  buildRouter,
  buildSwitch,
  dhcpReservation,
  writeDhclientConf,
} from './build';
import { findHost, readDescription, TestbedPhase, writeDescription, type TestbedDescription, type TestbedHost } from './description';
import { startDnsmasq } from './dnsmasq';
import { startIpmiSim, writeIpmiSimConfig } from './ipmi-sim';
import { Netns, uniqueToken } from './netns';
import { resolveHosts, TestbedOptionsSchema, type TestbedOptionsInput } from './options';
import { planTestbed } from './plan';
import { bootPid, powerOff, powerOn, powerOnRouter, powerState, type PowerState } from './power';
import { claimSubnet } from './subnet-claim';
import { destroyTestbed, type TeardownOptions } from './teardown';

export type TestbedOptions = TestbedOptionsInput & {
  /** @default getLogger('testbed') */
  log?: Logger;
  /**
   * Aborting it stops the build at its next step; what was built is torn down and the call rejects with
   * the signal's reason (a Ctrl-C during `hostprov demo`).
   */
  signal?: AbortSignal;
};

export class TestbedExistsError extends Error {
  override readonly name = 'TestbedExistsError';
  constructor(readonly stateDir: string) {
    super(`${stateDir} already holds a testbed (testbed.json); tear it down first (hostprov testbed down --state-dir ${stateDir})`);
  }
}

export class NoTestbedError extends Error {
  override readonly name = 'NoTestbedError';
  constructor(readonly stateDir: string) {
    super(`no testbed in ${stateDir} (no testbed.json)`);
  }
}

/** Environment variables handed on to boot commands when set here (logging of agents on the hosts). */
const INHERITED_ENV = ['HOSTPROV_LOG_LEVEL', 'HOSTPROV_LOG_FORMAT'] as const;

function baseBootEnv(): Record<string, string> {
  const env: Record<string, string> = {
    PATH: `${process.env.PATH ?? '/usr/bin:/bin'}:/usr/local/sbin:/usr/sbin:/sbin`,
    HOME: process.env.HOME ?? '/root',
    LANG: 'C.UTF-8',
  };
  for (const key of INHERITED_ENV) {
    const value = process.env[key];
    if (value !== undefined) env[key] = value;
  }
  return env;
}

/** The testbeds this process built and has not destroyed: what a failed test prints the consoles of (test/setup/lab-logs.ts). */
const builtHere = new Set<Testbed>();

/** The testbeds this process built with {@link createTestbed} and has not destroyed yet. */
export function testbedsBuiltHere(): readonly Testbed[] {
  return [...builtHere];
}

export class Testbed {
  constructor(
    readonly description: TestbedDescription,
    private readonly log: Logger = getLogger('testbed'),
  ) {}

  /** Attaches to the testbed described in `<stateDir>/testbed.json` (built by any process). */
  static async open(stateDir: string, log?: Logger): Promise<Testbed> {
    const description = await readDescription(resolve(stateDir));
    if (!description) throw new NoTestbedError(resolve(stateDir));
    return new Testbed(description, log);
  }

  get stateDir(): string {
    return this.description.stateDir;
  }

  get hosts(): readonly TestbedHost[] {
    return this.description.hosts;
  }

  /** Where the Temporal worker runs: the root namespace, with the gateway and the manager address. */
  get manager(): TestbedDescription['manager'] {
    return this.description.manager;
  }

  host(name: string): TestbedHost {
    return findHost(this.description, name);
  }

  powerOn(name: string): Promise<void> {
    return powerOn(this.host(name));
  }

  powerOff(name: string): Promise<void> {
    return powerOff(this.host(name));
  }

  powerState(name: string): Promise<PowerState> {
    return powerState(this.host(name));
  }

  /** Pid of the host's running boot command (new at every boot), `null` when off. */
  bootPid(name: string): Promise<number | null> {
    return bootPid(this.host(name));
  }

  /** Endpoint and credentials of the host's BMC. */
  bmcCredentials(name: string): Promise<BmcCredentials> {
    return readBmcCredentials(this.description, this.host(name));
  }

  /** `Host.fenceNode` params that drive this host's BMC (IPMI port as the `ipport=` option). */
  async fenceNodeParams(name: string, action: 'status' | 'on' | 'off' | 'reboot'): Promise<Record<string, unknown>> {
    return fenceNodeParamsFor(await this.bmcCredentials(name), action);
  }

  /** Removes everything (see {@link destroyTestbed}); idempotent. */
  async destroy(options: TeardownOptions = {}): Promise<void> {
    await destroyTestbed(this.description, { log: this.log, ...options });
    builtHere.delete(this);
  }
}

/**
 * Builds a testbed and boots every host. On failure, whatever was built is torn down before the error
 * is rethrown, so a failed call leaves nothing behind.
 */
export async function createTestbed(options: TestbedOptions): Promise<Testbed> {
  const log = options.log ?? getLogger('testbed');
  const { log: _log, signal, ...rest } = options;
  const resolved = TestbedOptionsSchema.parse({ ...rest, stateDir: resolve(rest.stateDir) });
  const hosts = resolveHosts(resolved);
  const stateDir = resolved.stateDir;
  await mkdir(stateDir, { recursive: true });
  if (await readDescription(stateDir).catch(() => 'unreadable')) throw new TestbedExistsError(stateDir);

  const token = uniqueToken();
  signal?.throwIfAborted();
  const { plan, switchNs } = await claimSubnet();
  let description: TestbedDescription;
  try {
    signal?.throwIfAborted();
    description = planTestbed({ token, stateDir, plan, switchNamespace: switchNs.name, hosts, bootCommand: resolved.bootCommand });
    await writeDescription(description, { exclusive: true });
  } catch (err) {
    // Nothing but the claim exists yet.
    await switchNs.destroy();
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      log.warn({ stateDir, switchNamespace: switchNs.name }, 'state dir already holds a testbed; released the subnet claim');
      throw new TestbedExistsError(stateDir);
    }
    throw err;
  }
  log.info({ stateDir, token, subnet: plan.hostSubnet, hosts: hosts.length }, 'building testbed');
  try {
    await buildTestbed(
      description,
      {
        bootCwd: resolved.bootCwd ?? process.cwd(),
        bootEnv: { ...baseBootEnv(), ...resolved.bootEnv },
        powerOffGraceMs: resolved.powerOffGraceMs,
      },
      { signal, log },
    );
  } catch (err) {
    if (signal?.aborted) log.info({ stateDir }, 'testbed build stopped; tearing down what was built');
    else log.error({ err, stateDir }, 'building the testbed failed; tearing down what was built');
    await destroyTestbed(description, { log }).catch((teardownErr: unknown) =>
      log.error({ err: teardownErr }, 'teardown after a failed build failed too'),
    );
    throw err;
  }
  log.info(
    {
      stateDir,
      subnet: plan.hostSubnet,
      manager: description.manager.address,
      hosts: description.hosts.map((h) => `${h.name}=${h.address}`),
    },
    'testbed ready',
  );
  const testbed = new Testbed(description, log);
  builtHere.add(testbed);
  return testbed;
}

async function buildTestbed(
  description: TestbedDescription,
  boot: Parameters<typeof buildHost>[2],
  { signal, log }: { signal: AbortSignal | undefined; log: Logger },
): Promise<void> {
  // A stop is honoured between steps, never half-way through one, so teardown finds what each step built.
  const stopIfAsked = (): void => signal?.throwIfAborted();
  await buildSwitch(description);
  stopIfAsked();
  await buildManagerSide(description);
  stopIfAsked();
  await buildDhcpNamespace(description);
  stopIfAsked();
  await buildOobNamespace(description);
  stopIfAsked();
  await writeDhclientConf(description);
  await Promise.all(description.hosts.map((h) => buildHost(description, h, boot)));
  stopIfAsked();
  if (description.router) {
    // Before the hosts boot: a tagged host's DHCP goes to the router.
    await buildRouter(description, description.router);
    await powerOnRouter(description.router);
    stopIfAsked();
  }

  const passwords = Object.fromEntries(description.hosts.map((h) => [h.name, randomBytes(6).toString('hex')]));
  await writeBmcCredentials(description.credentialsFile, {
    hosts: Object.fromEntries(
      description.hosts.map((h) => [
        h.name,
        { address: h.bmc.address, port: h.bmc.port, username: h.bmc.username, password: passwords[h.name] ?? '' },
      ]),
    ),
  });

  description.dhcp.pid = await startDnsmasq(Netns.attach(description.dhcp.namespace), {
    dir: description.dhcp.dir,
    interface: description.dhcp.interface,
    plan: subnetPlan(description.subnet.index),
    reservations: description.hosts.filter((h) => h.factory.device.vlan === null).map((h) => dhcpReservation(h)),
  });
  await writeDescription(description);
  stopIfAsked();

  // Power on = boot (factory network, fresh runtime dir, boot command); the BMCs come after, so the
  // first `get power` they answer is already the truth.
  log.info({ hosts: description.hosts.map((h) => h.name) }, 'powering on testbed hosts');
  await Promise.all(description.hosts.map((h) => powerOn(h)));
  stopIfAsked();

  const oob = Netns.attach(description.oob.namespace);
  await Promise.all(
    description.hosts.map(async (h) => {
      const bmc = {
        name: h.name,
        dir: h.bmc.dir,
        address: h.bmc.address,
        port: h.bmc.port,
        username: h.bmc.username,
        password: passwords[h.name] ?? '',
        chassisControl: h.powerScript,
      };
      await writeIpmiSimConfig(bmc);
      h.bmc.pid = await startIpmiSim(oob, bmc);
    }),
  );
  description.phase = TestbedPhase.READY;
  await writeDescription(description);
}
