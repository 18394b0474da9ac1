/**
 * `hostprov demo --scenario vlan-bond`: the seed case shown end to end by the demo itself, on a full-kernel
 * host (a User-Mode Linux guest) with its address on bond4.3000 by DHCP. It builds its own testbed and
 * Temporal dev server and takes them down again; a bad scenario name is refused before anything is built.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../lib/paths';
import { run } from '../../lib/process';
import { netnsExists } from '../../testbed/netns';
import { testbedUnavailableReason } from '../../testbed/requirements';
import { umlUnavailableReason } from '../../testbed/uml/kernel';
import { skipBecause } from '../helpers/skip';

const reason = (await testbedUnavailableReason()) ?? (await umlUnavailableReason());
const bin = join(PROJECT_ROOT, 'bin', 'hostprov');

describe.skipIf(skipBecause(reason, 'the vlan-bond demo'))('hostprov demo --scenario vlan-bond', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('refuses an unknown scenario with exit code 2 and builds nothing', async () => {
    const result = await run([bin, 'demo', '--scenario', 'no-such-thing', '--data-dir', join(tmpdir(), 'hostprov-demo-never')], {
      allowFailure: true,
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--scenario.*install-host.*vlan-bond|vlan-bond/);
  });

  it('installs ovirtmgmt on bond4 VLAN 3000 with MTU 9000, bridged, fence-reboots and verifies, then cleans up', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hostprov-demo-vlan-bond-'));
    dirs.push(dir);
    const result = await run([bin, 'demo', '--scenario', 'vlan-bond', '--data-dir', dir], { allowFailure: true, timeoutMs: 480_000 });
    expect(result.code, `${result.stdout}\n${result.stderr.slice(-3000)}`).toBe(0);
    const out = result.stdout;
    expect(out).toMatch(/host1: 198\.19\.\d+\.130 on bond4\.3000 \(dhcp; full-kernel guest/);
    expect(out).toMatch(/top-of-rack router: .*VLAN 3000/);
    expect(out).toContain('outcome: configured');
    expect(out).toContain('device:  bond4.3000 (rule: get-route)');
    const request = JSON.parse(/^request: (.*)$/m.exec(out)?.[1] ?? '{}') as { networks?: Record<string, unknown> };
    expect(request.networks?.ovirtmgmt).toMatchObject({ bonding: 'bond4', vlan: '3000', mtu: 9000, bridged: 'true', bootproto: 'dhcp' });
    for (const step of ['setup-networks', 'fence-reboot', 'wait-agent-after-reboot', 'verify'])
      expect(out).toMatch(new RegExp(`✓ ${step} `));
    // Cleaned up: the testbed's switch namespace (its subnet claim) is gone.
    const index = /198\.19\.(\d+)\.130/.exec(out)?.[1];
    expect(index).toBeDefined();
    expect(await netnsExists(`hp-sw-198.18.${index}`)).toBe(false);
  }, 600_000);
});
