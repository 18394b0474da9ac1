/**
 * Power control without the BMC in between (testbed/power.ts runs the same script ipmi_sim runs): what
 * "off" and "boot" do to a namespaced host.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipBecause } from '../helpers/skip';
import { startDetached } from '../../testbed/daemon';
import { Netns } from '../../testbed/netns';
import { bootPid, powerOff, powerOn, powerState } from '../../testbed/power';
import { canConnect, waitForTcp } from '../../testbed/reachability';
import { testbedUnavailableReason } from '../../testbed/requirements';
import { createTestbed, type Testbed } from '../../testbed/testbed';
import { cleanUp, isRunning, makeStateDir, SERVICE_PORT, SERVING_BOOT_COMMAND } from './helpers/fixture';

interface IpLink {
  ifname: string;
  mtu: number;
  master?: string;
  address: string;
}

const unavailable = await testbedUnavailableReason();

describe.skipIf(skipBecause(unavailable, 'testbed power tests'))('testbed host power', () => {
  let stateDir: string | undefined;
  let testbed: Testbed | undefined;

  beforeAll(async () => {
    stateDir = await makeStateDir('power');
    testbed = await createTestbed({
      stateDir,
      hosts: [{ name: 'box', nics: 2 }],
      bootCommand: SERVING_BOOT_COMMAND,
      powerOffGraceMs: 1_000,
    });
    await waitForTcp(testbed.host('box').address, SERVICE_PORT, { timeoutMs: 20_000 });
  });

  afterAll(async () => {
    await cleanUp(testbed, stateDir);
  });

  const box = () => {
    if (!testbed) throw new Error('testbed was not built');
    return testbed.host('box');
  };
  const ns = () => Netns.attach(box().namespace);

  it('is on after createTestbed, and power on while on keeps the same boot', async () => {
    expect(await powerState(box())).toBe('on');
    const pid = await bootPid(box());
    expect(pid).not.toBeNull();
    await powerOn(box());
    expect(await bootPid(box())).toBe(pid);
  });

  it('powers off: the host stops answering, its processes are gone, its NICs are down', async () => {
    const pid = await bootPid(box());
    await powerOff(box());
    expect(await powerState(box())).toBe('off');
    expect(await bootPid(box())).toBeNull();
    expect(pid).not.toBeNull();
    expect(isRunning(pid ?? 0)).toBe(false);
    expect(await ns().pids()).toEqual([]);
    expect(await canConnect(box().address, SERVICE_PORT, 500)).toBe(false);
    const links = await ns().ipJson<Array<{ ifname: string; flags: string[] }>>(['link', 'show']);
    for (const link of links.filter((l) => l.ifname !== 'lo')) expect(link.flags).not.toContain('UP');
  });

  it('boots with a fresh runtime dir while the state dir keeps its files', async () => {
    await writeFile(join(box().stateDir, 'kept'), 'persistent\n');
    await writeFile(join(box().runtimeDir, 'stale'), 'from the last boot\n');
    await powerOn(box());
    await waitForTcp(box().address, SERVICE_PORT, { timeoutMs: 20_000 });
    expect(await readFile(join(box().stateDir, 'kept'), 'utf8')).toBe('persistent\n');
    expect((await readdir(box().runtimeDir)).sort()).toEqual(['booted']);
    const boots = (await readFile(join(box().stateDir, 'boots'), 'utf8')).trim().split('\n');
    expect(boots).toHaveLength(2);
    expect(await readFile(box().consoleLog, 'utf8')).toMatch(/--- power off ---[\s\S]*--- power on ---/);
    // The script stamps its log lines itself (no `date` process): UTC with milliseconds, as `date -u` did.
    const booted = (await readFile(join(box().dir, 'power.log'), 'utf8'))
      .trim()
      .split('\n')
      .filter((l) => l.includes(' booted: pid '));
    const stamp = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) booted: pid \d+$/.exec(booted.at(-1) ?? '')?.[1];
    expect(stamp).toBeDefined();
    expect(Math.abs(Date.parse(stamp ?? '') - Date.now())).toBeLessThan(60_000);
  });

  it('resets whatever the software on the host changed to the factory network at boot', async () => {
    const host = ns();
    // What an agent might have done: a bridge over eth1, addresses, an MTU, policy routing, a lost NIC.
    await host.ip(['link', 'add', 'ovirtmgmt', 'type', 'bridge']);
    await host.ip(['link', 'set', 'eth1', 'master', 'ovirtmgmt']);
    await host.ip(['addr', 'add', '10.99.0.1/24', 'dev', 'ovirtmgmt']);
    await host.ip(['addr', 'add', '10.98.0.1/24', 'dev', 'eth0']);
    await host.ip(['link', 'set', 'eth0', 'mtu', '1400']);
    await host.ip(['route', 'add', '10.97.0.0/24', 'dev', 'eth0', 'table', '100']);
    await host.ip(['rule', 'add', 'from', '10.99.0.1', 'table', '100', 'priority', '1000']);
    const ipv6Switches = async () =>
      (
        await host.exec([
          'sh',
          '-c',
          'cd /proc/sys/net/ipv6/conf/eth0 && echo $(cat disable_ipv6 autoconf accept_ra accept_redirects accept_ra_defrtr)',
        ])
      ).stdout.trim();
    const factoryIpv6 = await ipv6Switches();
    for (const sw of ['accept_ra_defrtr', 'autoconf', 'accept_ra', 'accept_redirects', 'disable_ipv6'])
      await host.exec(['sh', '-c', `echo ${sw === 'disable_ipv6' ? 1 : 0} > /proc/sys/net/ipv6/conf/eth0/${sw}`]);
    expect(await ipv6Switches()).not.toBe(factoryIpv6);
    await powerOff(box());
    await host.ip(['link', 'del', 'eth1']);
    await powerOn(box());

    const links = await host.ipJson<IpLink[]>(['link', 'show']);
    expect(links.map((l) => l.ifname).sort()).toEqual(['eth0', 'eth1', 'lo']);
    const eth0 = links.find((l) => l.ifname === 'eth0');
    const eth1 = links.find((l) => l.ifname === 'eth1');
    expect(eth0).toMatchObject({ mtu: 1500, address: box().nics[0]?.mac });
    expect(eth1?.address).toBe(box().nics[1]?.mac);
    expect(eth1?.master).toBeUndefined();
    // IPv6 as a booted kernel has it on its NICs: net.ipv6.conf.default's switches.
    expect(await ipv6Switches()).toBe(factoryIpv6);
    const addrs = await host.ipJson<Array<{ ifname: string; addr_info: Array<{ family: string; local: string }> }>>(['-4', 'addr', 'show']);
    expect(addrs.flatMap((a) => a.addr_info.map((i) => `${a.ifname} ${i.local}`)).sort()).toEqual(
      ['eth0 ' + box().address, 'lo 127.0.0.1'].sort(),
    );
    expect((await host.ip(['-4', 'route', 'show', 'table', '100'])).stdout.trim()).toBe('');
    const rules = await host.ipJson<Array<{ priority: number; table: string }>>(['-4', 'rule', 'show']);
    expect(rules.map((r) => `${r.priority} ${r.table}`)).toEqual(['0 local', '32766 main', '32767 default']);
    // The re-created eth1 is plugged into the switch again.
    const port = box().nics[1]?.switchPort ?? '';
    const sw = Netns.attach(testbed?.description.switch.namespace ?? '');
    expect((await sw.ipJson<IpLink[]>(['link', 'show', 'dev', port]))[0]?.master).toBe(testbed?.description.switch.bridge);
    await waitForTcp(box().address, SERVICE_PORT, { timeoutMs: 20_000 });
  });

  it('counts a boot command that died as off, and the next boot clears what it left running', async () => {
    const pid = await bootPid(box());
    if (pid === null) throw new Error('host is not running');
    const stray = startDetached(ns().wrap(['sleep', '600']), join(box().dir, 'stray.log'));
    process.kill(pid, 'SIGKILL');
    await expect.poll(() => powerState(box()), { timeout: 10_000 }).toBe('off');
    await powerOn(box());
    expect(await powerState(box())).toBe('on');
    expect(await bootPid(box())).not.toBe(pid);
    expect(isRunning(stray)).toBe(false);
    await waitForTcp(box().address, SERVICE_PORT, { timeoutMs: 20_000 });
  });
});
