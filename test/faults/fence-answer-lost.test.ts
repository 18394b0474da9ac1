/**
 * The answer of the fence request lost after the proxy acted on it (see test/faults/README.md): the proxy
 * host rebooted the target, and the connection that was to carry its answer drops before the answer is
 * through, as when the path breaks or the worker dies. The activity's retry sends the request again under
 * the same id, and the proxy answers it with the first outcome (agent/fencing/repeated-fences.ts): the
 * install completes and the host was rebooted once, not twice.
 *
 * Real parts: namespaced hosts running our agent (plain TCP, so the relay in front of the proxy sees the
 * frames it carries and drops the connection on the answer, and on nothing else), the real ipmi_sim and
 * fence_ipmilan, the run's Temporal dev server.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgentLab, type AgentLab } from '../../testbed/agent-lab';
import { VDSM_PORT } from '../../model/vdsm/port';
import { testbedUnavailableReason } from '../../testbed/requirements';
import { startOrAttachInstall } from '../../workflow-client/install-host';
import { activityAttempts } from '../helpers/fault-injection';
import { createInstallHarness, type InstallHarness } from '../helpers/install-harness';
import { skipBecause } from '../helpers/skip';
import { startTcpRelay, type TcpRelay } from '../helpers/tcp-relay';
import { unavailableReason } from '../helpers/temporal';

const reason = unavailableReason() ?? (await testbedUnavailableReason());

describe.skipIf(skipBecause(reason, 'fence answer lost fault test'))('the fence answer lost after the proxy rebooted the host', () => {
  let harness: InstallHarness;
  let lab: AgentLab;
  let relay: TcpRelay | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'hostprov-faults-fence-'));

  beforeAll(async () => {
    harness = await createInstallHarness({ secretsDir: dir });
    lab = await createAgentLab({ stateDir: dir, tls: false, hosts: [{ name: 'lostans' }, { name: 'proxy2' }] });
    await lab.waitForAgents();
  });
  afterAll(async () => {
    await relay?.close();
    await lab?.destroy();
    await harness?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the retry gets the first outcome: the install is configured and the host rebooted once', async () => {
    const answers: string[] = [];
    relay = await startTcpRelay(
      { host: lab.testbed.host('proxy2').address, port: VDSM_PORT },
      {
        inspect: (chunk, from) => {
          if (from !== 'agent' || !chunk.includes('"operationStatus"')) return 'forward';
          answers.push(answers.length === 0 ? 'dropped' : 'forwarded');
          return answers.length === 1 ? 'drop' : 'forward';
        },
      },
    );
    const base = lab.installRequest('lostans');
    const pm = base.powerManagement;
    if (!pm) throw new Error('the lab gives every host power management');
    const request = {
      ...base,
      powerManagement: { ...pm, proxy: { ...pm.proxy, agent: { ...pm.proxy.agent, host: '127.0.0.1', port: relay.port } } },
      policy: { connectivityTimeoutSeconds: 30, reboot: true, commitMode: 'auto' as const, agentWaitSeconds: 60 },
    };
    const bootBefore = await lab.testbed.bootPid('lostans');

    const { handle } = await startOrAttachInstall(harness.client, request, { taskQueue: harness.taskQueue });
    const result = await handle.result();

    expect(result.outcome, JSON.stringify(result, null, 2)).toBe('configured');
    expect(answers).toEqual(['dropped', 'forwarded']);
    expect((await activityAttempts(handle)).filter(([type]) => type === 'fenceHost')).toEqual([['fenceHost', 2]]);
    // One apply, kept and made safe, and one reboot: one restore at the boot before the install, one after.
    expect(lab.journal('lostans').map((e) => `${e.kind}:${e.outcome}`)).toEqual(['restore:ok', 'apply:ok', 'persist:ok', 'restore:ok']);
    expect(await lab.testbed.bootPid('lostans')).not.toBe(bootBefore);
  }, 180_000);
});
