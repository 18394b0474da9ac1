/**
 * routeTo() against the real kernel, compared with what `ip route get` itself answers. The lookups go through
 * the backend's long-lived `ip` sessions, so also: no process per lookup, a refusal does not break the next
 * lookup, and a renamed device is named by its new name (iproute2's name cache).
 */
import type { ChildProcess } from 'node:child_process';
import dc from 'node:diagnostics_channel';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLinuxBackend } from '../../../agent/backend/linux-backend';
import { InvalidAddressError } from '../../../agent/backend/errors';
import { addVethPair, Netns } from '../../../testbed/netns';
import { skipBecause } from '../../helpers/skip';
import { kernelSkipReason, testLog, uniqueNetnsName, withTempDir } from './kernel-helpers';

describe.skipIf(skipBecause(kernelSkipReason, 'backend route lookup tests'))('LinuxBackend.routeTo', () => {
  let host: Netns;
  let isolated: Netns;
  let peer: Netns;
  let runtime: Awaited<ReturnType<typeof withTempDir>>;

  beforeAll(async () => {
    runtime = await withTempDir('route');
    host = await Netns.create(uniqueNetnsName('hpth'));
    peer = await Netns.create(uniqueNetnsName('hptp'));
    isolated = await Netns.create(uniqueNetnsName('hpti'));
    await addVethPair({ ns: host, name: 'eth0' }, { ns: peer, name: 'sw0' });
    await peer.ip(['link', 'set', 'sw0', 'up']);
    await host.ip(['-batch', '-'], {
      input: [
        'link set dev eth0 up',
        'addr add 198.18.40.5/24 dev eth0',
        'addr add 2001:db8:40::5/64 dev eth0 nodad',
        'route add default via 198.18.40.1 dev eth0',
        '',
      ].join('\n'),
    });
  });

  afterAll(async () => {
    for (const ns of [host, peer, isolated]) await ns?.destroy();
    await runtime?.remove();
  });

  /** What `ip -j route get` says, in RouteLookup's terms. */
  async function ipRouteGet(ns: Netns, destination: string): Promise<unknown> {
    const result = await ns.ip(['-j', 'route', 'get', destination], { allowFailure: true });
    if (result.code !== 0) return { kind: 'unreachable', reason: result.stderr.trim() };
    const [route] = JSON.parse(result.stdout) as Array<{ dev: string; prefsrc?: string; gateway?: string }>;
    return {
      kind: 'route',
      device: route?.dev,
      ...(route?.prefsrc ? { source: route.prefsrc } : {}),
      ...(route?.gateway ? { gateway: route.gateway } : {}),
    };
  }

  it('equals ip route get for on-link, off-link (via gateway) and IPv6 destinations', async () => {
    const backend = createLinuxBackend({ netns: host.name, runtimeDir: runtime.path, log: testLog });
    for (const destination of ['198.18.40.77', '203.0.113.9', '2001:db8:40::77']) {
      expect(await backend.routeTo(destination)).toEqual(await ipRouteGet(host, destination));
    }
    expect(await backend.routeTo('203.0.113.9')).toEqual({ kind: 'route', device: 'eth0', source: '198.18.40.5', gateway: '198.18.40.1' });
  });

  it('reports an unreachable destination with the kernel reason, as ip route get does', async () => {
    const backend = createLinuxBackend({ netns: isolated.name, runtimeDir: runtime.path, log: testLog });
    const lookup = await backend.routeTo('203.0.113.9');
    expect(lookup).toEqual(await ipRouteGet(isolated, '203.0.113.9'));
    expect(lookup).toMatchObject({ kind: 'unreachable', reason: expect.stringContaining('Network is unreachable') });
  });

  it('answers lookup after lookup without starting a process', async () => {
    const backend = createLinuxBackend({ netns: host.name, runtimeDir: runtime.path, log: testLog });
    try {
      await backend.routeTo('198.18.40.77');
      await backend.routeTo('2001:db8:40::77');
      const spawned: string[] = [];
      const listener = (message: unknown) => {
        const child = (message as { process?: ChildProcess }).process;
        if (child) spawned.push(String(child.spawnfile));
      };
      dc.subscribe('child_process', listener);
      try {
        for (let i = 0; i < 5; i++) {
          expect(await backend.routeTo('203.0.113.9')).toEqual({
            kind: 'route',
            device: 'eth0',
            source: '198.18.40.5',
            gateway: '198.18.40.1',
          });
          expect(await backend.routeTo('2001:db8:40::77')).toMatchObject({ kind: 'route', device: 'eth0' });
        }
      } finally {
        dc.unsubscribe('child_process', listener);
      }
      expect(spawned).toEqual([]);
    } finally {
      backend.close();
    }
  });

  it('answers a lookup after the kernel refused the previous one', async () => {
    const backend = createLinuxBackend({ netns: host.name, runtimeDir: runtime.path, log: testLog });
    try {
      // No IPv6 default route: only the on-link prefix is reachable.
      expect(await backend.routeTo('2001:db8:99::1')).toEqual(await ipRouteGet(host, '2001:db8:99::1'));
      expect(await backend.routeTo('2001:db8:99::1')).toMatchObject({ kind: 'unreachable' });
      expect(await backend.routeTo('2001:db8:40::77')).toEqual(await ipRouteGet(host, '2001:db8:40::77'));
    } finally {
      backend.close();
    }
  });

  it('names a device renamed since the last lookup by its new name', async () => {
    const renamed = await Netns.create(uniqueNetnsName('hptr'));
    const other = await Netns.create(uniqueNetnsName('hpto'));
    const backend = createLinuxBackend({ netns: renamed.name, runtimeDir: runtime.path, log: testLog });
    try {
      await addVethPair({ ns: renamed, name: 'eth0' }, { ns: other, name: 'sw0' });
      await renamed.ip(['-batch', '-'], {
        input: 'link set dev eth0 up\naddr add 198.18.41.5/24 dev eth0\nroute add default via 198.18.41.1 dev eth0\n',
      });
      expect(await backend.routeTo('203.0.113.9')).toMatchObject({ kind: 'route', device: 'eth0' });
      // A link is renamed while down; coming up again, it gets its prefix route back but not the default route.
      await renamed.ip(['-batch', '-'], {
        input:
          'link set dev eth0 down\nlink set dev eth0 name uplink7\nlink set dev uplink7 up\nroute add default via 198.18.41.1 dev uplink7\n',
      });
      expect(await backend.routeTo('203.0.113.9')).toEqual({
        kind: 'route',
        device: 'uplink7',
        source: '198.18.41.5',
        gateway: '198.18.41.1',
      });
      expect(await backend.routeTo('203.0.113.9')).toEqual(await ipRouteGet(renamed, '203.0.113.9'));
    } finally {
      backend.close();
      await renamed.destroy();
      await other.destroy();
    }
  });

  it('rejects what is not an address', async () => {
    const backend = createLinuxBackend({ netns: host.name, runtimeDir: runtime.path, log: testLog });
    await expect(backend.routeTo('203.0.113.9 from 1.2.3.4')).rejects.toBeInstanceOf(InvalidAddressError);
  });
});
