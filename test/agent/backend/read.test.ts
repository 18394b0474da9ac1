/**
 * read() against the real kernel: a namespace set up by hand with `ip`, read back through the backend, must
 * show exactly what was created, and its routes must match a raw `ip -j route show table all` filtered by
 * the documented rules.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLinuxBackend } from '../../../agent/backend/linux-backend';
import { PROJECT_ROOT } from '../../../lib/paths';
import type { KernelState, RouteState } from '../../../model/net-state';
import { addVethPair, Netns } from '../../../testbed/netns';
import { skipBecause } from '../../helpers/skip';
import {
  kernelSkipReason,
  sortedState,
  testLog,
  uniqueNetnsName,
  withTempDir,
  waitForCarrier,
  FRESH_BRIDGE_OPTIONS,
} from './kernel-helpers';

describe.skipIf(skipBecause(kernelSkipReason, 'backend read tests'))('LinuxBackend.read', () => {
  let host: Netns;
  let peer: Netns;
  let empty: Netns;
  let runtime: Awaited<ReturnType<typeof withTempDir>>;

  beforeAll(async () => {
    runtime = await withTempDir('read');
    host = await Netns.create(uniqueNetnsName('hprh'));
    peer = await Netns.create(uniqueNetnsName('hprp'));
    empty = await Netns.create(uniqueNetnsName('hpre'));
    await addVethPair({ ns: host, name: 'eth0' }, { ns: peer, name: 'sw0' });
    await peer.ip(['link', 'set', 'sw0', 'up']);
    const commands = [
      'link set dev eth0 address 02:48:50:20:00:01 mtu 9000 up',
      'link add name br1 address 02:48:50:21:00:01 type bridge stp_state 1',
      'link add name v1a address 02:48:50:21:00:02 type veth peer name v1b address 02:48:50:21:00:03',
      'link set dev v1a master br1 up',
      'link set dev v1b up',
      'link set dev br1 up',
      'addr add 198.18.20.5/24 dev eth0',
      'addr add 2001:db8:20::5/64 dev eth0 nodad',
      'addr add 198.18.21.7/24 dev v1b valid_lft 600 preferred_lft 600',
      'route add default via 198.18.20.1 dev eth0 proto static',
      'route add 198.18.30.0/24 via 198.18.20.1 dev eth0 table 100 proto static metric 10',
      'route add 198.18.31.1 via 198.18.20.1 dev eth0 table 100',
      'route add 2001:db8:40::/64 via 2001:db8:20::1 dev eth0 table 100 proto static',
      'rule add from 198.18.20.0/24 table 100 priority 3200',
      'rule add to 198.18.20.0/24 table 100 priority 3200',
    ];
    await host.ip(['-batch', '-'], { input: `${commands.join('\n')}\n` });
    // iproute2 takes a rule's family only from -6.
    await host.ip(['-6', 'rule', 'add', 'from', '2001:db8:20::/64', 'table', '100', 'priority', '3200']);
    await waitForCarrier(host, 'eth0');
  });

  afterAll(async () => {
    for (const ns of [host, peer, empty]) await ns?.destroy();
    await runtime?.remove();
  });

  it('reports exactly the links, addresses, routes and rules that were created', async () => {
    const backend = createLinuxBackend({ netns: host.name, runtimeDir: runtime.path, log: testLog });
    const state = sortedState(await backend.read());
    expect(state.links.map(({ operUp: _operUp, ...link }) => link)).toEqual([
      {
        name: 'br1',
        kind: 'bridge',
        mtu: 1500,
        up: true,
        mac: '02:48:50:21:00:01',
        master: null,
        bridge: { stp: true, options: FRESH_BRIDGE_OPTIONS },
      },
      { name: 'eth0', kind: 'nic', mtu: 9000, up: true, mac: '02:48:50:20:00:01', master: null },
      { name: 'lo', kind: 'loopback', mtu: 65536, up: true, mac: '00:00:00:00:00:00', master: null },
      { name: 'v1a', kind: 'nic', mtu: 1500, up: true, mac: '02:48:50:21:00:02', master: 'br1' },
      { name: 'v1b', kind: 'nic', mtu: 1500, up: true, mac: '02:48:50:21:00:03', master: null },
    ]);
    // eth0's peer is up, so eth0 has carrier.
    expect(state.links.find((l) => l.name === 'eth0')?.operUp).toBe(true);
    const expected: KernelState = {
      links: state.links,
      addresses: [
        { dev: 'eth0', family: 4, address: '198.18.20.5', prefixLen: 24, dynamic: false },
        { dev: 'eth0', family: 6, address: '2001:db8:20::5', prefixLen: 64, dynamic: false },
        { dev: 'v1b', family: 4, address: '198.18.21.7', prefixLen: 24, dynamic: true },
      ],
      routes: [
        { family: 4, table: 254, dst: 'default', gateway: '198.18.20.1', dev: 'eth0', protocol: 'static' },
        { family: 4, table: 100, dst: '198.18.30.0/24', gateway: '198.18.20.1', dev: 'eth0', metric: 10, protocol: 'static' },
        { family: 4, table: 100, dst: '198.18.31.1/32', gateway: '198.18.20.1', dev: 'eth0', protocol: 'boot' },
        { family: 6, table: 100, dst: '2001:db8:40::/64', gateway: '2001:db8:20::1', dev: 'eth0', protocol: 'static' },
      ],
      rules: [
        { family: 4, priority: 3200, from: '198.18.20.0/24', table: 100 },
        { family: 4, priority: 3200, to: '198.18.20.0/24', table: 100 },
        { family: 6, priority: 3200, from: '2001:db8:20::/64', table: 100 },
      ],
    };
    expect(state).toEqual(sortedState(expected));
  });

  it('reads only the links asked for, with their addresses, and the routes and rules of the families asked for (the verify read)', async () => {
    const backend = createLinuxBackend({ netns: host.name, runtimeDir: runtime.path, log: testLog });
    try {
      const full = sortedState(await backend.read());
      const partial = sortedState(await backend.read({ links: new Set(['eth0', 'br1', 'gone0']) }));
      expect(partial.links).toEqual(full.links.filter((l) => l.name === 'eth0' || l.name === 'br1'));
      expect(partial.addresses).toEqual(full.addresses.filter((a) => a.dev === 'eth0'));
      expect(partial.routes).toEqual(full.routes);
      expect(partial.rules).toEqual(full.rules);
      // The next full read is whole again.
      expect(sortedState(await backend.read())).toEqual(full);
      // Routes and rules of the families asked for only: the verify read of a change that wants none of a family.
      const v4 = sortedState(await backend.read({ links: new Set(['eth0']), routeFamilies: new Set([4]) }));
      expect(v4.addresses).toEqual(full.addresses.filter((a) => a.dev === 'eth0'));
      expect(v4.routes).toEqual(full.routes.filter((r) => r.family === 4));
      expect(v4.rules).toEqual(full.rules.filter((r) => r.family === 4));
      expect(full.routes.some((r) => r.family === 6) && full.rules.some((r) => r.family === 6)).toBe(true);
      const none = await backend.read({ links: new Set(['eth0']), routeFamilies: new Set() });
      expect([none.routes, none.rules]).toEqual([[], []]);
      expect(sortedState(await backend.read())).toEqual(full);
    } finally {
      backend.close();
    }
  });

  it('reads the same routes as a raw `ip -j route show table all`, filtered', async () => {
    const backend = createLinuxBackend({ netns: host.name, runtimeDir: runtime.path, log: testLog });
    const { routes } = await backend.read();
    // Without a family `route show table all` lists both families; table names are main/local/numbers here.
    const raw = await host.ipJson<Array<{ type?: string; dst: string; table?: string; protocol?: string; dev?: string; gateway?: string }>>(
      ['route', 'show', 'table', 'all'],
    );
    const kept = raw.filter(
      (r) =>
        (r.type ?? 'unicast') === 'unicast' &&
        r.table !== 'local' &&
        r.protocol !== 'kernel' &&
        r.dst !== 'fe80::/64' &&
        r.dst !== 'ff00::/8',
    );
    const key = (r: { dst: string; table: number | string; dev?: string | undefined; gateway?: string | undefined }): string =>
      `${r.dst.replace(/^(\d+\.\d+\.\d+\.\d+)$/, '$1/32')} ${r.table === 'main' ? 254 : r.table} ${r.dev} ${r.gateway}`;
    expect(routes.map((r: RouteState) => key(r)).sort()).toEqual(kept.map((r) => key({ ...r, table: r.table ?? 254 })).sort());
    expect(kept.length).toBeGreaterThan(0);
  });

  it('reads the same from inside the namespace (production mode), plus NIC speeds from sysfs when asked', async () => {
    const outside = createLinuxBackend({ netns: host.name, runtimeDir: runtime.path, log: testLog });
    const script = join(PROJECT_ROOT, 'test/agent/backend/fixtures/read-in-namespace.ts');
    const { stdout } = await host.exec([join(PROJECT_ROOT, 'node_modules/.bin/tsx'), script, runtime.path, '203.0.113.9'], {
      env: { ...process.env, HOSTPROV_LOG_LEVEL: 'warn' },
    });
    const inside = JSON.parse(stdout) as { state: KernelState; plain: KernelState; route: unknown };

    const withoutSpeeds = (state: KernelState): KernelState => ({ ...state, links: state.links.map(({ speed: _speed, ...link }) => link) });
    const withoutIpv6 = (state: KernelState): KernelState => ({
      ...state,
      links: state.links.map(({ ipv6: _ipv6, ipv6Autoconf: _autoconf, ipv6DefaultRouter: _defrtr, ...link }) => link),
    });
    expect(sortedState(withoutIpv6(withoutSpeeds(inside.state)))).toEqual(sortedState(await outside.read()));
    // Inside, the IPv6 switches of NICs, bonds, VLANs and bridges are read too (/proc/sys/net follows the
    // reader's namespace); outside, never. Whether a link takes router advertisements is read while IPv6 is
    // on, and whether it makes default routes of advertised routers while it takes them.
    const decided = inside.state.links.filter((l) => ['nic', 'bond', 'vlan', 'bridge'].includes(l.kind));
    expect(new Set(decided.map((l) => l.kind))).toEqual(new Set(['nic', 'bridge']));
    const sysctl = async (link: string, name: string) =>
      Number((await host.exec(['cat', `/proc/sys/net/ipv6/conf/${link}/${name}`])).stdout.trim());
    for (const link of decided) {
      const enabled = (await sysctl(link.name, 'disable_ipv6')) === 0;
      const autoconf = enabled
        ? (await Promise.all(['autoconf', 'accept_ra', 'accept_redirects'].map((name) => sysctl(link.name, name)))).every((v) => v !== 0)
        : undefined;
      const defaultRouter = autoconf ? (await sysctl(link.name, 'accept_ra_defrtr')) !== 0 : undefined;
      expect([link.name, link.ipv6, link.ipv6Autoconf, link.ipv6DefaultRouter]).toEqual([link.name, enabled, autoconf, defaultRouter]);
    }
    const unread = (l: KernelState['links'][number]) =>
      l.ipv6 === undefined && l.ipv6Autoconf === undefined && l.ipv6DefaultRouter === undefined;
    expect(inside.state.links.filter((l) => !decided.includes(l)).every(unread)).toBe(true);
    expect(inside.state.links.filter((l) => !decided.includes(l)).map((l) => l.kind)).toContain('loopback');
    expect((await outside.read()).links.every(unread)).toBe(true);
    expect(inside.route).toEqual(await outside.routeTo('203.0.113.9'));
    // NIC speeds are what sysfs in the namespace says, where it says a positive number (a veth: yes); other
    // links have none in the model (the report shows NIC speeds only).
    for (const link of inside.state.links) {
      const sysfs = await host.exec(['cat', `/sys/class/net/${link.name}/speed`], { allowFailure: true });
      const speed = Number(sysfs.stdout.trim());
      const expected = link.kind === 'nic' && sysfs.code === 0 && speed > 0 ? speed : undefined;
      expect([link.name, link.speed]).toEqual([link.name, expected]);
    }
    expect(inside.state.links.find((l) => l.name === 'eth0')?.speed).toBeGreaterThan(0);
    // A read without `speeds` (a network change's) leaves sysfs alone and is otherwise the same.
    expect(inside.plain.links.every((l) => l.speed === undefined)).toBe(true);
    expect(sortedState(inside.plain)).toEqual(sortedState(withoutSpeeds(inside.state)));
  });

  it('reads a fresh namespace as just lo: no addresses, routes or rules (kernel defaults dropped)', async () => {
    const backend = createLinuxBackend({ netns: empty.name, runtimeDir: runtime.path, log: testLog });
    const state = await backend.read();
    expect(state.links.map((l) => [l.name, l.kind])).toEqual([['lo', 'loopback']]);
    expect(state.addresses).toEqual([]);
    expect(state.routes).toEqual([]);
    expect(state.rules).toEqual([]);
    // Speeds come from sysfs only when running inside the namespace.
    expect(state.links.every((l) => l.speed === undefined)).toBe(true);
  });
});
