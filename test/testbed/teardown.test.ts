/**
 * Teardown leaves nothing: no namespaces, links, processes or files — also for a testbed that is half
 * gone already, and when asked twice.
 */
import { access, readFile } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { skipBecause } from '../helpers/skip';
import { run } from '../../lib/process';
import { readDescription, type TestbedDescription } from '../../testbed/description';
import { dnsmasqPaths } from '../../testbed/dnsmasq';
import { linkExists, Netns, netnsExists } from '../../testbed/netns';
import { bootPid } from '../../testbed/power';
import { testbedUnavailableReason } from '../../testbed/requirements';
import { destroyTestbed } from '../../testbed/teardown';
import { createTestbed, TestbedExistsError, type Testbed } from '../../testbed/testbed';
import { capturingLogger, cleanUp, isRunning, makeStateDir } from './helpers/fixture';

const unavailable = await testbedUnavailableReason();

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** Everything a testbed put on the machine, to check it is all gone afterwards. */
async function footprint(testbed: Testbed): Promise<{ namespaces: string[]; pids: number[]; etcDirs: string[] }> {
  const d = testbed.description;
  const namespaces = [d.switch.namespace, d.dhcp.namespace, d.oob.namespace, ...d.hosts.map((h) => h.namespace)];
  const pids: number[] = [];
  for (const h of d.hosts) {
    const boot = await bootPid(h);
    if (boot !== null) pids.push(boot);
    if (h.bmc.pid !== null) pids.push(h.bmc.pid);
    const dhclient = await readFile(`${h.runtimeDir}/dhclient.eth0.pid`, 'utf8').catch(() => null);
    if (dhclient) pids.push(Number(dhclient.trim()));
  }
  if (d.dhcp.pid !== null) pids.push(d.dhcp.pid);
  return { namespaces, pids, etcDirs: d.hosts.map((h) => Netns.attach(h.namespace).etcDir) };
}

async function expectNothingLeft(description: TestbedDescription, before: Awaited<ReturnType<typeof footprint>>): Promise<void> {
  for (const name of before.namespaces) expect(await netnsExists(name), `namespace ${name}`).toBe(false);
  expect(await linkExists(description.manager.interface)).toBe(false);
  const rootLinks = (await run(['ip', '-o', 'link', 'show'])).stdout;
  expect(rootLinks).not.toContain(description.token);
  for (const pid of before.pids) expect(isRunning(pid), `pid ${pid}`).toBe(false);
  for (const dir of before.etcDirs) expect(await exists(dir), dir).toBe(false);
  expect(await exists(`${description.stateDir}/testbed.json`)).toBe(false);
  expect(await exists(`${description.stateDir}/hosts`)).toBe(false);
  expect(await exists(description.credentialsFile)).toBe(false);
}

describe.skipIf(skipBecause(unavailable, 'testbed teardown tests'))('testbed teardown', () => {
  const leftovers: Array<{ testbed?: Testbed; stateDir: string }> = [];

  afterAll(async () => {
    // Only matters when an assertion failed before the teardown under test ran.
    for (const l of leftovers) await cleanUp(l.testbed, l.stateDir);
  });

  it('removes namespaces, the manager interface, processes, /etc/netns entries and files; twice is fine', async () => {
    const entry: { testbed?: Testbed; stateDir: string } = { stateDir: await makeStateDir('teardown') };
    leftovers.push(entry);
    const testbed = await createTestbed({ stateDir: entry.stateDir, hosts: [{}, { factory: 'dhcp' }] });
    entry.testbed = testbed;
    const before = await footprint(testbed);
    expect(before.pids.length).toBeGreaterThanOrEqual(6); // 2 boot commands, 2 BMCs, 1 dhclient, dnsmasq
    for (const pid of before.pids) expect(isRunning(pid)).toBe(true);

    await testbed.destroy();
    await expectNothingLeft(testbed.description, before);
    await testbed.destroy();
  });

  it('tears down a half-gone testbed from its testbed.json alone', async () => {
    const entry: { testbed?: Testbed; stateDir: string } = { stateDir: await makeStateDir('halfgone') };
    leftovers.push(entry);
    const testbed = await createTestbed({ stateDir: entry.stateDir, hosts: 2 });
    entry.testbed = testbed;
    const before = await footprint(testbed);
    // Parts disappear behind the testbed's back: a host namespace, the DHCP server, a switch port.
    await Netns.attach(testbed.hosts[0]?.namespace ?? '').destroy();
    const dnsmasqPid = Number((await readFile(dnsmasqPaths(testbed.description.dhcp.dir).pidFile, 'utf8')).trim());
    process.kill(dnsmasqPid, 'SIGKILL');
    await Netns.attach(testbed.description.switch.namespace).ip(['link', 'del', testbed.description.manager.switchPort]);

    const description = await readDescription(entry.stateDir);
    if (!description) throw new Error('testbed.json is missing');
    await destroyTestbed(description);
    await expectNothingLeft(description, before);
  });

  it('lets only one of two builds racing for the same state dir win; the loser releases its subnet claim', async () => {
    const stateDir = await makeStateDir('race');
    const entry: { testbed?: Testbed; stateDir: string } = { stateDir };
    leftovers.push(entry);
    const loggers = [capturingLogger(), capturingLogger()];
    const results = await Promise.allSettled(loggers.map(({ log }) => createTestbed({ stateDir, hosts: 1, log })));
    const built = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const failed = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    entry.testbed = built[0];
    expect(built).toHaveLength(1);
    expect(failed).toEqual([expect.any(TestbedExistsError)]);
    // The loser had claimed a subnet (its own switch namespace) before it found the dir taken.
    const loser = loggers[results.findIndex((r) => r.status === 'rejected')];
    const released = loser?.lines.map((l) => JSON.parse(l) as { switchNamespace?: string }).find((l) => l.switchNamespace)?.switchNamespace;
    expect(released).toMatch(/^hp-sw-198\.18\.\d+$/);
    expect(released).not.toBe(built[0]?.description.switch.namespace);
    expect(await netnsExists(released ?? '')).toBe(false);
  });
});
