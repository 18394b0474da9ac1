/**
 * Faults on the host side of an install (see the table in test/faults/README.md): the manager–host link
 * cut during the connectivity check, a BMC that does not answer, a host that never comes back after the
 * reboot. Each ends in a defined outcome, and the attachments recorded before the apply are compensated:
 * the store holds exactly the rows it held before (same ids, fields and timestamps).
 *
 * Real parts: namespaced hosts running our agent over mutual TLS, the switch-side veth of the host taken
 * down, a real ipmi_sim stopped, fence_ipmilan on a proxy host, the run's Temporal dev server. A gated TCP
 * relay in front of an agent lets the test act at a known moment of the install (while a step's connection
 * waits), never after a sleep.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InstallHostRequest } from '../../model/install-host/contract';
import { createAgentLab, type AgentLab } from '../../testbed/agent-lab';
import { VDSM_PORT } from '../../model/vdsm/port';
import { stopIpmiSim } from '../../testbed/ipmi-sim';
import { Netns } from '../../testbed/netns';
import { testbedUnavailableReason } from '../../testbed/requirements';
import { startOrAttachInstall } from '../../workflow-client/install-host';
import { pendingActivities, seedStaleAttachment, setHostLink, waitUntil } from '../helpers/fault-injection';
import { createInstallHarness, type InstallHarness } from '../helpers/install-harness';
import { skipBecause } from '../helpers/skip';
import { startTcpRelay, type TcpRelay } from '../helpers/tcp-relay';
import { unavailableReason } from '../helpers/temporal';

const reason = unavailableReason() ?? (await testbedUnavailableReason());

/** How long the host waits for a confirmation in these tests (the engine's default is 120 s). */
const CONNECTIVITY_TIMEOUT_S = 5;

describe.skipIf(skipBecause(reason, 'host-side fault tests'))('faults on the host side of an install', () => {
  let harness: InstallHarness;
  let lab: AgentLab;
  const relays: TcpRelay[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'hostprov-faults-host-'));

  beforeAll(async () => {
    harness = await createInstallHarness({ secretsDir: dir });
    lab = await createAgentLab({ stateDir: dir, hosts: [{ name: 'cut1' }, { name: 'bmc1' }, { name: 'lost1' }, { name: 'proxy1' }] });
    await lab.waitForAgents();
  });
  afterAll(async () => {
    for (const relay of relays) await relay.close();
    await lab?.destroy();
    await harness?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function gatedRelayTo(host: string): Promise<TcpRelay> {
    const relay = await startTcpRelay({ host: lab.testbed.host(host).address, port: VDSM_PORT }, { gate: true });
    relays.push(relay);
    return relay;
  }

  /** The lab's request for `host`, fenced through proxy1 (reached at `proxyPort` on loopback when relayed). */
  function requestFor(host: string, policy: InstallHostRequest['policy'], proxyPort?: number): InstallHostRequest {
    const base = lab.installRequest(host);
    const proxy = lab.installRequest('proxy1');
    const pm = base.powerManagement;
    if (!pm) throw new Error('the lab gives every host power management');
    const proxyAgent = {
      ...proxy.agent,
      host: proxyPort ? '127.0.0.1' : lab.testbed.host('proxy1').address,
      ...(proxyPort ? { port: proxyPort } : {}),
    };
    return { ...base, powerManagement: { ...pm, proxy: { id: proxy.host.id, name: 'proxy1', agent: proxyAgent } }, policy };
  }

  const journalKinds = (host: string) => lab.journal(host).map((e) => `${e.kind}:${e.outcome}`);

  it('the manager–host link cut during the connectivity check: the host rolls back, the outcome is rolled-back, the attachments are compensated', async () => {
    const relay = await gatedRelayTo('cut1');
    const base = requestFor('cut1', {
      connectivityTimeoutSeconds: CONNECTIVITY_TIMEOUT_S,
      reboot: false,
      commitMode: 'auto',
      agentWaitSeconds: 30,
    });
    const request = { ...base, agent: { ...base.agent, host: '127.0.0.1', port: relay.port } };
    const before = await seedStaleAttachment(harness.store, request.host.id);
    const ns = Netns.attach(lab.testbed.host('cut1').namespace);
    const addressBefore = JSON.stringify(await ns.ipJson(['-4', 'addr', 'show', 'dev', 'eth0']));

    const { handle } = await startOrAttachInstall(harness.client, request, { taskQueue: harness.taskQueue });
    // Every connection of the install waits at the relay. Let them through up to and including the
    // setupNetworks call itself; the next one is a confirmation, which must not reach the host first.
    let callPassed = false;
    for (;;) {
      await relay.nextHeld();
      const [pending] = await pendingActivities(handle);
      if (pending?.type === 'setupNetworksWithConfirm' && callPassed) break;
      if (pending?.type === 'setupNetworksWithConfirm') callPassed = true;
      relay.pass();
    }
    await waitUntil('the host to apply the change', () => journalKinds('cut1').includes('apply:ok'));
    await setHostLink(lab, 'cut1', 'down');
    // From now on nothing is held: the confirmations go out, and die on the cut link.
    relay.release();
    await waitUntil('the host to roll back on its own', () => journalKinds('cut1').includes('rollback:ok'), {
      timeoutMs: (CONNECTIVITY_TIMEOUT_S + 30) * 1000,
    });
    await setHostLink(lab, 'cut1', 'up');

    const result = await handle.result();
    expect(result.outcome, JSON.stringify(result, null, 2)).toBe('rolled-back');
    expect(result.failure).toMatchObject({ type: 'ConnectivityCheckFailed' });
    expect(result.compensation).toEqual({ status: 'done', failure: null });
    expect(journalKinds('cut1')).toEqual(['restore:ok', 'apply:ok', 'rollback:ok']);
    expect(await harness.store.attachments.listByHost(request.host.id)).toEqual(before);
    expect((await ns.ipJson<Array<{ ifname: string }>>(['link', 'show'])).map((l) => l.ifname)).not.toContain('ovirtmgmt');
    expect(JSON.stringify(await ns.ipJson(['-4', 'addr', 'show', 'dev', 'eth0']))).toEqual(addressBefore);
  });

  it('the BMC does not answer: a FenceFailed that names the BMC, and the attachments are compensated', async () => {
    const host = lab.testbed.host('bmc1');
    await stopIpmiSim(host.bmc.pid, host.bmc.dir);
    const request = requestFor('bmc1', { connectivityTimeoutSeconds: 30, reboot: true, commitMode: 'auto', agentWaitSeconds: 30 });
    const before = await seedStaleAttachment(harness.store, request.host.id);
    const bootBefore = await lab.testbed.bootPid('bmc1');

    const { result } = await harness.install(request);
    expect(result.outcome, JSON.stringify(result, null, 2)).toBe('failed');
    expect(result.failure?.type).toBe('FenceFailed');
    expect(result.failure?.message).toContain(`BMC ${host.bmc.address}:${host.bmc.port}`);
    expect(result.steps.find((s) => s.name === 'fence-reboot')?.status).toBe('failed');
    expect(result.compensation).toEqual({ status: 'done', failure: null });
    expect(await harness.store.attachments.listByHost(request.host.id)).toEqual(before);
    // The host keeps what it applied and made safe; it was never rebooted.
    expect(journalKinds('bmc1')).toEqual(['restore:ok', 'apply:ok', 'persist:ok']);
    expect(await lab.testbed.bootPid('bmc1')).toBe(bootBefore);
  });

  it('the host never comes back after the reboot: a bounded wait, then failed with the reason, and compensation', async () => {
    const proxyRelay = await gatedRelayTo('proxy1');
    const agentWaitSeconds = 5;
    const request = requestFor(
      'lost1',
      { connectivityTimeoutSeconds: 30, reboot: true, commitMode: 'auto', agentWaitSeconds },
      proxyRelay.port,
    );
    const before = await seedStaleAttachment(harness.store, request.host.id);
    const bootBefore = await lab.testbed.bootPid('lost1');

    const { handle } = await startOrAttachInstall(harness.client, request, { taskQueue: harness.taskQueue });
    try {
      // The fence call waits at the relay: the change is applied and committed, the reboot is next. The
      // host's cable goes now, so the host that boots again is never heard of.
      await proxyRelay.nextHeld();
      expect((await pendingActivities(handle))[0]?.type).toBe('fenceHost');
      await setHostLink(lab, 'lost1', 'down');
      proxyRelay.release();
      const result = await handle.result();

      expect(result.outcome, JSON.stringify(result, null, 2)).toBe('failed');
      expect(result.failure?.type).toBe('AgentUnreachable');
      expect(result.failure?.message).toMatch(new RegExp(`^lost1 did not come back after the reboot: .*within ${agentWaitSeconds}s`));
      expect(result.steps.find((s) => s.name === 'fence-reboot')?.status).toBe('ok');
      expect(result.steps.find((s) => s.name === 'wait-agent-after-reboot')?.status).toBe('failed');
      expect(result.compensation).toEqual({ status: 'done', failure: null });
      expect(await harness.store.attachments.listByHost(request.host.id)).toEqual(before);
      // It did reboot (a new boot, which restored the safe config), and it applied once.
      expect(await lab.testbed.bootPid('lost1')).not.toBe(bootBefore);
      expect(journalKinds('lost1').filter((k) => k.startsWith('apply'))).toEqual(['apply:ok']);
    } finally {
      await setHostLink(lab, 'lost1', 'up');
    }
  });
});
