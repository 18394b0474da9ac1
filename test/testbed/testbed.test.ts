/**
 * A real testbed: hosts in namespaces on a bridge, the manager side in the root namespace, dnsmasq, and
 * factory network configs checked in the kernel with `ip -j`.
 */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { macsLearnedFor, nicMac } from '../helpers/arp';
import { skipBecause } from '../helpers/skip';
import { run } from '../../lib/process';
import { dnsmasqPaths } from '../../testbed/dnsmasq';
import { Netns } from '../../testbed/netns';
import { waitForTcp } from '../../testbed/reachability';
import { testbedUnavailableReason } from '../../testbed/requirements';
import { createTestbed, type Testbed } from '../../testbed/testbed';
import { cleanUp, makeStateDir, SERVICE_PORT, SERVING_BOOT_COMMAND } from './helpers/fixture';

interface IpAddr {
  ifname: string;
  operstate: string;
  mtu: number;
  addr_info: Array<{ family: string; local: string; prefixlen: number; dynamic?: boolean; valid_life_time?: number }>;
}
interface IpRoute {
  dst: string;
  gateway?: string;
  dev: string;
}

const unavailable = await testbedUnavailableReason();

describe.skipIf(skipBecause(unavailable, 'testbed tests'))('testbed topology', () => {
  let stateDir: string | undefined;
  let testbed: Testbed | undefined;

  beforeAll(async () => {
    stateDir = await makeStateDir('topology');
    testbed = await createTestbed({
      stateDir,
      hosts: [{ name: 'fixed' }, { name: 'leased', factory: 'dhcp' }, { name: 'lonely', defaultRoute: false, nics: 2 }],
      bootCommand: SERVING_BOOT_COMMAND,
      powerOffGraceMs: 1_000,
    });
  });

  afterAll(async () => {
    await cleanUp(testbed, stateDir);
  });

  const bed = (): Testbed => {
    if (!testbed) throw new Error('testbed was not built');
    return testbed;
  };
  const ns = (host: string) => Netns.attach(bed().host(host).namespace);

  it('lets the manager side reach the boot command of every host over TCP', async () => {
    for (const host of bed().hosts) await waitForTcp(host.address, SERVICE_PORT, { timeoutMs: 20_000 });
  });

  it('gives a static host its address and a default route via the manager gateway', async () => {
    const eth0 = (await ns('fixed').ipJson<IpAddr[]>(['addr', 'show', 'dev', 'eth0']))[0];
    const ipv4 = eth0?.addr_info.filter((a) => a.family === 'inet');
    expect(ipv4).toEqual([expect.objectContaining({ local: bed().host('fixed').address, prefixlen: 24 })]);
    expect(ipv4?.[0]?.dynamic).toBeFalsy();
    const routes = await ns('fixed').ipJson<IpRoute[]>(['-4', 'route', 'show', 'default']);
    expect(routes).toEqual([expect.objectContaining({ gateway: bed().manager.gateway, dev: 'eth0' })]);
  });

  it('gives a DHCP host its reserved address as a lease from the testbed dnsmasq', async () => {
    const host = bed().host('leased');
    const eth0 = (await ns('leased').ipJson<IpAddr[]>(['addr', 'show', 'dev', 'eth0']))[0];
    const ipv4 = eth0?.addr_info.filter((a) => a.family === 'inet');
    expect(ipv4).toEqual([expect.objectContaining({ local: host.address, prefixlen: 24, dynamic: true })]);
    const routes = await ns('leased').ipJson<IpRoute[]>(['-4', 'route', 'show', 'default']);
    expect(routes).toEqual([expect.objectContaining({ gateway: bed().manager.gateway, dev: 'eth0' })]);
    const leases = await readFile(dnsmasqPaths(bed().description.dhcp.dir).leaseFile, 'utf8');
    expect(leases).toContain(`${host.nics[0]?.mac} ${host.address}`);
    expect(await readFile(`${host.runtimeDir}/dhclient.eth0.leases`, 'utf8')).toContain(host.address);
  });

  it('gives a no-route host no route to the manager address, while routed hosts go via eth0', async () => {
    const manager = bed().manager.address;
    const lonely = await ns('lonely').ip(['route', 'get', manager], { allowFailure: true });
    expect(lonely.code).not.toBe(0);
    expect(lonely.stderr).toMatch(/unreachable/i);
    expect(await ns('lonely').ipJson<IpRoute[]>(['-4', 'route', 'show', 'default'])).toEqual([]);
    const fixed = await ns('fixed').ipJson<Array<{ dev: string; gateway?: string }>>(['route', 'get', manager]);
    expect(fixed[0]).toMatchObject({ dev: 'eth0', gateway: bed().manager.gateway });
  });

  it('leaves extra NICs up and unconfigured', async () => {
    const eth1 = (await ns('lonely').ipJson<IpAddr[]>(['addr', 'show', 'dev', 'eth1']))[0];
    expect(eth1?.operstate).not.toBe('DOWN');
    expect(eth1?.addr_info.filter((a) => a.family === 'inet')).toEqual([]);
  });

  it("answers ARP for a host's address only from the NIC that holds it, as VDSM configures a host", async () => {
    // With the kernel's default every NIC on the switch answers, and the manager keeps whichever answered
    // first: removing that NIC then cuts the host off until the manager's entry expires.
    const eth0Mac = nicMac(bed(), 'lonely', 'eth0');
    expect(await macsLearnedFor(bed(), 'lonely')).toEqual([eth0Mac, eth0Mac, eth0Mac, eth0Mac]);
  });

  it('gives every host its own resolv.conf, so ip netns exec never touches the machine one', async () => {
    for (const host of bed().hosts) {
      const { stdout } = await run(['ip', 'netns', 'exec', host.namespace, 'cat', '/etc/resolv.conf']);
      expect(stdout).toContain(`hostprov testbed host ${host.name}`);
    }
  });

  it('changes the root namespace only by the manager interface', async () => {
    const links = await run(['ip', '-j', 'link', 'show']);
    const ours = (JSON.parse(links.stdout) as Array<{ ifname: string }>)
      .map((l) => l.ifname)
      .filter((n) => n.includes(bed().description.token));
    expect(ours).toEqual([bed().manager.interface]);
    const [mgr] = JSON.parse((await run(['ip', '-j', '-4', 'addr', 'show', 'dev', bed().manager.interface])).stdout) as IpAddr[];
    expect(mgr?.addr_info.map((a) => `${a.local}/${a.prefixlen}`).sort()).toEqual(
      [`${bed().manager.gateway}/24`, `${bed().manager.address}/32`].sort(),
    );
  });

  it('describes itself in testbed.json for other processes', async () => {
    const json = JSON.parse(await readFile(`${bed().stateDir}/testbed.json`, 'utf8')) as {
      phase: string;
      hosts: Array<{ name: string; bmc: { pid: number | null } }>;
    };
    expect(json.phase).toBe('ready');
    expect(json.hosts.map((h) => h.name)).toEqual(['fixed', 'leased', 'lonely']);
    for (const h of json.hosts) expect(h.bmc.pid).toBeGreaterThan(0);
    expect(JSON.stringify(json)).not.toMatch(/password/i);
  });
});
