/**
 * Tearing a testbed down from its description, in any state: every step tolerates parts that were never
 * built or are already gone, and every step runs even when an earlier one failed (the errors are
 * reported together at the end). The switch namespace goes last: it is the subnet claim.
 */
import { rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { getLogger, type Logger } from '../lib/logger';
import { existsSync } from 'node:fs';
import { descriptionPath, HostKind, type TestbedDescription } from './description';
import { powerOff, powerOffRouter } from './power';
import { stopDnsmasq } from './dnsmasq';
import { stopIpmiSim } from './ipmi-sim';
import { deleteLinkIfExists, Netns, netnsExists } from './netns';
import { dhclientConfPath } from './plan';

export interface TeardownOptions {
  /** Also delete the files the testbed wrote (testbed.json, hosts/, dhcp/, credentials). @default true */
  removeFiles?: boolean;
  /** @default getLogger('testbed') */
  log?: Logger;
}

export class TestbedTeardownError extends Error {
  override readonly name = 'TestbedTeardownError';
  constructor(
    readonly stateDir: string,
    readonly failures: ReadonlyArray<{ step: string; error: unknown }>,
  ) {
    super(
      `testbed teardown of ${stateDir} left ${failures.length} problem(s): ` +
        failures.map((f) => `${f.step}: ${f.error instanceof Error ? f.error.message : String(f.error)}`).join('; '),
    );
  }
}

async function destroyNamespace(name: string): Promise<void> {
  if (await netnsExists(name)) await Netns.attach(name).destroy();
  else await rm(Netns.attach(name).etcDir, { recursive: true, force: true });
}

export async function destroyTestbed(description: TestbedDescription, options: TeardownOptions = {}): Promise<void> {
  const log = options.log ?? getLogger('testbed');
  const failures: Array<{ step: string; error: unknown }> = [];
  const step = async (name: string, action: () => Promise<void>) => {
    try {
      await action();
    } catch (error) {
      failures.push({ step: name, error });
      log.warn({ step: name, err: error }, 'testbed teardown step failed; continuing');
    }
  };

  // BMCs first, so nothing powers a host back on while it is being removed.
  await Promise.all(description.hosts.map((h) => step(`stop BMC of ${h.name}`, () => stopIpmiSim(h.bmc.pid, h.bmc.dir))));
  // Guests lose power at once (SIGKILL to every process of their kernel) rather than one SIGTERM at a time.
  await Promise.all(
    description.hosts
      .filter((h) => h.kind === HostKind.UML)
      .map((h) =>
        step(`power off guest ${h.name}`, async () => {
          if (existsSync(h.powerScript) && (await netnsExists(h.namespace))) await powerOff(h);
        }),
      ),
  );
  const router = description.router;
  if (router) {
    await step('power off the top-of-rack router', async () => {
      if (existsSync(router.powerScript) && (await netnsExists(router.namespace))) await powerOffRouter(router);
    });
    await step('delete the router namespace', () => destroyNamespace(router.namespace));
  }
  // Deleting a namespace stops every process in it (boot command, factory dhclient) and deletes its
  // veth ends, whose peers (switch ports) go with them; /etc/netns/<ns> goes too.
  await Promise.all(description.hosts.map((h) => step(`delete host ${h.name}`, () => destroyNamespace(h.namespace))));
  await step('stop dnsmasq', () => stopDnsmasq(description.dhcp.pid, description.dhcp.dir));
  await step('delete DHCP namespace', () => destroyNamespace(description.dhcp.namespace));
  await step('delete out-of-band namespace', () => destroyNamespace(description.oob.namespace));
  await step('delete manager interface', () => deleteLinkIfExists(description.manager.interface));
  await step('delete switch (releases the subnet)', () => destroyNamespace(description.switch.namespace));

  if (options.removeFiles ?? true) {
    await step('remove files', async () => {
      const routerFiles = description.router ? [description.router.dir] : [];
      for (const path of [
        join(description.stateDir, 'hosts'),
        description.dhcp.dir,
        description.credentialsFile,
        dhclientConfPath(description.stateDir),
        ...routerFiles,
      ]) {
        await rm(path, { recursive: true, force: true });
      }
      await rm(descriptionPath(description.stateDir), { force: true });
      // The state dir itself only if nothing else is in it (it may be a directory the caller owns).
      await rmdir(description.stateDir).catch(() => undefined);
    });
  }
  if (failures.length > 0) throw new TestbedTeardownError(description.stateDir, failures);
  log.info({ stateDir: description.stateDir, token: description.token }, 'testbed torn down');
}
