/**
 * `hostprov worker` from the build loads the prebuilt workflow bundle (dist/workflow-bundle.js) instead of
 * bundling workflows/ at start, and runs workflows with it: an install started on its task queue reaches
 * its first activity. The suite's setup builds first (test/setup/temporal.global.ts), so bin/hostprov runs
 * the build here, as it does after `./run setup`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, describe, expect, it } from 'vitest';
import { WORKFLOW_BUNDLE_PATH } from '../../lib/build-info';
import { freePorts } from '../../lib/ports';
import { INSTALL_HOST_WORKFLOW, type InstallHostRequest } from '../../model/install-host/contract';
import { installWorkflowId } from '../../workflow-client/install-host';
import { CliRun } from '../helpers/cli-run';
import { skipBecause } from '../helpers/skip';
import { temporalTarget, unavailableReason } from '../helpers/temporal';

const fromSource = process.env.HOSTPROV_FROM_SOURCE === '1' ? 'HOSTPROV_FROM_SOURCE=1: bin/hostprov runs the sources' : null;

describe.skipIf(skipBecause(unavailableReason() ?? fromSource, 'the built worker test'))('hostprov worker from the build', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hostprov-built-worker-'));
  let run: CliRun | undefined;
  let client: Client | undefined;
  let workflowId: string | undefined;

  afterAll(async () => {
    if (workflowId)
      await client?.workflow
        .getHandle(workflowId)
        .terminate('test over')
        .catch(() => undefined);
    await client?.connection.close();
    if (run) {
      run.term();
      await run.closed;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('loads dist/workflow-bundle.js at start and runs an install with it', async () => {
    const target = temporalTarget();
    if ('unavailable' in target) throw new Error(target.unavailable);
    const taskQueue = `built-worker-${process.pid}`;
    // No --workflow-bundle: the build's own bundle is the default.
    run = new CliRun([
      'worker',
      '--address',
      target.address,
      '--namespace',
      target.namespace,
      '--task-queue',
      taskQueue,
      '--data-dir',
      join(dir, 'worker'),
      '--allow-insecure-agents',
      '--no-payload-encryption',
      '--shutdown-grace',
      '1',
    ]);
    await run.waitFor('worker polling');
    expect(run.output()).toContain('loading the prebuilt workflow bundle');
    expect(run.output()).toContain(WORKFLOW_BUNDLE_PATH);
    expect(run.output()).not.toContain('bundling workflows');

    client = new Client({ namespace: target.namespace, connection: await Connection.connect({ address: target.address }) });
    const [closedPort] = await freePorts(1);
    const request: InstallHostRequest = {
      version: 1,
      host: { id: `built-worker-${process.pid}`, name: 'nowhere', address: '127.0.0.1', clusterId: 'build-test' },
      agent: { port: closedPort!, tls: { insecure: true } },
      managerAddress: '127.0.0.2',
      clusterLevel: '4.8',
      policy: { connectivityTimeoutSeconds: 30, reboot: false, commitMode: 'auto', agentWaitSeconds: 600 },
    };
    workflowId = installWorkflowId(request.host.id);
    const handle = await client.workflow.start(INSTALL_HOST_WORKFLOW, { taskQueue, workflowId, args: [request] });
    // The workflow ran in the worker's sandbox from the prebuilt bundle and scheduled its first activity.
    await expect.poll(async () => (await handle.describe()).raw.pendingActivities?.[0]?.state, { timeout: 60_000, interval: 200 }).toBe(2); // PENDING_ACTIVITY_STATE_STARTED
  });
});
