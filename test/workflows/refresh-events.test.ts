/**
 * What refreshes a host besides an operator, end to end on a DHCP host (dnsmasq in its own namespace, our
 * agent in the host namespace): its agent's `|net|host_conn|no_id` event after a lease change, through the
 * event-watch workflow, with the host's refresh Schedule paused — so the refresh it shows can only have
 * come from the event — and the Schedule itself (create, interval, pause, resume, a triggered run).
 *
 * With HOSTPROV_RECORD_HISTORIES=1 the watch's history (one event, then cancelled) is recorded under
 * test/histories/host-event-watch/.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RefreshHostNetworksResult } from '../../model/refresh/contract';
import { refreshPhaseSeconds } from '../../model/refresh/schedule-phase';
import { HostNetworkStatusKey, NetworkSyncKey } from '../../model/search-attributes';
import { createAgentLab, type AgentLab } from '../../testbed/agent-lab';
import { uniqueToken } from '../../testbed/netns';
import { testbedUnavailableReason } from '../../testbed/requirements';
import { AgentClient } from '../../vdsm/client/client';
import { hostNetworksWorkflowId } from '../../workflow-client/host-networks';
import { stopHostEventWatch } from '../../workflow-client/host-lifecycle';
import { eventWatchWorkflowId, hostEventWatchStatus, startHostEventWatch } from '../../workflow-client/refresh';
import {
  describeHostRefreshSchedule,
  ensureHostRefreshSchedule,
  pauseHostRefreshSchedule,
  refreshScheduleId,
  resumeHostRefreshSchedule,
  deleteHostRefreshSchedule,
} from '../../workflow-client/schedules';
import { createInstallHarness, recordHistory, WATCH_HISTORIES, type InstallHarness } from '../helpers/install-harness';
import { skipBecause } from '../helpers/skip';
import { resultOf, unavailableReason } from '../helpers/temporal';

const reason = unavailableReason() ?? (await testbedUnavailableReason());

describe.skipIf(skipBecause(reason, 'refresh triggers integration'))('refresh triggers on a DHCP host', () => {
  let harness: InstallHarness;
  let lab: AgentLab;
  let agent: AgentClient;
  const dir = mkdtempSync(join(tmpdir(), 'hostprov-refresh-events-'));
  const hostId = `d1-${uniqueToken()}`;

  beforeAll(async () => {
    harness = await createInstallHarness({ secretsDir: dir });
    lab = await createAgentLab({ stateDir: dir, hosts: [{ name: 'd1', factory: 'dhcp' }], tls: false });
    await lab.waitForAgents();
    const host = lab.testbed.host('d1');
    agent = await AgentClient.connect({ host: host.address, tls: { insecure: true } });
    const { store } = harness;
    const mgmt = await store.networks.create({ name: 'ovirtmgmt' });
    const cluster = await store.clusters.create({ name: `c-${hostId}`, compatibilityVersion: '4.8', managementNetworkId: mgmt.id });
    await store.hosts.create({
      id: hostId,
      name: hostId,
      clusterId: cluster.id,
      agentEndpoint: { host: host.address, port: 54321, tls: { insecure: true } },
    });
  });
  afterAll(async () => {
    await deleteHostRefreshSchedule(harness.client, hostId).catch(() => undefined);
    await harness?.client.workflow
      .getHandle(eventWatchWorkflowId(hostId))
      .terminate('test done')
      .catch(() => undefined);
    await agent?.close();
    await lab?.destroy();
    await harness?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps a refresh Schedule per host: created paused, interval updated, resumed, paused again', async () => {
    await ensureHostRefreshSchedule(harness.client, { hostId, intervalSeconds: 3600, taskQueue: harness.taskQueue, paused: true });
    expect(await describeHostRefreshSchedule(harness.client, hostId)).toMatchObject({
      scheduleId: refreshScheduleId(hostId),
      intervalSeconds: 3600,
      paused: true,
    });
    await ensureHostRefreshSchedule(harness.client, { hostId, intervalSeconds: 7200, taskQueue: harness.taskQueue });
    expect(await describeHostRefreshSchedule(harness.client, hostId)).toMatchObject({ intervalSeconds: 7200, paused: true });
    await resumeHostRefreshSchedule(harness.client, hostId);
    const resumed = await describeHostRefreshSchedule(harness.client, hostId);
    // it fires at the host's own phase of the interval, not on the hour like every other host's
    expect(resumed).toMatchObject({ paused: false, offsetSeconds: refreshPhaseSeconds(hostId, 7200) });
    const nextRun = Date.parse(resumed?.nextRunAt ?? '') / 1000;
    expect(nextRun % 7200).toBe(refreshPhaseSeconds(hostId, 7200));
    expect(nextRun * 1000 - Date.now()).toBeLessThanOrEqual(7200_000);
    await pauseHostRefreshSchedule(harness.client, hostId, 'host in maintenance');
    expect(await describeHostRefreshSchedule(harness.client, hostId)).toMatchObject({
      paused: true,
      note: 'host in maintenance',
      nextRunAt: null,
    });
    await expect(ensureHostRefreshSchedule(harness.client, { hostId, intervalSeconds: 1 })).rejects.toThrow(/intervalSeconds/);
  });

  it('resumes a paused Schedule and changes its interval in one update, every time', async () => {
    // Before, the interval went in an update and the resume in a patch after it; when both reached the
    // scheduler together it applied the patch first, and the update paused the schedule again.
    for (const intervalSeconds of [600, 900, 1200, 1500, 1800, 2100, 2400, 2700]) {
      await pauseHostRefreshSchedule(harness.client, hostId, 'host in maintenance');
      await ensureHostRefreshSchedule(harness.client, {
        hostId,
        intervalSeconds,
        taskQueue: harness.taskQueue,
        paused: false,
        note: 'host activated',
      });
      expect(await describeHostRefreshSchedule(harness.client, hostId)).toMatchObject({
        intervalSeconds,
        paused: false,
        note: 'host activated',
      });
    }
    await ensureHostRefreshSchedule(harness.client, { hostId, intervalSeconds: 3600, taskQueue: harness.taskQueue, paused: true });
    expect(await describeHostRefreshSchedule(harness.client, hostId)).toMatchObject({
      intervalSeconds: 3600,
      paused: true,
      note: 'paused on update',
    });
  });

  it('a triggered scheduled run queues a refresh in the host entity workflow', async () => {
    await harness.client.schedule.getHandle(refreshScheduleId(hostId)).trigger();
    // The schedule's action (scheduledHostRefresh) returns the id of the refresh it queued.
    const deadline = Date.now() + 30_000;
    let queued: { workflowId: string } | undefined;
    while (!queued && Date.now() < deadline) {
      for await (const wf of harness.client.workflow.list({ query: `WorkflowType = 'scheduledHostRefresh' AND HostId = '${hostId}'` })) {
        if (wf.status.name === 'COMPLETED')
          queued = (await harness.client.workflow.getHandle(wf.workflowId, wf.runId).result()) as { workflowId: string };
      }
      if (!queued) await new Promise((r) => setTimeout(r, 500));
    }
    expect(queued?.workflowId).toMatch(new RegExp(`^${hostNetworksWorkflowId(hostId)}/schedule-`));
    const result = RefreshHostNetworksResult.parse(await resultOf(harness.client, queued!.workflowId));
    expect(result).toMatchObject({ hostId, reason: 'schedule', outcome: 'refreshed' });
    // the required management network is not on the host yet
    expect(result.compliance).toMatchObject({ status: 'non-operational', reason: 'NETWORK_UNREACHABLE' });
  });

  it('refreshes within seconds of a DHCP lease change, because of the agent event (the schedule is paused)', async () => {
    const schedule = await describeHostRefreshSchedule(harness.client, hostId);
    expect(schedule).toMatchObject({ paused: true });
    await startHostEventWatch(harness.client, hostId, { taskQueue: harness.taskQueue });
    // The watch is subscribed once its activity heart-beats; wait for that rather than for a time.
    const watchHandle = harness.client.workflow.getHandle(eventWatchWorkflowId(hostId));
    await expect
      .poll(async () => (await watchHandle.describe()).raw.pendingActivities?.[0]?.heartbeatDetails != null, {
        timeout: 30_000,
        interval: 200,
      })
      .toBe(true);

    // A bridged DHCP management network: the bridge gets a lease, and the agent announces it.
    const host = lab.testbed.host('d1');
    let confirming = true;
    const confirmLoop = (async () => {
      while (confirming) {
        await agent.call('Host.confirmConnectivity', {}, { timeoutMs: 2000 }).catch(() => undefined);
        await new Promise((r) => setTimeout(r, 300));
      }
    })();
    try {
      const params = {
        networks: { ovirtmgmt: { nic: 'eth0', bridged: 'true', bootproto: 'dhcp', defaultRoute: true } },
        bondings: {},
        options: { connectivityTimeout: 20 },
      };
      expect(await agent.call('Host.setupNetworks', params, { timeoutMs: 60_000 })).toEqual({ code: 0, message: 'Done' });
    } finally {
      confirming = false;
      await confirmLoop;
    }

    await expect
      .poll(async () => (await hostEventWatchStatus(harness.client, hostId)).refreshes.length, { timeout: 30_000, interval: 200 })
      .toBeGreaterThan(0);
    const status = await hostEventWatchStatus(harness.client, hostId);
    expect(status.events).toBeGreaterThan(0);
    const first = status.refreshes[0]!;
    const result = RefreshHostNetworksResult.parse(await resultOf(harness.client, first.workflowId));
    expect(result).toMatchObject({ hostId, reason: 'event', outcome: 'refreshed' });
    expect(result.actions).toEqual([expect.objectContaining({ kind: 'created', networkName: 'ovirtmgmt', toNic: 'eth0' })]);
    expect(result.compliance).toMatchObject({ status: 'operational', reason: null });
    const stored = await harness.store.hosts.get(hostId);
    expect(stored?.reportedInterfaces?.networks.find((n) => n.name === 'ovirtmgmt')).toMatchObject({
      bridged: true,
      ipv4: expect.objectContaining({ bootProtocol: 'DHCP', address: host.address }),
    });
    const attachments = await harness.store.attachments.listByHost(hostId);
    expect(attachments).toEqual([
      expect.objectContaining({
        networkName: 'ovirtmgmt',
        nicName: 'eth0',
        ipConfiguration: expect.objectContaining({ ipv4: { bootProtocol: 'DHCP' } }),
      }),
    ]);
    // the paused schedule never ran meanwhile: the refresh came from the event
    expect((await describeHostRefreshSchedule(harness.client, hostId))?.actions).toBe(schedule!.actions);
    // The entity upserts its search attributes in the workflow task after the refresh child's result, so
    // they may trail that result by a moment.
    const entity = harness.client.workflow.getHandle(hostNetworksWorkflowId(hostId));
    await expect
      .poll(
        async () => {
          const attributes = (await entity.describe()).typedSearchAttributes;
          return [attributes.get(NetworkSyncKey), attributes.get(HostNetworkStatusKey)];
        },
        { timeout: 10_000, interval: 200 },
      )
      .toEqual(['in-sync', 'operational']);

    expect(await stopHostEventWatch(harness.client, hostId)).toBe(true);
    expect((await watchHandle.describe()).status.name).toBe('CANCELLED');
    await recordHistory(harness.target, eventWatchWorkflowId(hostId), 'dhcp-lease-event', WATCH_HISTORIES);
  });
});
