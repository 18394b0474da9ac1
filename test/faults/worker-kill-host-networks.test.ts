/**
 * The worker killed with kill -9 at every step of a host network change (see test/faults/README.md): one
 * hostSetupNetworks change through the host's entity workflow, then the refresh after it. At each step a
 * new worker takes over; the change ends `configured`, the host applied it exactly once, and the store
 * holds what it asked for.
 *
 * The change's steps are activities: a new worker runs the one that was lost again (attempt 2). The refresh's
 * are local activities (workflows/refresh-host-networks.ts, REFRESH_STEPS_RUN_LOCALLY): a worker killed in
 * one loses the refresh's workflow task, and once the server times it out, the next worker runs the task
 * again from its first step not recorded: the steps passed before are run again and let through.
 *
 * "At a step" means while that step is running on the worker that dies, for certain:
 * - agent steps (setupNetworks with its confirm loop, setSafeNetworkConfig, Host.getCapabilities): the
 *   host's agent endpoint in the store points at a gated relay, so the step's connection waits there;
 * - store writes that lock the host row (recordAttachmentIntent, recordReportedInterfaces, recordRefresh:
 *   store/attachments.ts `lockHost`, store/hosts.ts `change`): the test holds that row with FOR UPDATE;
 * - store reads (loadHostSetupNetworksContext, loadRefreshContext: plain SELECTs, which a row lock does not
 *   stop): the test holds the `hosts` table in ACCESS EXCLUSIVE mode.
 * PostgreSQL shows the step's session waiting for the lock (pg_stat_activity). The lock for the next store
 * step is queued before the current one is released, so no step slips through between the two.
 *
 * The host's interface report is recorded before the change, so the change does not probe first: that
 * path (probe, record, load again) has the same three kinds of step as the ones caught here.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientEndpoint } from '../../activities/agent-endpoint';
import { SecretResolver } from '../../activities/secrets';
import type { HostNetworkChangeResult } from '../../model/host-networks/change';
import { reportedInterfacesFromCapabilities } from '../../model/host-networking/reported-interfaces';
import { Capabilities } from '../../model/vdsm/capabilities';
import { VDSM_PORT } from '../../model/vdsm/port';
import { openStore } from '../../store/open';
import type { HostNetworkingStore } from '../../store/store';
import { createAgentLab, type AgentLab } from '../../testbed/agent-lab';
import { uniqueToken } from '../../testbed/netns';
import { findPostgresBinDir, startThrowawayPostgres, type ThrowawayPostgres } from '../../testbed/postgres';
import { testbedUnavailableReason } from '../../testbed/requirements';
import { AgentClient } from '../../vdsm/client/client';
import { changeWorkflowId, requestHostNetworkChange } from '../../workflow-client/host-networks';
import { startOrAttachInstall } from '../../workflow-client/install-host';
import {
  abandonedWorkflowTasks,
  activityAttempts,
  localActivityMarkers,
  lockWaiters,
  pendingWork,
  waitUntil,
  WorkerProcesses,
  type PendingActivity,
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

/** Activities that talk to the host's agent (through the gated relay). */
const AGENT_STEPS = new Set(['setupNetworksWithConfirm', 'setSafeNetworkConfig', 'probeCapabilities']);

/** The refresh's local steps, in order, each recorded once as a marker when its workflow task completes. */
const REFRESH_LOCAL_STEPS = ['loadRefreshContext', 'probeCapabilities', 'recordRefresh'];

/** After a store step, the lock the next store step needs (`undefined`: an agent step comes first). */
const NEXT_STORE_LOCK: Record<string, LockKind | undefined> = {
  loadHostSetupNetworksContext: 'row', // recordAttachmentIntent follows at once
  recordReportedInterfaces: 'table', // the change ends; the refresh child starts with loadRefreshContext
};

type LockKind = 'row' | 'table';

/** One session of the test's own holding a lock on the `hosts` table or on one host row. */
class StoreLock {
  private constructor(
    private readonly client: pg.Client,
    readonly pid: number,
    readonly kind: LockKind,
  ) {}

  /** Opens a session and asks for the lock; `granted` resolves once it holds it (it may queue first). */
  static async request(url: string, kind: LockKind, hostId: string): Promise<{ lock: StoreLock; granted: Promise<void> }> {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const { rows } = await client.query<{ pid: number }>('select pg_backend_pid() as pid');
    await client.query('begin');
    const lock = new StoreLock(client, Number(rows[0]?.pid), kind);
    const granted = (
      kind === 'table'
        ? client.query('lock table hosts in access exclusive mode')
        : client.query('select id from hosts where id = $1 for update', [hostId])
    ).then(() => undefined);
    return { lock, granted };
  }

  async release(): Promise<void> {
    await this.client.query('rollback');
    await this.client.end();
  }
}

describe.skipIf(skipBecause(reason, 'worker kill -9 fault tests (host networks)'))(
  'worker kill -9 at every step of a host network change',
  () => {
    let env: TestWorkflowEnvironment;
    let target: TemporalTarget;
    let client: Client;
    let postgres: ThrowawayPostgres;
    let url: string;
    let store: HostNetworkingStore;
    let lab: AgentLab;
    let workers: WorkerProcesses;
    let relay: TcpRelay | undefined;
    const locks = new Set<StoreLock>();
    const dir = mkdtempSync(join(tmpdir(), 'hostprov-faults-kill-hn-'));

    beforeAll(async () => {
      ({ env, target } = await attachToServer());
      client = env.client;
      postgres = await startThrowawayPostgres();
      url = await postgres.createDatabase('faults_worker_kill_hn');
      store = await openStore(url);
      lab = await createAgentLab({ stateDir: join(dir, 'lab'), hosts: [{ name: 'hnkill', nics: 2 }] });
      await lab.waitForAgents();
      workers = new WorkerProcesses({
        address: target.address,
        namespace: target.namespace,
        taskQueue: `kill-hn-${uniqueToken()}`,
        workflowBundlePath: target.workflowBundlePath,
        dataDir: join(dir, 'worker'),
        database: url,
        secretsDir: dir,
      });
    }, 120_000);
    afterAll(async () => {
      await workers?.stopAll();
      for (const lock of locks) await lock.release().catch(() => undefined);
      await relay?.close();
      await lab?.destroy();
      await store?.close();
      await postgres?.stop();
      await env?.teardown();
      rmSync(dir, { recursive: true, force: true });
    });

    async function takeLock(kind: LockKind, hostId: string): Promise<{ lock: StoreLock; granted: Promise<void> }> {
      const asked = await StoreLock.request(url, kind, hostId);
      locks.add(asked.lock);
      return asked;
    }

    async function releaseLock(lock: StoreLock): Promise<void> {
      locks.delete(lock);
      await lock.release();
    }

    it('every step of setupNetworks and of the refresh after it: configured on the tenth worker, one apply', async () => {
      const name = 'hnkill';
      const address = lab.testbed.host(name).address;
      const subnet = address.split('.').slice(0, 3).join('.');

      // The host as the API knows it: ovirtmgmt from install-host (no reboot), in a cluster with netkill.
      const management = await store.networks.create({ name: 'ovirtmgmt' });
      const netkill = await store.networks.create({ name: 'netkill', vmNetwork: false });
      const cluster = await store.clusters.create({ name: 'lab', compatibilityVersion: '4.8', managementNetworkId: management.id });
      await store.clusters.attachNetwork(cluster.id, netkill.id);
      workers.start();
      const install = lab.installRequest(name, {
        policy: { connectivityTimeoutSeconds: 30, reboot: false, commitMode: 'set-safe', agentWaitSeconds: 60 },
      });
      const installed = await (await startOrAttachInstall(client, install, { taskQueue: workers.taskQueue })).handle.result();
      expect(installed.outcome, JSON.stringify(installed.steps)).toBe('configured');
      const hostId = install.host.id;
      const agentClient = await AgentClient.connect(
        clientEndpoint(
          { ...install.agent, host: address, port: install.agent.port ?? VDSM_PORT },
          { secrets: new SecretResolver({ secretsDir: dir }) },
        ),
      );
      try {
        await store.hosts.recordReportedInterfaces(
          hostId,
          reportedInterfacesFromCapabilities(Capabilities.parse(await agentClient.call('Host.getCapabilities', {}))),
        );
      } finally {
        await agentClient.close();
      }
      relay = await startTcpRelay({ host: address, port: VDSM_PORT }, { gate: true });
      const agentRelay = relay;
      await store.hosts.update(hostId, {
        clusterId: cluster.id,
        agentEndpoint: { ...install.agent, host: '127.0.0.1', port: agentRelay.port },
      });
      const journalBefore = lab.journal(name).length;

      // The change's first step reads the store: hold the hosts table before asking.
      let held: StoreLock | undefined = (await takeLock('table', hostId)).lock;
      const changeId = `kill-${uniqueToken()}`;
      const changeWorkflow = changeWorkflowId(hostId, changeId);
      const refreshWorkflow = `${changeWorkflow}/refresh`;
      let finished: Extract<HostNetworkChangeResult, { kind: 'setup-networks' }> | undefined;
      const answer = requestHostNetworkChange(
        client,
        {
          kind: 'setup-networks',
          request: {
            version: 1,
            hostId,
            attachments: [
              {
                networkName: 'netkill',
                nicName: 'eth1',
                ipConfiguration: { ipv4: { bootProtocol: 'STATIC_IP', address: `${subnet}.71`, netmask: '255.255.255.0' } },
              },
            ],
            // The host's window outlasts a takeover (heartbeat timeout, then a new attempt).
            options: { connectivityTimeoutSeconds: 45 },
          },
        },
        { taskQueue: workers.taskQueue, changeId },
      ).then((r) => (finished = r));
      answer.catch(() => undefined);

      /**
       * The step running now: the change's activity, or else, while the refresh child's workflow task runs, its
       * local step, told apart by where it waits: the agent's relay (the probe), or our lock on the `hosts`
       * table (the context read) or on the host's row (the recording). The refresh's steps keep their key
       * across the workflow task's runs.
       */
      async function running(): Promise<(PendingActivity & { key: string }) | undefined> {
        try {
          const [pending] = (await pendingWork(client.workflow.getHandle(changeWorkflow))).activities;
          if (pending) return { ...pending, key: `${changeWorkflow}#${pending.activityId}` };
        } catch (err) {
          if (!(err instanceof WorkflowNotFoundError)) throw err;
        }
        try {
          const { workflowTaskStartedAt } = await pendingWork(client.workflow.getHandle(refreshWorkflow));
          if (workflowTaskStartedAt === null) return undefined;
          const type = agentRelay.heldCount
            ? 'probeCapabilities'
            : held?.kind === 'table'
              ? 'loadRefreshContext'
              : held?.kind === 'row'
                ? 'recordRefresh'
                : undefined;
          if (!type) return undefined;
          return {
            activityId: `local-${type}`,
            type,
            attempt: 1,
            state: 'STARTED',
            lastFailure: '',
            key: `${refreshWorkflow}#local-${type}`,
          };
        } catch (err) {
          if (!(err instanceof WorkflowNotFoundError)) throw err;
        }
        return undefined;
      }
      /** The markers the refresh had recorded at each kill in one of its local steps: one lost workflow task per value. */
      const markersAtLocalKills = new Set<number>();
      const noteLocalKill = async (step: PendingActivity): Promise<void> => {
        if (step.activityId.startsWith('local-'))
          markersAtLocalKills.add((await localActivityMarkers(client.workflow.getHandle(refreshWorkflow))).length);
      };
      const othersWaiting = async (): Promise<number[]> => (await lockWaiters(url)).filter((pid) => ![...locks].some((l) => l.pid === pid));

      const killedAt: string[] = [];
      const killed = new Set<string>();
      let applyCallPassed = false;
      for (;;) {
        const caught = await waitUntil(
          'a step waiting at the relay or on the store, or the end',
          async () => {
            if (finished) return { where: 'done' as const };
            const step = await running();
            if (!step || step.state !== 'STARTED') return undefined;
            if (AGENT_STEPS.has(step.type)) return agentRelay.heldCount ? { where: 'agent' as const, step } : undefined;
            if (killed.has(step.key) || !held) return undefined;
            return (await othersWaiting()).length ? { where: 'store' as const, step } : undefined;
          },
          { intervalMs: 50, timeoutMs: 120_000 },
        );
        if (caught.where === 'done') break;
        const { step } = caught;
        if (caught.where === 'agent') {
          if (killed.has(step.key)) {
            agentRelay.pass();
            continue;
          }
          // setupNetworks: let the call through; kill once the host applied it and waits for a confirmation.
          if (step.type === 'setupNetworksWithConfirm' && !applyCallPassed) {
            applyCallPassed = true;
            agentRelay.pass();
            continue;
          }
          if (step.type === 'setupNetworksWithConfirm')
            await waitUntil('the host to apply', () =>
              lab
                .journal(name)
                .slice(journalBefore)
                .some((e) => e.kind === 'apply'),
            );
          // A probe comes right before a store write that locks the host row: hold that row now.
          if (step.type === 'probeCapabilities' && !held) held = (await takeLock('row', hostId)).lock;
          await noteLocalKill(step);
          await workers.killAndReplace();
          killed.add(step.key);
          killedAt.push(step.type);
          continue;
        }

        // A store step waits on our lock: kill its worker, then let the retry through, holding the next lock.
        const waitingAtKill = await othersWaiting();
        await noteLocalKill(step);
        await workers.killAndReplace();
        killed.add(step.key);
        killedAt.push(step.type);
        const current = held!;
        const next = NEXT_STORE_LOCK[step.type];
        held = undefined;
        if (next === 'table') {
          // The retried write must be queued before the table lock, or it would wait behind it for good.
          await waitUntil('the retried step to wait on the row', async () => {
            const retry = await running();
            return (
              retry?.key === step.key &&
              retry.attempt > 1 &&
              retry.state === 'STARTED' &&
              (await othersWaiting()).some((pid) => !waitingAtKill.includes(pid))
            );
          });
        }
        if (next) {
          const asked = await takeLock(next, hostId);
          await waitUntil('our next lock to queue', async () => (await lockWaiters(url)).includes(asked.lock.pid));
          held = asked.lock;
          await releaseLock(current);
          await asked.granted;
        } else {
          await releaseLock(current);
        }
      }
      await answer;

      const result = finished!.result;
      expect(result.outcome, JSON.stringify(result, null, 2)).toBe('configured');
      expect(killedAt).toEqual([
        'loadHostSetupNetworksContext',
        'recordAttachmentIntent',
        'setupNetworksWithConfirm',
        'setSafeNetworkConfig',
        'probeCapabilities',
        'recordReportedInterfaces',
        'loadRefreshContext',
        'probeCapabilities',
        'recordRefresh',
      ]);
      expect(workers.killed).toBe(killedAt.length);
      // Each of the change's activities ran again on the next worker, and only there.
      const attempts = await activityAttempts(client.workflow.getHandle(changeWorkflow));
      expect(attempts.map(([type]) => type)).toEqual(killedAt.slice(0, -REFRESH_LOCAL_STEPS.length));
      expect(
        attempts.every(([, attempt]) => attempt === 2),
        JSON.stringify(attempts),
      ).toBe(true);
      // The refresh ran no activity; each local step was recorded once, by the worker that finished the task.
      // Each workflow task lost in a local step timed out on the server, once per task, not per attempt.
      const refreshHandle = client.workflow.getHandle(refreshWorkflow);
      expect(await activityAttempts(refreshHandle)).toEqual([]);
      expect(await localActivityMarkers(refreshHandle)).toEqual(REFRESH_LOCAL_STEPS);
      expect(await abandonedWorkflowTasks(refreshHandle)).toBe(markersAtLocalKills.size);
      expect(result.steps.map((s) => `${s.name}:${s.status}`)).toEqual([
        'load-context:ok',
        'validate:ok',
        'record-intent:ok',
        'setup-networks:ok',
        'commit:ok',
        'refresh:ok',
        'refresh-record:ok',
      ]);
      // Exactly one apply for the change, kept (no rollback) and made safe.
      expect(
        lab
          .journal(name)
          .slice(journalBefore)
          .map((e) => `${e.kind}:${e.outcome}`),
      ).toEqual(['apply:ok', 'persist:ok']);
      // The rows: netkill on eth1 with its static address, beside ovirtmgmt; the host's report shows it.
      const rows = await store.attachments.listByHost(hostId);
      expect(rows.map((r) => `${r.networkName}@${r.nicName}`).sort()).toEqual(['netkill@eth1', 'ovirtmgmt@eth0']);
      expect(rows.find((r) => r.networkName === 'netkill')?.ipConfiguration.ipv4).toMatchObject({
        bootProtocol: 'STATIC_IP',
        address: `${subnet}.71`,
        netmask: '255.255.255.0',
      });
      const host = await store.hosts.get(hostId);
      expect(host?.reportedInterfaces?.networks.map((n) => n.name)).toContain('netkill');
    }, 240_000);
  },
);
