/**
 * The DHCP manager against a real server: dnsmasq in a peer namespace, our dhclient (with our script) in the
 * host namespace, joined by a veth pair. A lease must install a dynamic address from the pool with routes in
 * the right table (and source-routing rules), be recorded as JSON and announced, and dhcp-stop must kill
 * dhclient and leave the namespace exactly as before.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { DhcpLeaseChange, NetworkBackend } from '../../../agent/backend/backend';
import { createLinuxBackend } from '../../../agent/backend/linux-backend';
import { isAlive, stopPid } from '../../../lib/process';
import type { KernelState } from '../../../model/net-state';
import { addVethPair, Netns } from '../../../testbed/netns';
import { skipBecause } from '../../helpers/skip';
import { kernelSkipReason, sortedState, testLog, uniqueNetnsName, withTempDir, waitForCarrier } from './kernel-helpers';

const DEV = 'eth0';
const ROUTER = '198.18.50.1';
const SUBNET = '198.18.50.0/24';
const DNS4 = '198.18.50.53';
const DNS6 = '2001:db8:50::53';
const SOURCE_TABLE = 5050;
const LEASE_TIMEOUT_MS = 60_000;

function inPool4(address: string): boolean {
  const match = /^198\.18\.50\.(\d+)$/.exec(address);
  return match !== null && Number(match[1]) >= 100 && Number(match[1]) <= 150;
}

describe.skipIf(skipBecause(kernelSkipReason, 'backend DHCP tests'))('DHCP client manager', () => {
  let server: Netns;
  let host: Netns;
  let serverDir: Awaited<ReturnType<typeof withTempDir>>;
  let runtime: Awaited<ReturnType<typeof withTempDir>>;
  let dnsmasqPid: number | null = null;
  let backend: NetworkBackend;
  const announced: DhcpLeaseChange[] = [];

  beforeAll(async () => {
    serverDir = await withTempDir('dnsmasq');
    runtime = await withTempDir('dhcp');
    server = await Netns.create(uniqueNetnsName('hpds'));
    host = await Netns.create(uniqueNetnsName('hpdh'));
    await addVethPair({ ns: server, name: 'dh0' }, { ns: host, name: DEV });
    await server.ip(['-batch', '-'], {
      input: `link set dev dh0 up\naddr add ${ROUTER}/24 dev dh0\naddr add 2001:db8:50::1/64 dev dh0 nodad\n`,
    });
    await host.ip(['link', 'set', 'dev', DEV, 'address', '02:48:50:50:00:01', 'up']);
    await waitForCarrier(host, DEV);
    const pidFile = join(serverDir.path, 'dnsmasq.pid');
    // Daemonises after writing its pid file; DNS off (--port=0): only DHCP is under test.
    await server.exec([
      'dnsmasq',
      '--conf-file=/dev/null',
      '--no-resolv',
      '--no-hosts',
      '--port=0',
      '--interface=dh0',
      '--bind-interfaces',
      '--dhcp-authoritative',
      '--user=root',
      '--group=root',
      '--dhcp-range=198.18.50.100,198.18.50.150,255.255.255.0,10m',
      '--dhcp-range=2001:db8:50::100,2001:db8:50::1ff,64,10m',
      `--dhcp-option=option:router,${ROUTER}`,
      `--dhcp-option=option:dns-server,${DNS4}`,
      `--dhcp-option=option6:dns-server,[${DNS6}]`,
      `--dhcp-leasefile=${join(serverDir.path, 'dnsmasq.leases')}`,
      `--pid-file=${pidFile}`,
    ]);
    dnsmasqPid = Number((await readFile(pidFile, 'utf8')).trim());
    const resolvConf = join(serverDir.path, 'resolv.conf');
    await writeFile(resolvConf, 'nameserver 198.18.0.53\n');
    backend = createLinuxBackend({ netns: host.name, runtimeDir: runtime.path, resolvConfPath: resolvConf, log: testLog });
    backend.onDhcpLeaseChange((change) => announced.push(change));
  });

  afterAll(async () => {
    backend?.close();
    if (dnsmasqPid) await stopPid(dnsmasqPid, { timeoutMs: 3_000 });
    // Destroying the namespaces also stops anything a failed test left running in them (dhclient).
    for (const ns of [host, server]) await ns?.destroy();
    await serverDir?.remove();
    await runtime?.remove();
  });

  async function dhclientPid(family: 4 | 6): Promise<number> {
    return Number((await readFile(join(runtime.path, 'dhcp', `${DEV}.${family}.pid`), 'utf8')).trim());
  }

  it('with defaultRoute: a dynamic address from the pool, the default route in main, recorded and announced; stop undoes it', async () => {
    const before = await backend.read();
    await backend.apply({ ops: [{ kind: 'dhcp-start', dev: DEV, family: 4, table: 254, defaultRoute: true, sourceRouting: false }] });
    const lease = await backend.waitForDhcpLease(DEV, 4, LEASE_TIMEOUT_MS);
    expect(inPool4(lease.address)).toBe(true);
    expect(lease).toMatchObject({
      dev: DEV,
      family: 4,
      prefixLen: 24,
      routers: [ROUTER],
      nameservers: [DNS4],
      table: 254,
      defaultRoute: true,
      sourceRouting: false,
    });

    const state = await backend.read();
    const expected: KernelState = {
      ...before,
      addresses: [...before.addresses, { dev: DEV, family: 4, address: lease.address, prefixLen: 24, dynamic: true }],
      routes: [...before.routes, { family: 4, table: 254, dst: 'default', gateway: ROUTER, dev: DEV, protocol: 'dhcp' }],
    };
    expect(sortedState({ ...state, links: before.links })).toEqual(sortedState(expected));

    const recorded = JSON.parse(await readFile(join(runtime.path, 'dhcp', `${DEV}.4.json`), 'utf8')) as unknown;
    expect(recorded).toEqual(lease);
    expect(await backend.dhcpLeases()).toEqual([lease]);
    expect(await backend.dhcpClients()).toEqual([{ dev: DEV, family: 4 }]);
    await vi.waitFor(() => expect(announced).toContainEqual({ kind: 'bound', lease }), { timeout: 10_000 });
    // resolv.conf first, then the default-route network's DHCP nameservers.
    expect(await backend.nameservers()).toEqual(['198.18.0.53', DNS4]);

    const pid = await dhclientPid(4);
    expect(isAlive(pid)).toBe(true);
    await backend.apply({ ops: [{ kind: 'dhcp-stop', dev: DEV, family: 4 }] });
    expect(isAlive(pid)).toBe(false);
    expect(sortedState(await backend.read())).toEqual(sortedState(before));
    expect(await backend.dhcpLeases()).toEqual([]);
    expect(await backend.dhcpClients()).toEqual([]);
    expect(await backend.nameservers()).toEqual(['198.18.0.53']);
    // The end of the lease is a change too: subscribers are told to read the host again.
    await vi.waitFor(() => expect(announced).toContainEqual({ kind: 'lost', dev: DEV, family: 4 }), { timeout: 10_000 });
  });

  it('with source routing and no default route: routes in table T and the two priority-3200 rules; stop undoes it', async () => {
    const before = await backend.read();
    await backend.apply({
      ops: [{ kind: 'dhcp-start', dev: DEV, family: 4, table: SOURCE_TABLE, defaultRoute: false, sourceRouting: true }],
    });
    const lease = await backend.waitForDhcpLease(DEV, 4, LEASE_TIMEOUT_MS);
    expect(inPool4(lease.address)).toBe(true);

    const state = await backend.read();
    const expected: KernelState = {
      ...before,
      addresses: [...before.addresses, { dev: DEV, family: 4, address: lease.address, prefixLen: 24, dynamic: true }],
      routes: [
        ...before.routes,
        { family: 4, table: SOURCE_TABLE, dst: SUBNET, dev: DEV, protocol: 'dhcp' },
        { family: 4, table: SOURCE_TABLE, dst: 'default', gateway: ROUTER, dev: DEV, protocol: 'dhcp' },
      ],
      rules: [
        ...before.rules,
        { family: 4, priority: 3200, from: SUBNET, table: SOURCE_TABLE },
        { family: 4, priority: 3200, to: SUBNET, table: SOURCE_TABLE },
      ],
    };
    expect(sortedState({ ...state, links: before.links })).toEqual(sortedState(expected));
    // Not the default-route network: its nameservers are not the host's.
    expect(await backend.nameservers()).toEqual(['198.18.0.53']);

    const pid = await dhclientPid(4);
    await backend.apply({ ops: [{ kind: 'dhcp-stop', dev: DEV, family: 4 }] });
    expect(isAlive(pid)).toBe(false);
    expect(sortedState(await backend.read())).toEqual(sortedState(before));
  });

  it('fails the plan at the dhcp-start op when dhclient cannot start (no such device)', async () => {
    const ops = [
      { kind: 'link-up', name: DEV },
      { kind: 'dhcp-start', dev: 'nosuch0', family: 4, table: 254, defaultRoute: true, sourceRouting: false },
    ] as const;
    await expect(backend.apply({ ops: [...ops] })).rejects.toMatchObject({ name: 'PlanApplyError', opIndex: 1, op: ops[1] });
    expect(await backend.dhcpClients()).toEqual([]);
  });

  it('DHCPv6: a dynamic address from the pool with the offered nameserver; stop removes it', async () => {
    const before = await backend.read();
    await backend.apply({ ops: [{ kind: 'dhcp-start', dev: DEV, family: 6, table: 254, defaultRoute: true, sourceRouting: false }] });
    const lease = await backend.waitForDhcpLease(DEV, 6, LEASE_TIMEOUT_MS);
    expect(lease.address).toMatch(/^2001:db8:50::1[0-9a-f]{2}$/);
    expect(lease).toMatchObject({ dev: DEV, family: 6, routers: [], nameservers: [DNS6] });
    const state = await backend.read();
    expect(state.addresses).toContainEqual({ dev: DEV, family: 6, address: lease.address, prefixLen: lease.prefixLen, dynamic: true });

    const pid = await dhclientPid(6);
    await backend.apply({ ops: [{ kind: 'dhcp-stop', dev: DEV, family: 6 }] });
    expect(isAlive(pid)).toBe(false);
    expect(sortedState(await backend.read())).toEqual(sortedState(before));
  });
});
