/**
 * install-host when things go wrong: the change cuts the manager off (the host rolls back by itself and the
 * recorded attachments are compensated), and the worker dies while setupNetworks is in flight (a new worker
 * takes over the same request; the host applies exactly once).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { followInstall, startOrAttachInstall } from '../../workflow-client/install-host';
import { PROJECT_ROOT } from '../../lib/paths';
import { exited, stopChild } from '../../lib/process';
import { installStatusQuery } from '../../workflows/messages';
import { createAgentLab, type AgentLab } from '../../testbed/agent-lab';
import { testbedUnavailableReason } from '../../testbed/requirements';
import { Netns, uniqueToken } from '../../testbed/netns';
import { createInstallHarness, type InstallHarness } from '../helpers/install-harness';
import { skipBecause } from '../helpers/skip';
import { unavailableReason } from '../helpers/temporal';

const reason = unavailableReason() ?? (await testbedUnavailableReason());

describe.skipIf(skipBecause(reason, 'install-host recovery integration'))('install-host recovery', () => {
  let harness: InstallHarness;
  let lab: AgentLab;
  const dir = mkdtempSync(join(tmpdir(), 'hostprov-recovery-'));
  const workers: ChildProcess[] = [];

  beforeAll(async () => {
    harness = await createInstallHarness({ secretsDir: dir });
    lab = await createAgentLab({ stateDir: dir, hosts: [{ name: 'stp1' }, { name: 'crash1' }] });
    await lab.waitForAgents();
  });
  afterAll(async () => {
    for (const w of workers) await stopChild(w, { signal: 'SIGKILL' });
    await lab?.destroy();
    await harness?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a change that cuts the manager off is rolled back by the host, and the attachments are compensated', async () => {
    // STP with the default 15 s forward delay keeps the new bridge's port blocked for 30 s: the manager
    // cannot confirm within 5 s, so the host must undo the change on its own.
    const ns = Netns.attach(lab.testbed.host('stp1').namespace);
    const before = JSON.stringify(await ns.ipJson(['-4', 'addr', 'show', 'dev', 'eth0']));
    const request = lab.installRequest('stp1', {
      managementNetwork: { name: 'ovirtmgmt', vlan: null, mtu: 1500, vmNetwork: true, stp: true, defaultRoute: true },
      policy: { connectivityTimeoutSeconds: 5, reboot: false, commitMode: 'auto', agentWaitSeconds: 60 },
    });
    const { result, handle } = await harness.install(request);
    expect(result.outcome, JSON.stringify(result, null, 2)).toBe('rolled-back');
    expect(result.failure).toMatchObject({ type: 'ConnectivityCheckFailed' });
    expect(result.steps.map((s) => s.name)).toContain('compensate-attachments');
    expect(await harness.store.attachments.listByHost(result.hostId)).toEqual([]);
    const kinds = lab.journal('stp1').map((e) => `${e.kind}:${e.outcome}`);
    expect(kinds).toEqual(['restore:ok', 'apply:ok', 'rollback:ok']);
    expect((await ns.ipJson<Array<{ ifname: string }>>(['link', 'show'])).map((l) => l.ifname)).not.toContain('ovirtmgmt');
    expect(JSON.stringify(await ns.ipJson(['-4', 'addr', 'show', 'dev', 'eth0']))).toEqual(before);
    await harness.record(handle, 'rolled-back');
  });

  it('a worker killed mid-setupNetworks: a new worker takes over and the host applies exactly once', async () => {
    // This test's own workers run as processes (bin/hostprov worker) on their own task queue; payloads
    // plain, as the harness's client writes them.
    const taskQueue = `crash-${uniqueToken()}`;
    const workerData = join(dir, 'worker-data');
    const startWorker = (name: string): ChildProcess => {
      const child = spawn(
        join(PROJECT_ROOT, 'bin', 'hostprov'),
        [
          'worker',
          '--address',
          harness.target.address,
          '--namespace',
          harness.target.namespace,
          '--task-queue',
          taskQueue,
          '--data-dir',
          workerData,
          '--workflow-bundle',
          harness.target.workflowBundlePath,
          '--identity',
          name,
          '--secrets-dir',
          dir,
          '--no-payload-encryption',
        ],
        { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, HOSTPROV_LOG_LEVEL: 'warn' } },
      );
      workers.push(child);
      return child;
    };
    const first = startWorker('worker-1');
    // STP holds the new bridge's port blocked for ~30 s (listening + learning), so no confirmation can reach
    // the host for that long: the kill below lands while the host is certainly waiting for one, however fast
    // the machine is. The host's window (75 s) outlasts the block and the takeover.
    const request = lab.installRequest('crash1', {
      managementNetwork: { name: 'ovirtmgmt', vlan: null, mtu: 1500, vmNetwork: true, stp: true, defaultRoute: true },
      policy: { connectivityTimeoutSeconds: 75, reboot: false, commitMode: 'auto', agentWaitSeconds: 60 },
    });
    const started = await startOrAttachInstall(harness.client, request, { taskQueue });

    // Wait until the host has applied the change and is waiting for confirmations, then kill the worker.
    const deadline = Date.now() + 60_000;
    while (!lab.journal('crash1').some((e) => e.kind === 'apply')) {
      if (Date.now() > deadline) throw new Error('the install never reached setupNetworks');
      await new Promise((r) => setTimeout(r, 100));
    }
    expect((await started.handle.query(installStatusQuery)).phase).toBe('apply');
    first.kill('SIGKILL');
    await exited(first);

    startWorker('worker-2');
    const result = await followInstall(started.handle, () => undefined);
    expect(result.outcome, JSON.stringify(result, null, 2)).toBe('configured');
    const applies = lab.journal('crash1').filter((e) => e.kind === 'apply');
    expect(applies).toHaveLength(1);
    expect(lab.journal('crash1').some((e) => e.kind === 'rollback')).toBe(false);
    expect(result.steps.find((s) => s.name === 'setup-networks')?.status, JSON.stringify(result.steps)).toBe('ok');
    const history = await started.handle.fetchHistory();
    const attempts = (history.events ?? [])
      .filter((e) => e.activityTaskStartedEventAttributes)
      .map((e) => e.activityTaskStartedEventAttributes?.attempt ?? 1);
    expect(Math.max(...attempts)).toBeGreaterThan(1);
  });
});
