/**
 * `hostprov demo` stopped while its testbed builds (a terminal's Ctrl-C, to the whole process group, so the
 * build's own `ip` commands and power scripts get it too) and while the install runs (SIGTERM to the pid): it exits 130 or 143
 * and leaves no namespace, no link in the root namespace, no process and no bound port. Each moment is a
 * line of its output, awaited as it arrives.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertPortsFree } from '../../lib/ports';
import { isAlive, processGroupMembers, run as runCommand, stopProcessGroup } from '../../lib/process';
import { readDescription } from '../../testbed/description';
import { linkExists } from '../../testbed/netns';
import { testbedUnavailableReason } from '../../testbed/requirements';
import { destroyTestbed } from '../../testbed/teardown';
import { CliRun, processesMentioning } from '../helpers/cli-run';
import { skipBecause } from '../helpers/skip';

const unavailable = await testbedUnavailableReason();

async function namespaceNames(): Promise<string[]> {
  const { stdout } = await runCommand(['ip', '-j', 'netns', 'list']);
  return ((stdout.trim() ? JSON.parse(stdout) : []) as Array<{ name: string }>).map((n) => n.name);
}

describe.skipIf(skipBecause(unavailable, 'demo stop tests'))('stopping hostprov demo at any moment', () => {
  // Made when the tests run, not when the file is collected (a filtered run would leave it).
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'hostprov-demo-stop-'));
  });
  const runs: CliRun[] = [];
  const serverPids: number[] = [];
  afterAll(async () => {
    // Only for a failed test: a passing one has left nothing.
    for (const run of runs) run.kill();
    for (const pid of serverPids) await stopProcessGroup(pid, { signal: 'SIGKILL' });
    for (const name of ['build-building', 'build-powering', 'install']) {
      const leftover = await readDescription(join(dir, name, 'lab', 'testbed')).catch(() => null);
      if (leftover) await destroyTestbed(leftover).catch(() => undefined);
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  function startDemo(name: string): { run: CliRun; dataDir: string } {
    const dataDir = join(dir, name);
    const run = new CliRun(['demo', '--data-dir', dataDir]);
    runs.push(run);
    return { run, dataDir };
  }

  /** Nothing of the testbed this demo began to build is left: namespaces, the manager link, its files. */
  async function expectNoTestbed(run: CliRun, dataDir: string): Promise<void> {
    const building = run.logLine('building testbed');
    expect(building, run.output()).toBeDefined();
    const token = building?.token as string;
    const subnetIndex = /^198\.18\.(\d+)\.0\/24$/.exec(String(building?.subnet))?.[1];
    expect(subnetIndex).toBeDefined();
    const left = (await namespaceNames()).filter((n) => n.includes(token) || n === `hp-sw-198.18.${subnetIndex}`);
    expect(left).toEqual([]);
    expect(await linkExists(`hp${token}mgr`)).toBe(false);
    expect(existsSync(join(dataDir, 'lab', 'testbed', 'testbed.json'))).toBe(false);
    expect(isAlive(run.pid)).toBe(false);
    expect(processesMentioning(dataDir)).toEqual([]);
  }

  // Just after the subnet claim, with namespaces being created; and with DHCP up and the agents booting.
  it.each(['building testbed', 'powering on testbed hosts'])('Ctrl-C while the testbed builds (at "%s")', async (moment) => {
    const { run, dataDir } = startDemo(`build-${moment.split(' ')[0]}`);
    await run.waitFor(`"msg":"${moment}"`);
    run.ctrlC();
    expect(await run.closed).toEqual({ code: 130, signal: null });
    expect(run.output()).not.toContain('testbed ready');
    await expectNoTestbed(run, dataDir);
  });

  it('SIGTERM while the install runs', async () => {
    const { run, dataDir } = startDemo('install');
    // Testbed, agents, Temporal and a workflow bundle first: generous under a loaded machine.
    await run.waitFor('installing ovirtmgmt on host1', 200_000);
    const spawned = run.logLine('temporal dev server spawned');
    const serverPid = spawned?.serverPid as number;
    serverPids.push(serverPid);
    run.term();
    expect(await run.closed).toEqual({ code: 143, signal: null });
    expect(run.output()).toContain('the install stays in history');
    await expectNoTestbed(run, dataDir);
    expect(isAlive(serverPid)).toBe(false);
    expect(processGroupMembers(serverPid)).toEqual([]);
    const ports = Object.values(spawned?.ports as Record<string, number>);
    expect(ports).toHaveLength(4);
    await expect(
      assertPortsFree(
        '127.0.0.1',
        ports.map((port) => ({ port, role: 'demo' })),
      ),
    ).resolves.toBeUndefined();
  }, 300_000);
});
