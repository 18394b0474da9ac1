/**
 * `hostprov worker` says when its event loop did not run for 5 s or more (worker/main.ts runs
 * lib/event-loop-stalls.ts): its agent sessions' heart-beats and its activities wait meanwhile, and from the
 * agent's side a stalled worker and a broken path look alike. The worker runs as its own process against the
 * test's Temporal server; it is stopped with SIGSTOP (no CPU, as on a starved machine), continued, and asked
 * to stop with SIGTERM, which it still obeys.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STOP_EXIT_CODES } from '../../cli/signals';
import { EVENT_LOOP_STALL_MESSAGE } from '../../lib/event-loop-stalls';
import { stopChild } from '../../lib/process';
import { uniqueToken } from '../../testbed/netns';
import { stopProcessFor, waitUntil, WorkerProcesses } from '../helpers/fault-injection';
import { skipBecause } from '../helpers/skip';
import { attachToServer, unavailableReason } from '../helpers/temporal';

/** Longer than the watch's 5 s limit plus its 0.5 s tick. */
const STOP_MS = 6_500;

const reason = unavailableReason();

describe.skipIf(skipBecause(reason, 'worker process stall log'))('a worker process that does not run for a while', () => {
  let env: TestWorkflowEnvironment;
  let worker: ChildProcess | undefined;
  let stderr = '';
  const dir = mkdtempSync(join(tmpdir(), 'hostprov-worker-stall-'));

  const lines = () =>
    stderr
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { level: number; msg: string; stalledMs?: number });

  beforeAll(async () => {
    const attached = await attachToServer();
    env = attached.env;
    const { target } = attached;
    worker = new WorkerProcesses({
      address: target.address,
      namespace: target.namespace,
      taskQueue: `stall-${uniqueToken()}`,
      workflowBundlePath: target.workflowBundlePath,
      dataDir: join(dir, 'worker'),
      secretsDir: dir,
      env: { HOSTPROV_LOG_FORMAT: 'json', HOSTPROV_LOG_LEVEL: 'info' },
      stderr: 'pipe',
    }).start();
    worker.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    await waitUntil('the worker to poll', () => lines().some((l) => l.msg === 'worker polling'), { timeoutMs: 120_000 });
  }, 150_000);

  afterAll(async () => {
    if (worker) await stopChild(worker, { signal: 'SIGTERM', timeoutMs: 30_000 });
    await env?.teardown();
    rmSync(dir, { recursive: true, force: true });
  });

  it('logs a warning with how long, once, and still stops when asked', async () => {
    const pid = worker?.pid;
    if (pid === undefined) throw new Error('the worker did not start');
    const stalls = () => lines().filter((l) => l.msg.startsWith(EVENT_LOOP_STALL_MESSAGE));
    expect(stalls()).toEqual([]);
    await stopProcessFor(pid, STOP_MS);
    // It failed once in a full run (no warning within 10 s), not since: a failure says what the worker did.
    const [line, ...more] = await waitUntil('the stall warning', () => (stalls().length ? stalls() : undefined), {
      timeoutMs: 10_000,
    }).catch((err: unknown) => {
      const state =
        worker?.exitCode !== null || worker?.signalCode !== null ? `exited (${worker?.exitCode ?? worker?.signalCode})` : 'running';
      const tail = stderr.trimEnd().split('\n').slice(-15).join('\n');
      throw new Error(`${err instanceof Error ? err.message : String(err)}; the worker is ${state}; its log ends:\n${tail}`);
    });
    expect(more).toEqual([]);
    expect(line?.level).toBe(40);
    expect(line?.stalledMs).toBeGreaterThanOrEqual(STOP_MS - 600);
    expect(line?.stalledMs).toBeLessThan(STOP_MS + 3_000);

    const exited = new Promise<number | null>((resolve) => worker?.once('exit', (code) => resolve(code)));
    worker?.kill('SIGTERM');
    expect(await exited).toBe(STOP_EXIT_CODES.SIGTERM);
    expect(lines().some((l) => l.msg === 'worker stopped')).toBe(true);
    worker = undefined;
  }, 60_000);
});
