/**
 * The `ip -batch` processes of an apply, started ahead (agent/backend/iproute2/batch-launcher.ts), against the
 * real kernel: a batch runs in the spare prepared for it (two spares for two batches at once), yet every
 * batch is a fresh process — line numbers of a failure count from its own first line — and a spare that no
 * longer acts on the namespace is replaced.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IpBatchLauncher } from '../../../agent/backend/iproute2/batch-launcher';
import { failedBatchLine } from '../../../agent/backend/iproute2/apply';
import { Netns } from '../../../testbed/netns';
import { skipBecause } from '../../helpers/skip';
import { kernelSkipReason, testLog, uniqueNetnsName } from './kernel-helpers';

async function masterOf(ns: Netns, dev: string): Promise<string | undefined> {
  const { stdout } = await ns.ip(['-j', 'link', 'show', 'dev', dev]);
  return (JSON.parse(stdout) as Array<{ master?: string }>)[0]?.master;
}

describe.skipIf(skipBecause(kernelSkipReason, 'ip -batch launcher tests'))('IpBatchLauncher', () => {
  let host: Netns;
  let launcher: IpBatchLauncher | undefined;

  beforeEach(async () => {
    host = await Netns.create(uniqueNetnsName('hpbl'));
    await host.ip(['link', 'add', 'name', 'v1a', 'type', 'veth', 'peer', 'name', 'v1b']);
  });

  afterEach(async () => {
    launcher?.close();
    launcher = undefined;
    await host.destroy();
  });

  it('runs a batch in the spare prepared before it, each batch in a fresh process', async () => {
    launcher = new IpBatchLauncher({ netns: host.name }, testLog);
    const first = await launcher.run('any', 'link add name br1 type bridge\nlink set dev v1a master br1\n');
    expect(first.code).toBe(0);
    expect(launcher.starts).toBe(1);
    launcher.prepare('any');
    launcher.prepare('any');
    expect(launcher.starts).toBe(2);

    // The spare takes this batch: no process is started for it.
    const second = await launcher.run('any', 'link del dev br1\nlink add name br1 type bridge\nlink set dev v1a master br1\n');
    expect(second).toMatchObject({ code: 0, stderr: '' });
    expect(launcher.starts).toBe(2);
    expect(await masterOf(host, 'v1a')).toBe('br1');
  });

  it('keeps as many spares as asked, for an apply that runs two batches at once', async () => {
    launcher = new IpBatchLauncher({ netns: host.name }, testLog);
    launcher.prepare('any', 2);
    launcher.prepare('any', 2);
    expect(launcher.starts).toBe(2);
    expect(launcher.spareCount('any')).toBe(2);

    // Both spares take a batch at once: no process is started for either.
    const [first, second] = await Promise.all([
      launcher.run('any', 'link add name br4 type bridge\n'),
      launcher.run('any', 'link add name br5 type bridge\n'),
    ]);
    expect([first.code, second.code]).toEqual([0, 0]);
    expect(launcher.starts).toBe(2);
    expect(launcher.spareCount('any')).toBe(0);
    const { stdout } = await host.ip(['-j', 'link', 'show', 'type', 'bridge']);
    expect((JSON.parse(stdout) as Array<{ ifname: string }>).map((l) => l.ifname).sort()).toEqual(['br4', 'br5']);
  });

  it('reports a failed line counted from the first line of its own batch', async () => {
    launcher = new IpBatchLauncher({ netns: host.name }, testLog);
    expect((await launcher.run('any', 'link add name br2 type bridge\n')).code).toBe(0);
    launcher.prepare('any');
    const failed = await launcher.run('any', 'link set dev br2 up\nlink set dev nosuch0 master br2\nlink set dev v1a up\n');
    expect(failed.code).not.toBe(0);
    expect(failedBatchLine(failed.stderr)).toBe(2);
    expect(failed.stderr).toMatch(/nosuch0/);
  });

  it('replaces a spare whose namespace was deleted and created again under the same name', async () => {
    launcher = new IpBatchLauncher({ netns: host.name }, testLog);
    launcher.prepare('any');
    await host.destroy();
    host = await Netns.create(host.name);
    const result = await launcher.run('any', 'link add name br3 type bridge\n');
    expect(result.code).toBe(0);
    expect(launcher.starts).toBe(2);
    const { stdout } = await host.ip(['-j', 'link', 'show', 'dev', 'br3']);
    expect(JSON.parse(stdout)).toMatchObject([{ ifname: 'br3' }]);
  });

  it('runs IPv6 rules in an ip -6 process of their own', async () => {
    launcher = new IpBatchLauncher({ netns: host.name }, testLog);
    const result = await launcher.run('inet6', 'rule add from 2001:db8:7::/64 table 1234 priority 3200\n');
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const { stdout } = await host.ip(['-6', '-j', 'rule', 'show']);
    expect(JSON.parse(stdout)).toContainEqual(expect.objectContaining({ src: '2001:db8:7::', table: '1234' }));
  });
});
