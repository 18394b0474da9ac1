/**
 * A host event watch started before the watches had their own task queue holds its activity on the worker's
 * queue. After an upgrade it must move: its next watch goes to the watches' queue, where it no longer takes
 * a slot from installs and refreshes, and the host is read once for the moment it went unwatched.
 *
 * The code before the upgrade is the workflow bundle with the patch check answering false, which is what the
 * code before the patch did: no marker, the activity on the worker's queue. Real Temporal dev server, one
 * namespaced agent. With HOSTPROV_RECORD_HISTORIES=1 the moved watch's history is recorded under
 * test/histories/host-event-watch/.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../activities';
import { SecretResolver } from '../../activities/secrets';
import { hostEventsTaskQueue, RefreshHostNetworksResult } from '../../model/refresh/contract';
import { createAgentLab, type AgentLab } from '../../testbed/agent-lab';
import { uniqueToken } from '../../testbed/netns';
import { testbedUnavailableReason } from '../../testbed/requirements';
import { WATCH_ON_OWN_TASK_QUEUE_PATCH } from '../../workflows/refresh-triggers';
import { eventWatchWorkflowId, hostEventWatchStatus, startHostEventWatch } from '../../workflow-client/refresh';
import { createHostEventsWorker } from '../../worker/host-events-worker';
import { discardedInstallMetrics } from '../../worker/metrics';
import { createInstallHarness, recordHistory, WATCH_HISTORIES, type InstallHarness } from '../helpers/install-harness';
import { bundleBeforePatches } from '../helpers/pre-patch-bundle';
import { skipBecause } from '../helpers/skip';
import { resultOf, unavailableReason } from '../helpers/temporal';

const reason = unavailableReason() ?? (await testbedUnavailableReason());
const STARTED = temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED;
/** The watch's heartbeat timeout before `WATCH_HEARTBEAT_TIMEOUT_SECONDS` (30 s). */
const OLD_HEARTBEAT_TIMEOUT_MS = 10_000;

describe.skipIf(skipBecause(reason, 'host event watch upgrade'))('a host event watch started before its own task queue existed', () => {
  let harness: InstallHarness;
  let lab: AgentLab;
  let prePatchBundle: string;
  const workers: Array<{ worker: Worker; running: Promise<void> }> = [];
  const dir = mkdtempSync(join(tmpdir(), 'hostprov-watch-upgrade-'));
  const token = uniqueToken();
  const hostId = `wu-${token}`;
  const taskQueue = `watch-upgrade-${token}`;
  const secrets = new SecretResolver({ secretsDir: dir });

  const watch = () => harness.client.workflow.getHandle(eventWatchWorkflowId(hostId));
  const scheduledQueues = async () =>
    ((await watch().fetchHistory()).events ?? []).flatMap((e) => e.activityTaskScheduledEventAttributes?.taskQueue?.name ?? []);
  /** The patch markers in the history that name the watch's patch. */
  const patchMarkers = async () =>
    ((await watch().fetchHistory()).events ?? []).filter((e) =>
      Object.values(e.markerRecordedEventAttributes?.details ?? {}).some((p) =>
        (p.payloads ?? []).some((payload) =>
          Buffer.from(payload.data ?? [])
            .toString('utf8')
            .includes(WATCH_ON_OWN_TASK_QUEUE_PATCH),
        ),
      ),
    ).length;
  /** The current attempt of the watch's activity has heart-beaten: it is subscribed to the agent. */
  const subscribed = async () => {
    const pending = (await watch().describe()).raw.pendingActivities?.[0];
    return pending?.heartbeatDetails != null && pending.state === STARTED;
  };

  function start(worker: Worker): void {
    workers.push({ worker, running: worker.run() });
  }

  beforeAll(async () => {
    harness = await createInstallHarness({ secretsDir: dir });
    lab = await createAgentLab({ stateDir: dir, hosts: [{ name: 'wu', nics: 2 }], tls: false });
    [prePatchBundle] = await Promise.all([
      bundleBeforePatches(
        dir,
        /refresh-triggers\.ts$/,
        ['patched(WATCH_ON_OWN_TASK_QUEUE_PATCH)', 'patched(WATCH_COUNTS_RESUBSCRIPTIONS_PATCH)'],
        // The watch's heartbeat timeout then.
        { 'heartbeatTimeout: WATCH_HEARTBEAT_TIMEOUT_SECONDS * 1000': `heartbeatTimeout: ${OLD_HEARTBEAT_TIMEOUT_MS}` },
      ),
      lab.waitForAgents(180_000),
    ]);
    await harness.registerInsecureHosts([hostId], lab.testbed.host('wu').address);
  }, 240_000);

  afterAll(async () => {
    await watch()
      .terminate('test done')
      .catch(() => undefined);
    for (const { worker } of workers) if (worker.getState() === 'RUNNING') worker.shutdown();
    await Promise.all(workers.map(({ running }) => running.catch(() => undefined)));
    secrets.close();
    await lab?.destroy();
    await harness?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('moves to the watches’ own queue after the upgrade, and reads the host once for the move', async () => {
    const access = { secrets, allowInsecureAgents: true };
    const { nativeConnection: connection } = harness.env;
    const { namespace } = harness.target;
    // Before the upgrade: the watch on the worker's queue (its activity then never ended without an event).
    const before = await Worker.create({
      connection,
      namespace,
      taskQueue,
      workflowBundle: { code: prePatchBundle },
      sinks: discardedInstallMetrics(),
      activities: createActivities({ store: harness.store, access, watch: { watchOnWorkerQueueMs: 24 * 3600_000 } }),
    });
    start(before);
    await startHostEventWatch(harness.client, hostId, { taskQueue });
    await expect.poll(subscribed, { timeout: 30_000, interval: 200 }).toBe(true);
    expect(await scheduledQueues()).toEqual([taskQueue]);
    expect(await patchMarkers()).toBe(0);
    // Today's activity beats within the timeout the old code scheduled it with (not its own, 30 s): still the
    // first attempt after a heartbeat sent later than one timeout from its start.
    await expect
      .poll(
        async () => {
          const pending = (await watch().describe()).raw.pendingActivities?.[0];
          const beatAfterMs =
            Number(pending?.lastHeartbeatTime?.seconds ?? 0) * 1000 - Number(pending?.lastStartedTime?.seconds ?? 0) * 1000;
          return pending?.attempt === 1 ? beatAfterMs > OLD_HEARTBEAT_TIMEOUT_MS + 1000 : `attempt ${pending?.attempt}`;
        },
        { timeout: 4 * OLD_HEARTBEAT_TIMEOUT_MS, interval: 500 },
      )
      .toBe(true);

    // The upgrade: the old worker stops, the new one takes over its queue, with the watches' worker beside it.
    before.shutdown();
    await expect.poll(() => before.getState(), { timeout: 30_000, interval: 100 }).toBe('STOPPED');
    const activities = createActivities({ store: harness.store, access, watch: { watchOnWorkerQueueMs: 1000 } });
    start(
      await Worker.create({
        connection,
        namespace,
        taskQueue,
        workflowBundle: { codePath: harness.target.workflowBundlePath },
        sinks: discardedInstallMetrics(),
        activities,
      }),
    );
    start(await createHostEventsWorker({ connection, namespace, taskQueue, activities }));

    // The lost attempt is retried on the worker's queue, ends without an event, and the next watch moves.
    await expect.poll(scheduledQueues, { timeout: 60_000, interval: 250 }).toEqual([taskQueue, hostEventsTaskQueue(taskQueue)]);
    expect(await patchMarkers()).toBe(1);
    await expect.poll(subscribed, { timeout: 30_000, interval: 200 }).toBe(true);
    expect((await watch().describe()).status.name).toBe('RUNNING');

    const status = await hostEventWatchStatus(harness.client, hostId);
    expect(status).toMatchObject({ events: 0 });
    expect(status.refreshes).toHaveLength(1);
    const refreshed = RefreshHostNetworksResult.parse(await resultOf(harness.client, status.refreshes[0]!.workflowId));
    expect(refreshed).toMatchObject({ hostId, reason: 'event', outcome: 'refreshed' });

    await watch().cancel();
    await expect.poll(async () => (await watch().describe()).status.name, { timeout: 30_000, interval: 200 }).toBe('CANCELLED');
    await recordHistory(harness.target, eventWatchWorkflowId(hostId), 'moved-after-upgrade', WATCH_HISTORIES);
  });
});
