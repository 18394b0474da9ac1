/**
 * `hostprov dev` stopped by SIGINT (a terminal's Ctrl-C, to the whole process group) or SIGTERM (to the pid)
 * at each moment of its start and while it runs: it exits 130 or 143 and leaves nothing behind — no process
 * (the Temporal dev server's whole process group included), no bound port. Each moment is a line of its
 * output, awaited as it arrives.
 *
 * And `hostprov worker`: SIGTERM drains (the in-flight activity attempt is cancelled after the grace period
 * and handed back to Temporal, which schedules it again), a second SIGTERM exits without waiting for the drain.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installWorkflowId } from '../../workflow-client/install-host';
import { assertPortsFree, freePorts } from '../../lib/ports';
import { isAlive, processGroupMembers, stopProcessGroup } from '../../lib/process';
import { INSTALL_HOST_WORKFLOW, type InstallHostRequest } from '../../model/install-host/contract';
import { CliRun, processesMentioning } from '../helpers/cli-run';
import { skipBecause } from '../helpers/skip';
import { temporalTarget, unavailableReason } from '../helpers/temporal';

const SERVER_SPAWNED = 'temporal dev server spawned';
const SERVER_READY = 'temporal dev server ready';
const BUNDLING = 'bundling workflows';
const STACK_UP = 'hostprov dev stack is up';

describe('stopping hostprov dev at any moment', () => {
  // Made when the tests run, not when the file is collected (a filtered run would leave it).
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'hostprov-stop-'));
  });
  const runs: CliRun[] = [];
  const serverPids: number[] = [];
  afterAll(async () => {
    // Only for a failed test: a passing one has left nothing.
    for (const run of runs) run.kill();
    for (const pid of serverPids) await stopProcessGroup(pid, { signal: 'SIGKILL' });
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function startDev(name: string, env: Record<string, string> = {}): Promise<{ run: CliRun; dataDir: string; ports: number[] }> {
    const ports = await freePorts(5);
    const [temporalPort, uiPort, httpPort, metricsPort, codecPort] = ports.map(String) as [string, string, string, string, string];
    const dataDir = join(dir, name);
    const run = new CliRun(
      [
        'dev',
        '--data-dir',
        dataDir,
        '--temporal-port',
        temporalPort,
        '--ui-port',
        uiPort,
        '--http-port',
        httpPort,
        '--metrics-port',
        metricsPort,
        '--codec-port',
        codecPort,
      ],
      env,
    );
    runs.push(run);
    return { run, dataDir, ports };
  }

  /** Nothing of this `hostprov dev` runs or holds a port any more. */
  async function expectNothingLeft(run: CliRun, dataDir: string, ports: number[]): Promise<void> {
    const spawned = run.logLine(SERVER_SPAWNED);
    expect(spawned, run.output()).toBeDefined();
    const serverPid = spawned?.serverPid as number;
    serverPids.push(serverPid);
    expect(isAlive(run.pid)).toBe(false);
    expect(isAlive(serverPid)).toBe(false);
    expect(processGroupMembers(serverPid)).toEqual([]);
    expect(processesMentioning(dataDir)).toEqual([]);
    await expect(
      assertPortsFree(
        '127.0.0.1',
        ports.map((port) => ({ port, role: 'dev' })),
      ),
    ).resolves.toBeUndefined();
  }

  it('SIGTERM right after the server was spawned', async () => {
    const { run, dataDir, ports } = await startDev('spawned');
    await run.waitFor(SERVER_SPAWNED);
    run.term();
    expect(await run.closed).toEqual({ code: 143, signal: null });
    expect(run.output()).not.toContain(SERVER_READY);
    await expectNothingLeft(run, dataDir, ports);
  });

  it('Ctrl-C once the server is ready, before the worker exists', async () => {
    const { run, dataDir, ports } = await startDev('ready');
    await run.waitFor(SERVER_READY);
    run.ctrlC();
    expect(await run.closed).toEqual({ code: 130, signal: null });
    expect(run.output()).not.toContain('worker polling');
    await expectNothingLeft(run, dataDir, ports);
  });

  it('Ctrl-C while the workflows bundle', async () => {
    // From the sources: the build loads its prebuilt bundle, so only a source run bundles at start.
    const { run, dataDir, ports } = await startDev('bundling', { HOSTPROV_FROM_SOURCE: '1' });
    await run.waitFor(BUNDLING);
    run.ctrlC();
    expect(await run.closed).toEqual({ code: 130, signal: null });
    expect(run.output()).not.toContain(STACK_UP);
    await expectNothingLeft(run, dataDir, ports);
  });

  it('SIGTERM once the stack is up: the worker stops, then the server', async () => {
    const { run, dataDir, ports } = await startDev('up');
    await run.waitFor(STACK_UP);
    run.term();
    expect(await run.closed).toEqual({ code: 143, signal: null });
    const out = run.output();
    expect(out.indexOf('"msg":"worker stopped"')).toBeGreaterThan(-1);
    expect(out.indexOf('"msg":"worker stopped"')).toBeLessThan(out.indexOf('"msg":"temporal dev server stopped"'));
    await expectNothingLeft(run, dataDir, ports);
  });

  it('a second Ctrl-C while stopping skips the grace periods and still cleans up', async () => {
    const { run, dataDir, ports } = await startDev('twice');
    await run.waitFor(STACK_UP);
    run.ctrlC();
    await run.waitFor('"msg":"stopping: releasing');
    run.ctrlC();
    expect(await run.closed).toEqual({ code: 130, signal: null });
    expect(run.output()).toContain('second stop signal');
    await expectNothingLeft(run, dataDir, ports);
  });
});

const noTemporal = unavailableReason();

describe.skipIf(skipBecause(noTemporal, 'hostprov worker stop tests'))('stopping hostprov worker', () => {
  // Made when the tests run, not when the file is collected (a filtered run would leave it).
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'hostprov-worker-stop-'));
  });
  const runs: CliRun[] = [];
  let client: Client | undefined;
  const workflowIds: string[] = [];
  afterAll(async () => {
    for (const run of runs) run.kill();
    for (const id of workflowIds)
      await client?.workflow
        .getHandle(id)
        .terminate('test over')
        .catch(() => undefined);
    await client?.connection.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /**
   * A `hostprov worker` on its own task queue, busy with one activity that does not end by itself: the
   * install's first step polls an agent port where nothing listens.
   */
  async function busyWorker(name: string, graceSeconds: number): Promise<{ run: CliRun; workflowId: string }> {
    const target = temporalTarget();
    if ('unavailable' in target) throw new Error(target.unavailable);
    client ??= new Client({ namespace: target.namespace, connection: await Connection.connect({ address: target.address }) });
    const taskQueue = `stop-${name}-${process.pid}`;
    // --allow-insecure-agents: the endpoint below has no TLS; refused, the activity would end at once.
    // --no-payload-encryption: this test's client does not encrypt (and /etc/hostprov holds no keys).
    const run = new CliRun([
      'worker',
      '--address',
      target.address,
      '--namespace',
      target.namespace,
      '--task-queue',
      taskQueue,
      '--data-dir',
      join(dir, name),
      '--workflow-bundle',
      target.workflowBundlePath,
      '--shutdown-grace',
      String(graceSeconds),
      '--allow-insecure-agents',
      '--no-payload-encryption',
    ]);
    runs.push(run);
    await run.waitFor('worker polling');

    const [closedPort] = await freePorts(1);
    const request: InstallHostRequest = {
      version: 1,
      host: { id: `${name}-${process.pid}`, name: 'nowhere', address: '127.0.0.1', clusterId: 'stop-test' },
      agent: { port: closedPort!, tls: { insecure: true } },
      managerAddress: '127.0.0.2',
      clusterLevel: '4.8',
      policy: { connectivityTimeoutSeconds: 30, reboot: false, commitMode: 'auto', agentWaitSeconds: 600 },
    };
    const workflowId = installWorkflowId(request.host.id);
    workflowIds.push(workflowId);
    const handle = await client.workflow.start(INSTALL_HOST_WORKFLOW, { taskQueue, workflowId, args: [request] });
    // The moment: the worker has started the activity (the server says so).
    await expect.poll(async () => (await handle.describe()).raw.pendingActivities?.[0]?.state, { timeout: 30_000, interval: 200 }).toBe(2); // PENDING_ACTIVITY_STATE_STARTED
    return { run, workflowId };
  }

  it('SIGTERM drains: the in-flight attempt is cancelled after the grace period and handed back, then it exits 143', async () => {
    const { run, workflowId } = await busyWorker('drain', 1);
    run.term();
    expect(await run.closed).toEqual({ code: 143, signal: null });
    expect(run.output()).toContain('worker draining');
    expect(run.output()).toContain('"msg":"worker stopped"');
    // Handed back, not abandoned: the server already knows why the attempt ended and scheduled the next one
    // (a killed worker's attempt would only end at its heartbeat timeout); the install goes on.
    const description = await client!.workflow.getHandle(workflowId).describe();
    expect(description.status.name).toBe('RUNNING');
    const activity = description.raw.pendingActivities?.[0];
    expect(activity?.lastFailure?.applicationFailureInfo?.type, JSON.stringify(activity)).toBe('WorkerShutdown');
    expect(activity?.attempt).toBe(2);
  });

  it('a second SIGTERM exits without waiting out the grace period', async () => {
    const { run } = await busyWorker('force', 600);
    run.term();
    await run.waitFor('worker draining');
    run.term();
    // Waiting out the grace period would take 600 s; the test's own timeout is far shorter.
    expect(await run.closed).toEqual({ code: 143, signal: null });
    expect(run.output()).toContain('second stop signal');
    expect(run.output()).not.toContain('"msg":"worker stopped"');
  });
});
