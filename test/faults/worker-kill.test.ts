/**
 * The worker killed with kill -9 at every step of install-host (see test/faults/README.md): each time a new
 * worker takes over, the install completes, and the host applies exactly once.
 *
 * "At a step" means while that step is running on the worker that dies, for certain: every connection to
 * the host's agent and to the fence proxy waits at a gated relay, and the store's host row is locked, so the
 * test sees a step waiting there, kills the worker, starts a new one, and lets the retried step through.
 * Workers run as separate processes (`bin/hostprov worker`) on a PostgreSQL store (the store step waits on a
 * row lock the test holds, which PostgreSQL shows in pg_stat_activity).
 *
 * The short steps run as local activities (docs/performance.md#local-activities): the server has no
 * activity for them, so a connection held while nothing is pending is the next local step. Killing the
 * worker there loses its workflow task; the next worker runs again every local step of that task that had
 * not been recorded yet, and only then goes on.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InstallHostRequest, InstallHostResult } from '../../model/install-host/contract';
import { openStore } from '../../store/open';
import type { HostNetworkingStore } from '../../store/store';
import { createAgentLab, type AgentLab } from '../../testbed/agent-lab';
import { VDSM_PORT } from '../../model/vdsm/port';
import { uniqueToken } from '../../testbed/netns';
import { findPostgresBinDir, startThrowawayPostgres, type ThrowawayPostgres } from '../../testbed/postgres';
import { testbedUnavailableReason } from '../../testbed/requirements';
import { startOrAttachInstall } from '../../workflow-client/install-host';
import {
  abandonedWorkflowTasks,
  activityAttempts,
  localActivityMarkers,
  lockWaiters,
  pendingActivities,
  pendingWork,
  seedStaleAttachment,
  waitUntil,
  WorkerProcesses,
} from '../helpers/fault-injection';
import { skipBecause } from '../helpers/skip';
import { startTcpRelay, type TcpRelay } from '../helpers/tcp-relay';
import { attachToServer, unavailableReason, type TemporalTarget } from '../helpers/temporal';

const postgresReason =
  process.env.HOSTPROV_TEST_POSTGRES === 'off'
    ? 'HOSTPROV_TEST_POSTGRES=off'
    : findPostgresBinDir()
      ? null
      : 'no PostgreSQL server installed';
const reason = unavailableReason() ?? (await testbedUnavailableReason()) ?? postgresReason;

/** Holds the store's lock on one host row, as a long transaction of another writer would. */
class HostRowLock {
  private holder: pg.Client | undefined;
  constructor(private readonly url: string) {}

  async take(hostId: string): Promise<void> {
    this.holder = new pg.Client({ connectionString: this.url });
    await this.holder.connect();
    await this.holder.query('begin');
    await this.holder.query('select id from hosts where id = $1 for update', [hostId]);
  }

  get held(): boolean {
    return this.holder !== undefined;
  }

  async release(): Promise<void> {
    const holder = this.holder;
    this.holder = undefined;
    if (!holder) return;
    await holder.query('rollback');
    await holder.end();
  }
}

describe.skipIf(skipBecause(reason, 'worker kill -9 fault tests'))('worker kill -9 at every step of install-host', () => {
  let env: TestWorkflowEnvironment;
  let target: TemporalTarget;
  let client: Client;
  let postgres: ThrowawayPostgres;
  let url: string;
  let store: HostNetworkingStore;
  let lab: AgentLab;
  let workers: WorkerProcesses;
  const relays: TcpRelay[] = [];
  const locks: HostRowLock[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'hostprov-faults-kill-'));

  beforeAll(async () => {
    ({ env, target } = await attachToServer());
    client = env.client;
    postgres = await startThrowawayPostgres();
    url = await postgres.createDatabase('faults_worker_kill');
    store = await openStore(url);
    lab = await createAgentLab({ stateDir: join(dir, 'lab'), hosts: [{ name: 'chain1' }, { name: 'chain2' }, { name: 'comp1' }] });
    await lab.waitForAgents();
    workers = new WorkerProcesses({
      address: target.address,
      namespace: target.namespace,
      taskQueue: `kill-${uniqueToken()}`,
      workflowBundlePath: target.workflowBundlePath,
      dataDir: join(dir, 'worker'),
      database: url,
      secretsDir: dir,
    });
  });
  afterAll(async () => {
    await workers?.stopAll();
    for (const lock of locks) await lock.release().catch(() => undefined);
    for (const relay of relays) await relay.close();
    await lab?.destroy();
    await store?.close();
    await postgres?.stop();
    await env?.teardown();
    rmSync(dir, { recursive: true, force: true });
  });

  async function gatedRelayTo(host: string): Promise<TcpRelay> {
    const relay = await startTcpRelay({ host: lab.testbed.host(host).address, port: VDSM_PORT }, { gate: true });
    relays.push(relay);
    return relay;
  }

  it('every step: the install completes on a new worker each time, with exactly one apply on the host', async () => {
    const agentRelay = await gatedRelayTo('chain1');
    const proxyRelay = await gatedRelayTo('chain2');
    const base = lab.installRequest('chain1');
    const pm = base.powerManagement!;
    const request: InstallHostRequest = {
      ...base,
      agent: { ...base.agent, host: '127.0.0.1', port: agentRelay.port },
      powerManagement: { ...pm, proxy: { ...pm.proxy, agent: { ...pm.proxy.agent, host: '127.0.0.1', port: proxyRelay.port } } },
      // set-safe: the commit is a step of its own. The host's window outlasts a takeover (heartbeat timeout).
      policy: { connectivityTimeoutSeconds: 45, reboot: true, commitMode: 'set-safe', agentWaitSeconds: 60 },
    };
    await seedStaleAttachment(store, request.host.id);
    const lock = new HostRowLock(url);
    locks.push(lock);
    const bootBefore = await lab.testbed.bootPid('chain1');

    workers.start();
    const { handle } = await startOrAttachInstall(client, request, { taskQueue: workers.taskQueue });
    let finished: InstallHostResult | undefined;
    const result = handle.result().then((r) => (finished = r));

    const killedAt: string[] = [];
    const killed = new Set<string>();
    // What the test saw and did at each stop, for the failure message.
    const trace: string[] = [];
    let applyCallPassed = false;
    // The local steps of this install, in order (set-safe commit, reboot). The probe asks the agent first
    // (workflows/install-host.ts PROBE_ASKS_FIRST), for its capabilities and its route in one local step
    // (PROBE_READS_ROUTE_TOO): it is up, so it is not waited for before the install, and only the wait after
    // the reboot is an activity. The steps that talk to the agent are held at its
    // relay; the recording waits on the host's row lock instead. How far the running worker has come through
    // the agent's steps not yet recorded: a held connection is agent step `recorded + passed`. A workflow task
    // that times out on a slow worker is run again by that same worker, from its first unrecorded step: a new
    // task start counts from there too.
    const LOCAL_STEPS = ['probeHost', 'recordAttachments', 'setSafeNetworkConfig', 'probeCapabilities'];
    const AGENT_LOCAL_STEPS = LOCAL_STEPS.filter((type) => type !== 'recordAttachments');
    let local = { worker: 0, task: '', recorded: 0, passed: 0 };
    // The workflow tasks lost in a local step, by how many local steps had been recorded when each began.
    const tasksKilledInLocalSteps = new Set<number>();
    let markersRecorded = 0;
    const localStep = async (task: string): Promise<{ type: string; activityId: string }> => {
      const markers = await localActivityMarkers(handle);
      markersRecorded = markers.length;
      const recorded = markers.filter((type) => type !== 'recordAttachments').length;
      if (local.worker !== workers.killed || local.task !== task || local.recorded !== recorded)
        local = { worker: workers.killed, task, recorded, passed: 0 };
      const ordinal = local.recorded + local.passed;
      return { type: AGENT_LOCAL_STEPS[ordinal] ?? `unexpected local step ${ordinal}`, activityId: `local-${ordinal}` };
    };
    const localRecording = async (): Promise<{ type: string; activityId: string }> => {
      markersRecorded = (await localActivityMarkers(handle)).length;
      return { type: 'recordAttachments', activityId: 'local-record' };
    };
    for (;;) {
      const where = await waitUntil(
        'a step waiting at a relay or on the store, or the end',
        async () => {
          if (finished) return 'done';
          if (agentRelay.heldCount) return 'agent';
          if (proxyRelay.heldCount) return 'proxy';
          if (lock.held && (await lockWaiters(url)).length > 0) return 'store';
          return undefined;
        },
        { intervalMs: 50, timeoutMs: 180_000 },
      );
      if (where === 'done') break;
      const relay = where === 'proxy' ? proxyRelay : agentRelay;
      // A held step belongs to a running workflow task (a local step) or to an activity. A snapshot with
      // neither was taken as one ended and the next began: look again. A held connection nothing explains is
      // no step of this install (one a killed worker opened as it died): let it through.
      const work = await waitUntil(
        'the workflow task or activity behind the stop',
        async () => {
          const snapshot = await pendingWork(handle);
          return snapshot.activities.length > 0 || snapshot.workflowTaskStartedAt !== null ? snapshot : undefined;
        },
        { intervalMs: 50, timeoutMs: 5_000 },
      ).catch(() => undefined);
      if (!work && where !== 'store') {
        trace.push(`worker ${workers.killed} at ${where}: no workflow task or activity, passed`);
        relay.pass();
        continue;
      }
      const {
        activities: [remote],
        workflowTaskStartedAt,
      } = work ?? (await pendingWork(handle));
      const pending =
        remote ??
        (where === 'agent' ? await localStep(workflowTaskStartedAt ?? '') : where === 'store' ? await localRecording() : undefined);
      trace.push(
        `worker ${workers.killed} at ${where}: ${remote ? `activity ${remote.type}` : `local ${pending?.type ?? '?'}`}, ${markersRecorded} markers, ${JSON.stringify(local)}`,
      );
      if (!pending) {
        relay.pass();
        continue;
      }
      const passLocal = () => {
        if (!remote) local.passed += 1;
        relay.pass();
      };
      // The probe is the last step before the store step: lock the host's row now, so recording waits.
      if (pending.type === 'probeHost' && !lock.held && !killed.has(pending.activityId)) await lock.take(request.host.id);
      if (killed.has(pending.activityId)) {
        if (where === 'store') await lock.release();
        else passLocal();
        continue;
      }
      // setupNetworks: let the call through; kill once the host applied it and waits for a confirmation.
      if (pending.type === 'setupNetworksWithConfirm' && !applyCallPassed) {
        applyCallPassed = true;
        relay.pass();
        continue;
      }
      if (pending.type === 'setupNetworksWithConfirm')
        await waitUntil('the host to apply', () => lab.journal('chain1').some((e) => e.kind === 'apply'));
      await workers.killAndReplace();
      // The dead worker's held connections go with it, so the next one held is the new worker's.
      agentRelay.dropHeld();
      proxyRelay.dropHeld();
      killed.add(pending.activityId);
      if (!remote) tasksKilledInLocalSteps.add(markersRecorded);
      killedAt.push(pending.type);
      if (where === 'store') await lock.release();
    }
    await result;

    expect(finished?.outcome, JSON.stringify(finished, null, 2)).toBe('configured');
    expect(killedAt, trace.join('\n')).toEqual([
      'probeHost',
      'recordAttachments',
      'setupNetworksWithConfirm',
      'setSafeNetworkConfig',
      'fenceHost',
      'waitForAgent',
      'probeCapabilities',
    ]);
    expect(workers.killed).toBe(killedAt.length);
    // Each activity ran again on the next worker, and only there.
    const attempts = await activityAttempts(handle);
    expect(attempts.map(([type]) => type)).toEqual(['setupNetworksWithConfirm', 'fenceHost', 'waitForAgent']);
    expect(
      attempts.every(([, attempt]) => attempt === 2),
      JSON.stringify(attempts),
    ).toBe(true);
    // Each local step was recorded once, by the worker that finished its workflow task. Each workflow task
    // lost in a local step timed out on the server; the history keeps one timeout per task, not per attempt.
    expect(await localActivityMarkers(handle)).toEqual(LOCAL_STEPS);
    expect(tasksKilledInLocalSteps.size).toBe(3);
    expect(await abandonedWorkflowTasks(handle)).toBe(tasksKilledInLocalSteps.size);
    // Exactly one apply, kept (no rollback), made safe, one reboot that restored it.
    expect(lab.journal('chain1').map((e) => `${e.kind}:${e.outcome}`)).toEqual(['restore:ok', 'apply:ok', 'persist:ok', 'restore:ok']);
    expect(await lab.testbed.bootPid('chain1')).not.toBe(bootBefore);
    expect(await store.attachments.listByHost(request.host.id)).toEqual([
      expect.objectContaining({ networkName: 'ovirtmgmt', nicName: 'eth0' }),
    ]);
  }, 420_000);

  it('the compensation step: a new worker finishes it, and the store is exactly as before', async () => {
    // A failure after the apply (the BMC refuses the password) makes the install compensate.
    const base = lab.installRequest('comp1');
    const wrongPassword = join(dir, 'comp1-wrong-password');
    writeFileSync(wrongPassword, 'not-the-bmc-password', { mode: 0o600 });
    const request: InstallHostRequest = {
      ...base,
      powerManagement: { ...base.powerManagement!, passwordRef: `file:${wrongPassword}` },
      policy: { connectivityTimeoutSeconds: 30, reboot: true, commitMode: 'auto', agentWaitSeconds: 60 },
    };
    const before = await seedStaleAttachment(store, request.host.id);
    const lock = new HostRowLock(url);
    locks.push(lock);

    if (!workers.current) workers.start();
    const { handle } = await startOrAttachInstall(client, request, { taskQueue: workers.taskQueue });
    // The intent is written before the apply; from the apply on, the host's row is ours until the kill.
    await waitUntil('the host to apply', () => lab.journal('comp1').some((e) => e.kind === 'apply'));
    await lock.take(request.host.id);
    await waitUntil(
      'the compensation to wait on the store',
      async () => (await pendingActivities(handle))[0]?.type === 'compensateAttachments' && (await lockWaiters(url)).length > 0,
    );
    await workers.killAndReplace();
    await lock.release();
    const result = await handle.result();

    expect(result.outcome, JSON.stringify(result, null, 2)).toBe('failed');
    expect(result.failure?.type).toBe('FenceFailed');
    expect(result.compensation).toEqual({ status: 'done', failure: null });
    expect(await store.attachments.listByHost(request.host.id)).toEqual(before);
    const compensations = (await activityAttempts(handle)).filter(([type]) => type === 'compensateAttachments');
    expect(compensations).toEqual([['compensateAttachments', 2]]);
    expect(lab.journal('comp1').filter((e) => e.kind === 'apply')).toHaveLength(1);
  });
});
