/**
 * Workers as production runs them, for the benchmarks: each a separate `bin/hostprov worker` process on the
 * same task queue and the same store, started with the flags a systemd unit would give it. Separate
 * processes, unlike a worker in the benchmark's own process, have a memory of their own to measure.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import type * as Proto from '@temporalio/proto';
import { PROJECT_ROOT } from '../lib/paths';
import { exited, stopChild } from '../lib/process';

export interface WorkerProcessOptions {
  /** Temporal frontend `host:port` (plain, no TLS: the benchmark's dev server). */
  address: string;
  namespace: string;
  taskQueue: string;
  /** Shared by every worker of a run: the SQLite store file (WAL; two processes on one machine may share it). */
  database: string;
  /** Where `file:` secret references and the payload keys are. */
  secretsDir: string;
  workflowBundlePath: string;
  identity: string;
  /** This worker's own data dir. */
  dataDir: string;
  /** More `hostprov worker` flags, e.g. `--metrics-listen`. */
  extraArgs?: readonly string[];
}

export interface WorkerProcess {
  identity: string;
  pid: number;
  child: ChildProcess;
  /** Rejects when the process exits before {@link WorkerProcess.stop}: a benchmark waiting for results would wait forever. */
  unexpectedExit: Promise<never>;
  stop(): Promise<void>;
}

export class WorkerProcessExitedError extends Error {
  override readonly name = 'WorkerProcessExitedError';
  constructor(
    readonly identity: string,
    readonly code: number | null,
    readonly signal: string | null,
  ) {
    super(`worker ${identity} exited (code ${code}, signal ${signal}) while the benchmark needed it; its log is on stderr`);
  }
}

/** Starts `bin/hostprov worker` (the build when it is current, like any `bin/hostprov` start); logs at warn to our stderr. */
export function startWorkerProcess(options: WorkerProcessOptions): WorkerProcess {
  mkdirSync(options.dataDir, { recursive: true });
  const child = spawn(
    join(PROJECT_ROOT, 'bin', 'hostprov'),
    [
      'worker',
      '--address',
      options.address,
      '--namespace',
      options.namespace,
      '--no-tls',
      '--task-queue',
      options.taskQueue,
      '--database',
      options.database,
      '--data-dir',
      options.dataDir,
      '--secrets-dir',
      options.secretsDir,
      '--identity',
      options.identity,
      '--workflow-bundle',
      options.workflowBundlePath,
      // Teardown waits for the drain; the benchmark's installs are finished (or abandoned) by then.
      '--shutdown-grace',
      '2',
      ...(options.extraArgs ?? []),
    ],
    { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, HOSTPROV_LOG_LEVEL: 'warn' } },
  );
  if (child.pid === undefined) throw new Error(`could not start worker ${options.identity}`);
  let stopping = false;
  const unexpectedExit = exited(child).then(({ code, signal }) => {
    if (stopping) return new Promise<never>(() => undefined);
    throw new WorkerProcessExitedError(options.identity, code, signal);
  });
  // Nobody may be racing it yet (or any more): never an unhandled rejection.
  unexpectedExit.catch(() => undefined);
  return {
    identity: options.identity,
    pid: child.pid,
    child,
    unexpectedExit,
    stop: async () => {
      stopping = true;
      await stopChild(child, { signal: 'SIGTERM', timeoutMs: 15_000 });
    },
  };
}

// A CommonJS module whose namespace Node's ESM loader cannot name statically (as in lib/temporal/payload-codec.ts).
const { temporal } = createRequire(import.meta.url)('@temporalio/proto') as typeof Proto;
const { TaskQueueType } = temporal.api.enums.v1;

/** Identities polling `taskQueue` for workflow tasks and for activity tasks (the server's view, a few seconds fresh). */
async function pollerIdentities(client: Client, taskQueue: string): Promise<{ workflow: Set<string>; activity: Set<string> }> {
  const describe = async (taskQueueType: Proto.temporal.api.enums.v1.TaskQueueType) =>
    new Set(
      (
        await client.workflowService.describeTaskQueue({
          namespace: client.options.namespace,
          taskQueue: { name: taskQueue },
          taskQueueType,
        })
      ).pollers?.map((p) => p.identity ?? '') ?? [],
    );
  const [workflow, activity] = await Promise.all([
    describe(TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW),
    describe(TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY),
  ]);
  return { workflow, activity };
}

/** Resolves when every worker polls both kinds of task; rejects when one exits first or after `timeoutMs`. */
export async function waitForPollers(
  client: Client,
  taskQueue: string,
  workers: readonly WorkerProcess[],
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const polling = (async () => {
    for (;;) {
      const { workflow, activity } = await pollerIdentities(client, taskQueue);
      if (workers.every((w) => workflow.has(w.identity) && activity.has(w.identity))) return;
      if (Date.now() > deadline)
        throw new Error(`workers ${workers.map((w) => w.identity).join(', ')} did not all poll ${taskQueue} within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  await Promise.race([polling, ...workers.map((w) => w.unexpectedExit)]);
}
