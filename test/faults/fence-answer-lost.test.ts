/**
 * The answer of the fence request lost after the proxy acted on it (see test/faults/README.md): the proxy
 * host rebooted the target, and the answer never reaches the activity, because the connection drops or the
 * worker dies. The retry sends the request again under the same id, and the proxy answers it with the first
 * outcome (agent/fencing/repeated-fences.ts): the install completes and the host was rebooted once, not twice.
 *
 * Real parts: namespaced hosts running our agent (plain TCP, so the relay in front of the proxy sees the
 * frames it carries and acts on the answer, and on nothing else), the real ipmi_sim and fence_ipmilan, the
 * run's Temporal dev server; for the second case, workers as their own processes, killed with kill -9.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InstallHostRequest } from '../../model/install-host/contract';
import { exited } from '../../lib/process';
import { createAgentLab, type AgentLab } from '../../testbed/agent-lab';
import { VDSM_PORT } from '../../model/vdsm/port';
import { uniqueToken } from '../../testbed/netns';
import { testbedUnavailableReason } from '../../testbed/requirements';
import { startOrAttachInstall } from '../../workflow-client/install-host';
import { activityAttempts, waitUntil, WorkerProcesses } from '../helpers/fault-injection';
import { createInstallHarness, type InstallHarness } from '../helpers/install-harness';
import { skipBecause } from '../helpers/skip';
import { startTcpRelay, type TcpRelay } from '../helpers/tcp-relay';
import { temporalTarget, unavailableReason } from '../helpers/temporal';

const reason = unavailableReason() ?? (await testbedUnavailableReason());

describe.skipIf(skipBecause(reason, 'fence answer lost fault tests'))('the fence answer lost after the proxy rebooted the host', () => {
  let harness: InstallHarness;
  let lab: AgentLab;
  let workers: WorkerProcesses | undefined;
  const relays: TcpRelay[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'hostprov-faults-fence-'));

  beforeAll(async () => {
    harness = await createInstallHarness({ secretsDir: dir });
    lab = await createAgentLab({ stateDir: dir, tls: false, hosts: [{ name: 'lostans' }, { name: 'killans' }, { name: 'proxy2' }] });
    await lab.waitForAgents();
  });
  afterAll(async () => {
    await workers?.stopAll();
    for (const relay of relays) await relay.close();
    await lab?.destroy();
    await harness?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /**
   * A relay to the proxy that calls `onAnswer` on the first fence answer and drops its connection; later
   * answers pass. `answers` records what happened to each.
   */
  async function relayLosingTheFirstAnswer(onAnswer: () => void = () => undefined): Promise<{ relay: TcpRelay; answers: string[] }> {
    const answers: string[] = [];
    const relay = await startTcpRelay(
      { host: lab.testbed.host('proxy2').address, port: VDSM_PORT },
      {
        inspect: (chunk, from) => {
          if (from !== 'agent' || !chunk.includes('"operationStatus"')) return 'forward';
          if (answers.length > 0) {
            answers.push('forwarded');
            return 'forward';
          }
          answers.push('dropped');
          onAnswer();
          return 'drop';
        },
      },
    );
    relays.push(relay);
    return { relay, answers };
  }

  /** The lab's request for `host`, rebooted through proxy2 reached at `proxyPort` on loopback. */
  function requestFor(host: string, proxyPort: number): InstallHostRequest {
    const base = lab.installRequest(host);
    const pm = base.powerManagement;
    if (!pm) throw new Error('the lab gives every host power management');
    return {
      ...base,
      powerManagement: { ...pm, proxy: { ...pm.proxy, agent: { ...pm.proxy.agent, host: '127.0.0.1', port: proxyPort } } },
      policy: { connectivityTimeoutSeconds: 30, reboot: true, commitMode: 'auto', agentWaitSeconds: 60 },
    };
  }

  /** One apply, kept and made safe, and one reboot: a restore at the boot before the install, one after. */
  const ONE_APPLY_ONE_REBOOT = ['restore:ok', 'apply:ok', 'persist:ok', 'restore:ok'];
  const journalKinds = (host: string) => lab.journal(host).map((e) => `${e.kind}:${e.outcome}`);

  it('the connection drops: the retry gets the first outcome, the install is configured and the host rebooted once', async () => {
    const { relay, answers } = await relayLosingTheFirstAnswer();
    const bootBefore = await lab.testbed.bootPid('lostans');

    const { handle } = await startOrAttachInstall(harness.client, requestFor('lostans', relay.port), { taskQueue: harness.taskQueue });
    const result = await handle.result();

    expect(result.outcome, JSON.stringify(result, null, 2)).toBe('configured');
    expect(answers).toEqual(['dropped', 'forwarded']);
    expect((await activityAttempts(handle)).filter(([type]) => type === 'fenceHost')).toEqual([['fenceHost', 2]]);
    expect(journalKinds('lostans')).toEqual(ONE_APPLY_ONE_REBOOT);
    expect(await lab.testbed.bootPid('lostans')).not.toBe(bootBefore);
  }, 180_000);

  it('the worker dies: the next worker sends the same id, the install is configured and the host rebooted once', async () => {
    const target = temporalTarget();
    if ('unavailable' in target) throw new Error(target.unavailable);
    const pool = new WorkerProcesses({
      address: target.address,
      namespace: target.namespace,
      taskQueue: `fence-kill-${uniqueToken()}`,
      workflowBundlePath: target.workflowBundlePath,
      dataDir: join(dir, 'worker'),
      secretsDir: dir,
      extraArgs: ['--allow-insecure-agents'],
    });
    workers = pool;
    // The worker dies the moment the proxy answers, before the answer reaches it.
    const { relay, answers } = await relayLosingTheFirstAnswer(() => pool.current?.kill('SIGKILL'));
    const bootBefore = await lab.testbed.bootPid('killans');

    const first = pool.start();
    const { handle } = await startOrAttachInstall(harness.client, requestFor('killans', relay.port), { taskQueue: pool.taskQueue });
    let ended = false;
    const result = handle.result().finally(() => (ended = true));
    await waitUntil('the proxy to answer the fence', () => answers.length > 0 || ended, { timeoutMs: 120_000 });
    await exited(first);
    pool.start();

    expect((await result).outcome, JSON.stringify(await result, null, 2)).toBe('configured');
    expect(answers).toEqual(['dropped', 'forwarded']);
    expect((await activityAttempts(handle)).filter(([type]) => type === 'fenceHost')).toEqual([['fenceHost', 2]]);
    expect(journalKinds('killans')).toEqual(ONE_APPLY_ONE_REBOOT);
    expect(await lab.testbed.bootPid('killans')).not.toBe(bootBefore);
  }, 240_000);
});
