/**
 * The Temporal dev server killed (kill -9) and restarted on its SQLite file in the middle of an install
 * (see test/faults/README.md): the install completes, with exactly one apply on the host.
 *
 * The test runs its own dev server (not the run's shared one, which other files use) with its data in a
 * file, and a worker process. The server dies at the most delicate moment: the host has applied the
 * change and waits for a confirmation, which a gated relay holds back until the server is up again.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getLogger } from '../../lib/logger';
import type { InstallHostResult } from '../../model/install-host/contract';
import { freePorts } from '../../lib/ports';
import { exited } from '../../lib/process';
import { startDevServer, type DevServerOptions, type RunningDevServer } from '../../lib/temporal/dev-server';
import { createAgentLab, type AgentLab } from '../../testbed/agent-lab';
import { VDSM_PORT } from '../../model/vdsm/port';
import { uniqueToken } from '../../testbed/netns';
import { testbedUnavailableReason } from '../../testbed/requirements';
import { startOrAttachInstall } from '../../workflow-client/install-host';
import { pendingActivities, waitUntil, WorkerProcesses } from '../helpers/fault-injection';
import { skipBecause } from '../helpers/skip';
import { startTcpRelay, type TcpRelay } from '../helpers/tcp-relay';
import { temporalTarget, unavailableReason } from '../helpers/temporal';

const reason = unavailableReason() ?? (await testbedUnavailableReason());

describe.skipIf(skipBecause(reason, 'Temporal server restart fault test'))(
  'the Temporal server killed and restarted in the middle of an install',
  () => {
    const log = getLogger('faults-temporal-restart');
    const dir = mkdtempSync(join(tmpdir(), 'hostprov-faults-temporal-'));
    let serverOptions: DevServerOptions;
    let server: RunningDevServer | undefined;
    let lab: AgentLab;
    let relay: TcpRelay;
    let workers: WorkerProcesses;

    beforeAll(async () => {
      const [port, httpPort, metricsPort] = (await freePorts(3)) as [number, number, number];
      serverOptions = { dataDir: join(dir, 'temporal'), port, httpPort, metricsPort, uiPort: null };
      server = await startDevServer(serverOptions, log);
      lab = await createAgentLab({ stateDir: join(dir, 'lab'), hosts: [{ name: 'restart1' }] });
      await lab.waitForAgents();
      relay = await startTcpRelay({ host: lab.testbed.host('restart1').address, port: VDSM_PORT }, { gate: true });
      const target = temporalTarget();
      if ('unavailable' in target) throw new Error(target.unavailable);
      workers = new WorkerProcesses({
        address: server.address,
        namespace: server.namespace,
        taskQueue: `restart-${uniqueToken()}`,
        workflowBundlePath: target.workflowBundlePath,
        dataDir: join(dir, 'worker'),
        secretsDir: dir,
      });
    });
    afterAll(async () => {
      await workers?.stopAll();
      await relay?.close();
      await lab?.destroy();
      await server?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    async function connect(address: string): Promise<{ client: Client; close: () => Promise<void> }> {
      const connection = await Connection.connect({ address });
      return { client: new Client({ connection }), close: () => connection.close() };
    }

    it('the install completes after the restart, and the host applied once', async () => {
      if (!server) throw new Error('no server');
      workers.start();
      const base = lab.installRequest('restart1');
      const request = {
        ...base,
        agent: { ...base.agent, host: '127.0.0.1', port: relay.port },
        policy: { connectivityTimeoutSeconds: 45, reboot: false, commitMode: 'auto' as const, agentWaitSeconds: 30 },
      };
      const first = await connect(server.address);
      const { workflowId } = await startOrAttachInstall(first.client, request, { taskQueue: workers.taskQueue });
      const handle = first.client.workflow.getHandle(workflowId);
      // Every connection to the host waits at the relay: let them through up to the setupNetworks call; the
      // next is a confirmation, held while the server goes down and comes back.
      let callPassed = false;
      for (;;) {
        await relay.nextHeld();
        const [pending] = await pendingActivities(handle);
        if (pending?.type === 'setupNetworksWithConfirm' && callPassed) break;
        if (pending?.type === 'setupNetworksWithConfirm') callPassed = true;
        relay.pass();
      }
      await waitUntil('the host to apply', () => lab.journal('restart1').some((e) => e.kind === 'apply'));
      await first.close();

      // kill -9 of the whole server (its process group), then the same server on the same file and ports.
      process.kill(-server.pid, 'SIGKILL');
      await exited(server.process);
      server = await startDevServer(serverOptions, log);
      relay.release();

      const second = await connect(server.address);
      try {
        const result = (await second.client.workflow.getHandle(workflowId).result()) as InstallHostResult;
        expect(result.outcome, JSON.stringify(result, null, 2)).toBe('configured');
        expect(result.steps.find((s) => s.name === 'setup-networks')?.status).toBe('ok');
        expect(lab.journal('restart1').map((e) => `${e.kind}:${e.outcome}`)).toEqual(['restore:ok', 'apply:ok', 'persist:ok']);
        expect(workers.killed).toBe(0);
      } finally {
        await second.close();
      }
    });
  },
);
