/**
 * A host event watch that was not subscribed for a while refreshes its host as soon as it is subscribed
 * again, because whatever changed meanwhile sent no event it could hear: a change made while no worker ran
 * the watch, and a reboot (the agent announces DHCP leases, never a boot). The host is static and has no
 * refresh Schedule, so nothing else reads it. Real Temporal dev server, one namespaced agent; the reboot is
 * the testbed's power off and on, which puts the NICs back to their factory MTU.
 *
 * With HOSTPROV_RECORD_HISTORIES=1 the watch's history (two resubscriptions, then cancelled) is recorded
 * under test/histories/host-event-watch/.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { temporal } from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RefreshHostNetworksResult } from '../../model/refresh/contract';
import { createAgentLab, type AgentLab } from '../../testbed/agent-lab';
import { Netns, uniqueToken } from '../../testbed/netns';
import { FACTORY_MTU } from '../../testbed/power-config';
import { testbedUnavailableReason } from '../../testbed/requirements';
import { stopHostEventWatch } from '../../workflow-client/host-lifecycle';
import { eventWatchWorkflowId, hostEventWatchStatus, refreshHostNetworksNow, startHostEventWatch } from '../../workflow-client/refresh';
import { createInstallHarness, recordHistory, WATCH_HISTORIES, type InstallHarness } from '../helpers/install-harness';
import { skipBecause } from '../helpers/skip';
import { resultOf, unavailableReason } from '../helpers/temporal';

const reason = unavailableReason() ?? (await testbedUnavailableReason());
/** Shorter than the 30 s default, which spreads a fleet's refreshes after a worker restart. */
const RESUBSCRIBED_REFRESH_SPREAD_MS = 2000;
const STARTED = temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED;
const CHANGED_MTU = 1400;

describe.skipIf(skipBecause(reason, 'host event watch gaps'))('a host event watch after a time without a subscription', () => {
  let harness: InstallHarness;
  let lab: AgentLab;
  const dir = mkdtempSync(join(tmpdir(), 'hostprov-watch-gaps-'));
  const hostId = `wg-${uniqueToken()}`;

  const watch = () => harness.client.workflow.getHandle(eventWatchWorkflowId(hostId));
  /** The current attempt of the watch's activity has heart-beaten: it is subscribed to the agent. */
  const subscribed = async () => {
    const pending = (await watch().describe()).raw.pendingActivities?.[0];
    return pending?.heartbeatDetails != null && pending.state === STARTED;
  };
  const storedMtu = async (nic: string) =>
    (await harness.store.hosts.get(hostId))?.reportedInterfaces?.nics.find((n) => n.name === nic)?.mtu;
  /** The attempt of each watch activity that completed, in order (a retry shows as attempt 2 or more). */
  const completedAttempts = async () => {
    const events = (await watch().fetchHistory()).events ?? [];
    const started = new Map(events.flatMap((e) => (e.activityTaskStartedEventAttributes ? [[String(e.eventId), e]] : [])));
    return events.flatMap((e) => {
      const startedId = e.activityTaskCompletedEventAttributes?.startedEventId;
      return startedId == null ? [] : [started.get(String(startedId))?.activityTaskStartedEventAttributes?.attempt ?? 0];
    });
  };
  const refreshResult = async (workflowId: string) => RefreshHostNetworksResult.parse(await resultOf(harness.client, workflowId));

  beforeAll(async () => {
    harness = await createInstallHarness({ secretsDir: dir, watch: { resubscribedRefreshSpreadMs: RESUBSCRIBED_REFRESH_SPREAD_MS } });
    lab = await createAgentLab({ stateDir: dir, hosts: [{ name: 'wg', nics: 2 }], tls: false });
    // Setup, not an assertion: agents boot slowly on a loaded machine.
    await lab.waitForAgents(180_000);
    await harness.registerInsecureHosts([hostId], lab.testbed.host('wg').address);
  }, 240_000);

  afterAll(async () => {
    await harness?.client.workflow
      .getHandle(eventWatchWorkflowId(hostId))
      .terminate('test done')
      .catch(() => undefined);
    await lab?.destroy();
    await harness?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refreshes its host once the next worker has subscribed it again, for a change made while no worker ran it', async () => {
    await refreshHostNetworksNow(harness.client, hostId, { taskQueue: harness.taskQueue });
    expect(await storedMtu('eth1')).toBe(FACTORY_MTU);
    await startHostEventWatch(harness.client, hostId, { taskQueue: harness.taskQueue });
    await expect.poll(subscribed, { timeout: 30_000, interval: 200 }).toBe(true);
    expect(await hostEventWatchStatus(harness.client, hostId)).toMatchObject({ events: 0, resubscriptions: 0, refreshes: [] });

    // Changed while no worker runs the watch; a static host's agent announces nothing either.
    await harness.restartEventsWorker(() =>
      Netns.attach(lab.testbed.host('wg').namespace)
        .ip(['link', 'set', 'eth1', 'mtu', String(CHANGED_MTU)])
        .then(() => undefined),
    );
    await expect.poll(() => storedMtu('eth1'), { timeout: 60_000, interval: 250 }).toBe(CHANGED_MTU);
    const status = await hostEventWatchStatus(harness.client, hostId);
    expect(status).toMatchObject({ events: 0, resubscriptions: 1 });
    expect(status.refreshes).toHaveLength(1);
    expect(await refreshResult(status.refreshes[0]!.workflowId)).toMatchObject({ hostId, reason: 'event', outcome: 'refreshed' });
    // The activity the worker's shutdown cancelled was retried, and that retry ended the watch.
    expect(await completedAttempts()).toEqual([2]);
  }, 120_000);

  it('refreshes its host once subscribed again after the host rebooted, which sends no event', async () => {
    await expect.poll(subscribed, { timeout: 30_000, interval: 200 }).toBe(true);
    await lab.testbed.powerOff('wg');
    await lab.testbed.powerOn('wg');

    await expect.poll(() => storedMtu('eth1'), { timeout: 120_000, interval: 250 }).toBe(FACTORY_MTU);
    const status = await hostEventWatchStatus(harness.client, hostId);
    expect(status).toMatchObject({ events: 0, resubscriptions: 2 });
    expect(status.refreshes).toHaveLength(2);
    expect(await refreshResult(status.refreshes[1]!.workflowId)).toMatchObject({ hostId, reason: 'event', outcome: 'refreshed' });
    // Heard in the attempt that was subscribed before the reboot: its session came back, no retry was needed.
    expect(await completedAttempts()).toEqual([2, 1]);

    expect(await stopHostEventWatch(harness.client, hostId)).toBe(true);
    expect((await watch().describe()).status.name).toBe('CANCELLED');
    await recordHistory(harness.target, eventWatchWorkflowId(hostId), 'resubscribed-after-gaps', WATCH_HISTORIES);
  }, 180_000);
});
