/**
 * routeTo() against the real kernel, compared with what `ip route get` itself answers.
 */
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

  it('rejects what is not an address', async () => {
    const backend = createLinuxBackend({ netns: host.name, runtimeDir: runtime.path, log: testLog });
    await expect(backend.routeTo('203.0.113.9 from 1.2.3.4')).rejects.toBeInstanceOf(InvalidAddressError);
  });
});
