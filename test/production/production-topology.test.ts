/**
 * hostprov as production runs it: a Temporal cluster of four server processes (history, matching, frontend,
 * worker) on PostgreSQL, its schemas set up by the server's SQL tool, the hostprov store in the same
 * PostgreSQL, two `bin/hostprov worker` processes on one task queue, and many installs at once on
 * namespaced hosts. One worker dies by kill -9 while it runs an activity; every install still completes,
 * and each host applied its networks exactly once (counted from the agents' journals).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getLogger } from '../../lib/logger';
import { PROJECT_ROOT } from '../../lib/paths';
import { freePort } from '../../lib/ports';
import { exited, stopChild } from '../../lib/process';
import type { InstallHostResult } from '../../model/install-host/contract';
import { openStore } from '../../store/open';
import type { HostNetworkingStore } from '../../store/store';
import { createAgentLab, type AgentLab } from '../../testbed/agent-lab';
import { uniqueToken } from '../../testbed/netns';
import { findPostgresBinDir, startThrowawayPostgres, type ThrowawayPostgres } from '../../testbed/postgres';
import { testbedUnavailableReason } from '../../testbed/requirements';
import { startTemporalCluster, temporalServerDir, type TemporalCluster } from '../../testbed/temporal-cluster';
import { startOrAttachInstall } from '../../workflow-client/install-host';
import { waitUntil } from '../helpers/fault-injection';
import { skipBecause } from '../helpers/skip';
import { unavailableReason as devServerUnavailable, temporalTarget } from '../helpers/temporal';

/** Hosts installed at once. */
const HOSTS = 20;
/**
 * One more host, the fence proxy of every install (not installed itself): a host being installed reboots,
 * and a proxy rebooting at the moment of a fence would fail that install for a reason of the lab's layout.
 */
const PROXY_HOST = 'fproxy';

const serverReason = existsSync(join(temporalServerDir(), 'temporal-server'))
  ? null
  : `no Temporal server build in ${temporalServerDir()} (./run setup builds it)`;
const postgresReason = findPostgresBinDir() ? null : 'no PostgreSQL server installed (./run setup installs it)';
// The dev server is not used; its global set-up also builds the workflow bundle the workers load.
const reason = devServerUnavailable() ?? (await testbedUnavailableReason()) ?? postgresReason ?? serverReason;

describe.skipIf(skipBecause(reason, 'production-topology test'))(
  `production topology: four Temporal services on PostgreSQL, two workers, ${HOSTS} installs, kill -9`,
  () => {
    const log = getLogger('production-test');
    let dir: string;
    const taskQueue = `production-${uniqueToken()}`;
    let postgres: ThrowawayPostgres;
    let cluster: TemporalCluster;
    let storeUrl: string;
    let store: HostNetworkingStore;
    let lab: AgentLab;
    let connection: Connection;
    let client: Client;
    const workers = new Map<string, ChildProcess>();

    /** `bin/hostprov worker` against the cluster and the PostgreSQL store, as the systemd unit starts it. */
    function startWorker(identity: string): ChildProcess {
      const target = temporalTarget();
      if ('unavailable' in target) throw new Error(target.unavailable);
      const dataDir = join(dir, identity);
      mkdirSync(dataDir, { recursive: true });
      const child = spawn(
        join(PROJECT_ROOT, 'bin', 'hostprov'),
        [
          'worker',
          '--address',
          cluster.address,
          '--namespace',
          cluster.namespace,
          '--no-tls',
          '--task-queue',
          taskQueue,
          '--database',
          storeUrl,
          '--data-dir',
          dataDir,
          '--secrets-dir',
          dir,
          '--identity',
          identity,
          '--workflow-bundle',
          target.workflowBundlePath,
          '--no-payload-encryption',
        ],
        { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, HOSTPROV_LOG_LEVEL: 'warn' } },
      );
      workers.set(identity, child);
      return child;
    }

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'hostprov-production-'));
      postgres = await startThrowawayPostgres({ tcpPort: await freePort(), settings: { max_connections: '200' } });
      cluster = await startTemporalCluster({ postgres, log });
      storeUrl = postgres.tcpUrl('hostprov');
      await postgres.createDatabase('hostprov');
      store = await openStore(storeUrl);
      lab = await createAgentLab({
        stateDir: join(dir, 'lab'),
        hosts: [...Array.from({ length: HOSTS }, (_, i) => ({ name: `prod${i + 1}` })), { name: PROXY_HOST }],
      });
      await lab.waitForAgents(180_000);
      connection = await Connection.connect({ address: cluster.address });
      client = new Client({ connection, namespace: cluster.namespace });
    }, 600_000);

    afterAll(async () => {
      for (const child of workers.values()) await stopChild(child, { signal: 'SIGKILL' });
      await connection?.close();
      await lab?.destroy();
      await store?.close();
      await cluster?.stop();
      await postgres?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('every install completes with exactly one apply on its host, though a worker died by kill -9 mid-way', async () => {
      const pids = cluster.services.map((s) => s.pid);
      expect(new Set(pids).size, 'four services, four processes').toBe(4);
      expect(cluster.services.map((s) => s.service).sort()).toEqual(['frontend', 'history', 'matching', 'worker']);

      startWorker('worker-a');
      startWorker('worker-b');
      const names = Array.from({ length: HOSTS }, (_, i) => `prod${i + 1}`);
      const handles = new Map<string, WorkflowHandle>();
      // installRequest(h) fences h through the host after it: the last one installed gets the proxy host.
      const proxy = lab.installRequest(names.at(-1)!).powerManagement?.proxy;
      expect(proxy?.name).toBe(PROXY_HOST);
      for (const name of names) {
        const request = lab.installRequest(name);
        // fence_ipmilan's own 2 s waits after each power command, as with a real BMC (the lab skips them,
        // LAB_FENCE_OPTIONS): every fence lasts seconds, so a worker is certainly caught in one.
        const powerManagement = { ...request.powerManagement!, proxy: proxy!, options: 'power_wait=2' };
        handles.set(name, (await startOrAttachInstall(client, { ...request, powerManagement }, { taskQueue })).handle);
      }
      const results = new Map<string, InstallHostResult>();
      const settled = Promise.all([...handles].map(async ([name, handle]) => results.set(name, await handle.result())));

      // Mid-way: some hosts have applied, not all installs are done, and a worker is fencing a host right now.
      // Which worker: a workflow's tasks stay with the worker that took its first one, and its activities come
      // back to that worker with its task's completion (eager activities), so either may be the one fencing.
      const victim = await waitUntil(
        'a worker running a fence after the first applies',
        async () => {
          if (results.size === HOSTS) throw new Error('every install finished before a worker could be killed mid-way');
          if (!names.some((n) => lab.journal(n).some((e) => e.kind === 'apply'))) return undefined;
          for (const [name, handle] of handles) {
            if (results.has(name)) continue;
            const { raw } = await handle.describe();
            // A fence takes seconds (the proxy's fence agent reboots the host through its BMC): killed now, it is
            // certainly still running, not completing in the milliseconds between this look and the kill.
            const running = (raw.pendingActivities ?? []).find(
              (a) => workers.has(a.lastWorkerIdentity ?? '') && Number(a.state) === 2 && a.activityType?.name === 'fenceHost',
            );
            if (running)
              return {
                name,
                handle,
                worker: running.lastWorkerIdentity ?? '',
                activityId: running.activityId ?? '',
                type: running.activityType?.name ?? '',
              };
          }
          return undefined;
        },
        { intervalMs: 200, timeoutMs: 300_000 },
      );
      const survivor = victim.worker === 'worker-a' ? 'worker-b' : 'worker-a';
      const killed = workers.get(victim.worker)!;
      killed.kill('SIGKILL');
      await exited(killed);
      log.info({ worker: victim.worker, host: victim.name, activity: victim.type }, 'worker killed (kill -9) while running this activity');
      expect(workers.get(survivor)!.exitCode).toBeNull();

      await settled;

      for (const name of names) {
        expect(results.get(name)?.outcome, `${name}: ${JSON.stringify(results.get(name))}`).toBe('configured');
        // Exactly one apply on each host, from its agent's own journal.
        expect(
          lab
            .journal(name)
            .filter((e) => e.kind === 'apply')
            .map((e) => e.outcome),
          name,
        ).toEqual(['ok']);
      }
      // The activity the killed worker was running finished on the other one.
      const events = (await victim.handle.fetchHistory()).events ?? [];
      const scheduled = events.find((e) => e.activityTaskScheduledEventAttributes?.activityId === victim.activityId);
      const started = events.filter((e) => String(e.activityTaskStartedEventAttributes?.scheduledEventId) === String(scheduled?.eventId));
      expect(
        started.map((e) => e.activityTaskStartedEventAttributes?.identity),
        `${victim.type} on ${victim.name}`,
      ).toEqual([survivor]);
      expect(started[0]?.activityTaskStartedEventAttributes?.attempt).toBeGreaterThanOrEqual(2);
      // The store on the same PostgreSQL holds every host's management network.
      for (const name of names) {
        const hostId = lab.installRequest(name).host.id;
        expect(await store.attachments.listByHost(hostId), name).toEqual([expect.objectContaining({ networkName: 'ovirtmgmt' })]);
      }
      // The cluster stayed whole: four processes, none exited.
      expect(cluster.exitedServices()).toEqual([]);
    }, 900_000);
  },
);
