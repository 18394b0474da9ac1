/**
 * The host event watches run on their own task queue (worker/host-events-worker.ts), so they never take the
 * activity slots of the work that changes hosts. A worker with two activity slots holds three hosts'
 * watches and still refreshes a host; on the watches' old place, the worker's own queue, the third watch
 * and the refresh would wait for ever. A watch whose worker shuts down goes on on the next one.
 * Real Temporal dev server, one namespaced agent that the three hosts share.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { temporal } from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostEventsTaskQueue, RefreshHostNetworksResult } from '../../model/refresh/contract';
import { createAgentLab, type AgentLab } from '../../testbed/agent-lab';
import { uniqueToken } from '../../testbed/netns';
import { testbedUnavailableReason } from '../../testbed/requirements';
import { eventWatchWorkflowId, hostEventWatchStatus, refreshHostNetworksNow, startHostEventWatch } from '../../workflow-client/refresh';
import { createInstallHarness, type InstallHarness } from '../helpers/install-harness';
import { skipBecause } from '../helpers/skip';
import { unavailableReason } from '../helpers/temporal';

const reason = unavailableReason() ?? (await testbedUnavailableReason());
/** Shorter than the 30 s default, which spreads a fleet's refreshes after a worker restart. */
const RESUBSCRIBED_REFRESH_SPREAD_MS = 2000;
const STARTED = temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED;

describe.skipIf(skipBecause(reason, 'host event watches on their own task queue'))('host event watches beside a busy worker', () => {
  let harness: InstallHarness;
  let lab: AgentLab;
  const dir = mkdtempSync(join(tmpdir(), 'hostprov-watch-slots-'));
  const token = uniqueToken();
  const hostIds = ['a', 'b', 'c'].map((n) => `ws-${n}-${token}`);

  const watchOf = (hostId: string) => harness.client.workflow.getHandle(eventWatchWorkflowId(hostId));
  /** The watch's activity has heart-beaten in its current attempt: it is subscribed to the agent. */
  const subscribed = async (hostId: string) => {
    const pending = (await watchOf(hostId).describe()).raw.pendingActivities?.[0];
    return pending?.heartbeatDetails != null && pending.state === STARTED;
  };

  beforeAll(async () => {
    harness = await createInstallHarness({
      secretsDir: dir,
      maxConcurrentActivities: 2,
      watch: { resubscribedRefreshSpreadMs: RESUBSCRIBED_REFRESH_SPREAD_MS },
    });
    lab = await createAgentLab({ stateDir: dir, hosts: [{ name: 'ws', nics: 2 }], tls: false });
    // Setup, not an assertion: agents boot slowly on a loaded machine.
    await lab.waitForAgents(180_000);
    await harness.registerInsecureHosts(hostIds, lab.testbed.host('ws').address);
  }, 240_000);

  afterAll(async () => {
    for (const id of hostIds) {
      await harness?.client.workflow
        .getHandle(eventWatchWorkflowId(id))
        .terminate('test done')
        .catch(() => undefined);
    }
    await lab?.destroy();
    await harness?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('three watches on a worker with two activity slots, and a refresh still runs', async () => {
    for (const id of hostIds) await startHostEventWatch(harness.client, id, { taskQueue: harness.taskQueue });
    for (const id of hostIds) await expect.poll(() => subscribed(id), { timeout: 30_000, interval: 200 }).toBe(true);

    for (const id of hostIds) {
      const history = await watchOf(id).fetchHistory();
      const scheduled = history.events?.find((e) => e.activityTaskScheduledEventAttributes)?.activityTaskScheduledEventAttributes;
      expect(scheduled?.taskQueue?.name).toBe(hostEventsTaskQueue(harness.taskQueue));
    }

    const refreshed = await Promise.race([
      refreshHostNetworksNow(harness.client, hostIds[0]!, { taskQueue: harness.taskQueue }),
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error('the refresh found no free activity slot within 60 s: the watches took them')), 60_000),
      ),
    ]);
    expect(RefreshHostNetworksResult.parse(refreshed)).toMatchObject({ hostId: hostIds[0], outcome: 'refreshed' });
    for (const id of hostIds) expect((await watchOf(id).describe()).status.name).toBe('RUNNING');
  });

  it('a watch whose worker shuts down goes on, subscribed again, on the next one', async () => {
    const before = (await watchOf(hostIds[1]!).describe()).raw.pendingActivities?.[0];
    expect(before?.state).toBe(STARTED);
    await harness.restartEventsWorker();
    // The retry subscribes on the next worker and ends the watch there, so that the host is refreshed for the
    // time nobody listened (host-event-watch-gaps.test.ts); the watch after it is subscribed again.
    for (const id of hostIds) {
      await expect
        .poll(async () => (await hostEventWatchStatus(harness.client, id)).resubscriptions === 1 && (await subscribed(id)), {
          timeout: 60_000,
          interval: 250,
        })
        .toBe(true);
      expect((await watchOf(id).describe()).status.name).toBe('RUNNING');
    }
  });
});
