/**
 * supportsLinkType() against the real kernel, compared with whether `ip link add` of that type works here
 * (this kernel has no bond or vlan modules; elsewhere they may work, and the test follows the kernel).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLinuxBackend } from '../../../agent/backend/linux-backend';
import { Netns, uniqueToken } from '../../../testbed/netns';
import { skipBecause } from '../../helpers/skip';
import { kernelSkipReason, testLog, uniqueNetnsName, withTempDir } from './kernel-helpers';

describe.skipIf(skipBecause(kernelSkipReason, 'backend link type tests'))('LinuxBackend.supportsLinkType', () => {
  let ns: Netns;
  let runtime: Awaited<ReturnType<typeof withTempDir>>;

  beforeAll(async () => {
    runtime = await withTempDir('linktype');
    ns = await Netns.create(uniqueNetnsName('hpl'));
  });

  afterAll(async () => {
    await ns?.destroy();
    await runtime?.remove();
  });

  /** Whether `ip link add` of that type works here, asked directly. */
  async function kernelCreates(type: 'bond' | 'vlan'): Promise<boolean> {
    const name = `hpk${uniqueToken()}`;
    const base = `hpb${uniqueToken()}`;
    if (type === 'vlan') await ns.ip(['link', 'add', 'name', base, 'type', 'bridge']);
    const args =
      type === 'vlan'
        ? ['link', 'add', 'link', base, 'name', name, 'type', 'vlan', 'id', '5']
        : ['link', 'add', 'name', name, 'type', 'bond'];
    const result = await ns.ip(args, { allowFailure: true });
    await ns.ip(['link', 'del', 'dev', name], { allowFailure: true });
    if (type === 'vlan') await ns.ip(['link', 'del', 'dev', base]);
    return result.code === 0;
  }

  it('answers true for bridge and what the kernel really does for bond and vlan, leaving no probe links', async () => {
    const backend = createLinuxBackend({ netns: ns.name, runtimeDir: runtime.path, log: testLog });
    const linksBefore = (await backend.read()).links.map((l) => l.name);
    expect(await backend.supportsLinkType('bridge')).toBe(true);
    expect(await backend.unsupportedReason('bridge')).toBeNull();
    for (const type of ['bond', 'vlan'] as const) {
      const expected = await kernelCreates(type);
      expect(await backend.supportsLinkType(type)).toBe(expected);
      const reason = await backend.unsupportedReason(type);
      if (expected) expect(reason).toBeNull();
      else expect(reason).toMatch(/\S/);
    }
    expect((await backend.read()).links.map((l) => l.name)).toEqual(linksBefore);
  });

  it('caches the answer: asking again does not probe again', async () => {
    const gone = await Netns.create(uniqueNetnsName('hplg'));
    const backend = createLinuxBackend({ netns: gone.name, runtimeDir: runtime.path, log: testLog });
    let answer: boolean;
    try {
      answer = await backend.supportsLinkType('bond');
    } finally {
      await gone.destroy();
    }
    // A probe in a deleted namespace cannot run: only the cached answer can come back.
    expect(await backend.supportsLinkType('bond')).toBe(answer);
    const fresh = createLinuxBackend({ netns: gone.name, runtimeDir: runtime.path, log: testLog });
    await expect(fresh.supportsLinkType('bond')).rejects.toThrow();
  });
});
