/**
 * workflows/saga.ts on its own, inside a real workflow (test/workflows/saga-probe/) on the run's dev server:
 * compensations run newest first from one place, a failing one does not stop the older ones and is
 * reported rather than thrown, success drops them, and a cancelled workflow still runs them all before it
 * ends cancelled.
 */
import { fileURLToPath } from 'node:url';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueToken } from '../../testbed/netns';
import { installTemporalRuntime } from '../../worker/runtime';
import { skipBecause } from '../helpers/skip';
import { attachToServer, unavailableReason } from '../helpers/temporal';
import { ranQuery, type sagaProbe, type SagaScript } from './saga-probe/workflows';

describe.skipIf(skipBecause(unavailableReason(), 'saga helper workflow tests'))('the saga helper (workflows/saga.ts)', () => {
  let env: TestWorkflowEnvironment;
  let worker: Worker;
  let running: Promise<void>;
  const taskQueue = `saga-helper-${uniqueToken()}`;

  beforeAll(async () => {
    installTemporalRuntime();
    let namespace: string;
    ({
      env,
      target: { namespace },
    } = await attachToServer());
    const { code } = await bundleWorkflowCode({
      workflowsPath: fileURLToPath(new URL('./saga-probe/workflows.ts', import.meta.url)),
      logger: {
        log: () => undefined,
        trace: () => undefined,
        debug: () => undefined,
        info: () => undefined,
        warn: () => undefined,
        error: () => undefined,
      },
    });
    worker = await Worker.create({ connection: env.nativeConnection, namespace, taskQueue, workflowBundle: { code } });
    running = worker.run();
  });
  afterAll(async () => {
    if (worker?.getState() === 'RUNNING') worker.shutdown();
    await running?.catch(() => undefined);
    await env?.teardown();
  });

  const start = (script: SagaScript) =>
    env.client.workflow.start<typeof sagaProbe>('sagaProbe', { taskQueue, workflowId: `saga-${uniqueToken()}`, args: [script] });
  const three = (fails?: 'recorded' | 'thrown') => [{ name: 'first' }, { name: 'second', ...(fails ? { fails } : {}) }, { name: 'third' }];

  it('success: the compensations are dropped, none runs', async () => {
    const handle = await start({ compensations: three(), end: 'success' });
    expect(await handle.result()).toEqual({ outcome: 'configured', failure: null, compensation: null });
    expect(await handle.query(ranQuery)).toEqual([]);
  });

  it('a stop: its outcome and failure, and every compensation, newest first, told why', async () => {
    const handle = await start({ compensations: three(), end: 'stop' });
    expect(await handle.result()).toEqual({
      outcome: 'rolled-back',
      failure: { type: 'ConnectivityCheckFailed', message: 'host rolled back' },
      compensation: { status: 'done', failure: null },
    });
    expect(await handle.query(ranQuery)).toEqual([
      'third (ConnectivityCheckFailed)',
      'second (ConnectivityCheckFailed)',
      'first (ConnectivityCheckFailed)',
    ]);
  });

  it('an error: the failed outcome; a failing compensation is reported and the older ones still run', async () => {
    const handle = await start({ compensations: three('recorded'), end: 'error' });
    expect(await handle.result()).toEqual({
      outcome: 'failed',
      failure: { type: 'Error', message: 'a step failed' },
      compensation: { status: 'failed', failure: { type: 'CompensationFailed', message: 'second failed recorded' } },
    });
    expect(await handle.query(ranQuery)).toEqual(['third (Error)', 'second (Error)', 'first (Error)']);
  });

  it('nothing registered: no compensation to report', async () => {
    const handle = await start({ compensations: [], end: 'stop' });
    expect((await handle.result()).compensation).toBeNull();
  });

  it('a workflow that must not record it gets the failed compensation thrown', async () => {
    const handle = await start({ compensations: three('thrown'), end: 'error' });
    await expect(handle.result()).rejects.toMatchObject({ cause: { message: 'second failed thrown' } });
    expect(await handle.query(ranQuery)).toEqual(['third (Error)', 'second (Error)']);
  });

  it('a cancelled workflow runs every compensation (timers and all), then ends cancelled', async () => {
    const handle = await start({ compensations: three(), end: 'wait-for-cancel' });
    await handle.query(ranQuery);
    await handle.cancel();
    await expect(handle.result()).rejects.toThrow(/cancelled/i);
    expect((await handle.describe()).status.name).toBe('CANCELLED');
    expect(await handle.query(ranQuery)).toEqual(['third (CancelledFailure)', 'second (CancelledFailure)', 'first (CancelledFailure)']);
  });
});
