/** `hostprov testbed …` as an operator runs it: each step a separate process, state only in testbed.json. */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../lib/paths';
import { skipBecause } from '../helpers/skip';
import { run } from '../../lib/process';
import { readDescription, type TestbedDescription } from '../../testbed/description';
import { netnsExists } from '../../testbed/netns';
import { testbedUnavailableReason } from '../../testbed/requirements';
import { destroyTestbed } from '../../testbed/teardown';
import { makeStateDir } from './helpers/fixture';
import { rm } from 'node:fs/promises';

const unavailable = await testbedUnavailableReason();

function hostprov(...args: string[]) {
  return run([join(PROJECT_ROOT, 'bin', 'hostprov'), 'testbed', ...args], {
    allowFailure: true,
    timeoutMs: 120_000,
    env: { ...process.env, HOSTPROV_LOG_LEVEL: 'warn', HOSTPROV_LOG_FORMAT: 'json' },
  });
}

describe.skipIf(skipBecause(unavailable, 'testbed CLI tests'))('hostprov testbed', () => {
  let stateDir = '';

  beforeAll(async () => {
    stateDir = await makeStateDir('cli');
  });

  afterAll(async () => {
    try {
      const left = await readDescription(stateDir).catch(() => null);
      if (left) await destroyTestbed(left);
    } finally {
      await rm(stateDir, { recursive: true, force: true });
    }
  });

  it('builds, reports, power-cycles through the BMC and tears down, each step in its own process', async () => {
    const up = await hostprov(
      'up',
      '--state-dir',
      stateDir,
      '--hosts',
      '3',
      '--dhcp',
      'host2',
      '--without-route',
      'host3',
      '--nics',
      '2',
      '--json',
    );
    expect(up.code, up.stderr).toBe(0);
    const description = JSON.parse(up.stdout) as TestbedDescription;
    expect(description.hosts.map((h) => [h.name, h.factory.boot, h.factory.gateway !== null, h.nics.length])).toEqual([
      ['host1', 'static', true, 2],
      ['host2', 'dhcp', true, 2],
      ['host3', 'static', false, 2],
    ]);

    const status = await hostprov('status', '--state-dir', stateDir, '--json');
    expect(status.code, status.stderr).toBe(0);
    expect((JSON.parse(status.stdout) as { power: Record<string, string> }).power).toEqual({ host1: 'on', host2: 'on', host3: 'on' });

    expect((await hostprov('power', 'host1', 'status', '--state-dir', stateDir)).stdout.trim()).toBe('on');
    const off = await hostprov('power', 'host1', 'off', '--state-dir', stateDir);
    expect(off.code, off.stderr).toBe(0);
    expect((await hostprov('power', 'host1', 'status', '--state-dir', stateDir)).stdout.trim()).toBe('off');
    const human = await hostprov('status', '--state-dir', stateDir);
    expect(human.stdout).toMatch(/host1 \[off\]/);
    expect(human.stdout).toMatch(/host2 \[on\]/);
    expect((await hostprov('power', 'host1', 'on', '--state-dir', stateDir)).code).toBe(0);
    expect((await hostprov('power', 'host1', 'status', '--state-dir', stateDir)).stdout.trim()).toBe('on');

    const down = await hostprov('down', '--state-dir', stateDir);
    expect(down.code, down.stderr).toBe(0);
    for (const ns of [description.switch.namespace, ...description.hosts.map((h) => h.namespace)])
      expect(await netnsExists(ns)).toBe(false);
    const again = await hostprov('down', '--state-dir', stateDir);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/nothing to do/);
  });

  it('refuses a state dir that already holds a testbed', async () => {
    const dir = await makeStateDir('cli-taken');
    try {
      expect((await hostprov('up', '--state-dir', dir, '--hosts', '1')).code).toBe(0);
      const second = await hostprov('up', '--state-dir', dir, '--hosts', '1');
      expect(second.code).toBe(2);
      expect(second.stderr).toMatch(/already holds a testbed/);
    } finally {
      expect((await hostprov('down', '--state-dir', dir)).code).toBe(0);
      await rm(dir, { recursive: true, force: true });
    }
  });

  it.each([
    [['up', '--hosts', '2'], /--state-dir: is required/],
    [['up', '--state-dir', '/tmp/x y'], /--state-dir: must resolve to a path/],
    [['up', '--state-dir', '/tmp/hp-never', '--hosts', '0'], /--hosts: Too small/],
    [['up', '--state-dir', '/tmp/hp-never', '--hosts', 'two'], /--hosts: .*expected number/],
    [['up', '--state-dir', '/tmp/hp-never', '--hosts', '2', '--dhcp', 'host3'], /no host host3: with --hosts 2 the hosts are host1, host2/],
    [['up', '--state-dir', '/tmp/hp-never', '--boot-command', '  '], /--boot-command: must name a program/],
    [['power', 'host1', 'dance', '--state-dir', '/tmp/hp-never'], /<action>: must be on, off, status or reboot/],
    [['status', '--state-dir', '/tmp/hp-never'], /no testbed in \/tmp\/hp-never/],
  ])('rejects %j with exit 2 and a clear message', async (args, message) => {
    const result = await hostprov(...args);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
  });
});
