/**
 * The hostprov worker: polls `host-provisioning`, runs install-host and its activities. One per process;
 * `hostprov worker` and `hostprov dev` both start it through `startWorker`.
 */
import { join } from 'node:path';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../activities';
import type { ConfirmLoopOptions } from '../activities/setup-networks-with-confirm';
import type { Logger } from '../lib/logger';
import { TASK_QUEUE } from '../lib/temporal/constants';
import { DEFAULT_STORE_FILE, openStore } from '../store/open';
import { WORKFLOWS_PATH } from './bundle';
import { installTemporalRuntime } from './runtime';

export interface WorkerOptions {
  address: string;
  namespace: string;
  /** @default 'host-provisioning' */
  taskQueue?: string;
  /** Holds the worker's private runtime files, and the SQLite store unless `database` is given. */
  dataDir: string;
  /** A `postgres://` URL or a SQLite file path. @default `<dataDir>/attachments.sqlite` */
  database?: string;
  /** A prebuilt bundle (tests, production); otherwise workflows/ is bundled at start (~10 s). */
  workflowBundlePath?: string;
  identity?: string;
  confirmLoop?: ConfirmLoopOptions;
  log: Logger;
}

export interface RunningWorker {
  readonly worker: Worker;
  /** Resolves when the worker has stopped (after `shutdown()` or a fatal error). */
  readonly done: Promise<void>;
  shutdown(): Promise<void>;
}

export async function startWorker(options: WorkerOptions): Promise<RunningWorker> {
  installTemporalRuntime();
  const store = await openStore(options.database ?? join(options.dataDir, DEFAULT_STORE_FILE));
  const connection = await NativeConnection.connect({ address: options.address }).catch(async (err: unknown) => {
    await store.close();
    throw err;
  });
  const worker = await Worker.create({
    connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue ?? TASK_QUEUE,
    ...(options.workflowBundlePath ? { workflowBundle: { codePath: options.workflowBundlePath } } : { workflowsPath: WORKFLOWS_PATH }),
    activities: createActivities({ store, agent: { runtimeDir: join(options.dataDir, 'worker-runtime') }, ...(options.confirmLoop ? { confirmLoop: options.confirmLoop } : {}) }),
    ...(options.identity ? { identity: options.identity } : {}),
  });
  options.log.info({ taskQueue: options.taskQueue ?? TASK_QUEUE, namespace: options.namespace, address: options.address }, 'worker polling');
  const done = worker.run().finally(async () => {
    await connection.close().catch(() => undefined);
    await store.close();
  });
  return {
    worker,
    done,
    async shutdown() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await done;
    },
  };
}
