/**
 * The hostprov worker: polls `host-provisioning`, runs install-host and its activities. One per process;
 * `hostprov worker` and `hostprov dev` both start it through `startWorker`.
 */
import { join } from 'node:path';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../activities';
import { SecretResolver, type SecretPolicy } from '../activities/secrets';
import type { ConfirmLoopOptions } from '../activities/setup-networks-with-confirm';
import type { Logger } from '../lib/logger';
import { TASK_QUEUE } from '../lib/temporal/constants';
import { openSqliteAttachmentStore } from '../store/sqlite-attachment-store';
import { WORKFLOWS_PATH } from './bundle';
import { installTemporalRuntime } from './runtime';

export interface WorkerOptions {
  address: string;
  namespace: string;
  /** @default 'host-provisioning' */
  taskQueue?: string;
  /** Holds `attachments.sqlite`. */
  dataDir: string;
  /** Where secret references may point (activities/secrets.ts). @default { secretsDir: '/etc/hostprov', envPrefix: 'HOSTPROV_SECRET_' } */
  secrets?: Pick<SecretPolicy, 'secretsDir' | 'envPrefix'>;
  /** Accept agent endpoints without TLS (dev stack, demo, tests). @default false */
  allowInsecureAgents?: boolean;
  /** A prebuilt bundle (tests, production); otherwise workflows/ is bundled at start (~10 s). */
  workflowBundlePath?: string;
  identity?: string;
  confirmLoop?: ConfirmLoopOptions;
  log: Logger;
}

export interface RunningWorker {
  readonly worker: Worker;
  /** The worker's secret references; the files it wrote for them are removed when the worker stops. */
  readonly secrets: SecretResolver;
  /** Resolves when the worker has stopped (after `shutdown()` or a fatal error). */
  readonly done: Promise<void>;
  shutdown(): Promise<void>;
}

export async function startWorker(options: WorkerOptions): Promise<RunningWorker> {
  installTemporalRuntime();
  const secrets = new SecretResolver(options.secrets);
  const allowInsecureAgents = options.allowInsecureAgents ?? false;
  const store = openSqliteAttachmentStore(join(options.dataDir, 'attachments.sqlite'));
  const connection = await NativeConnection.connect({ address: options.address });
  const worker = await Worker.create({
    connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue ?? TASK_QUEUE,
    ...(options.workflowBundlePath ? { workflowBundle: { codePath: options.workflowBundlePath } } : { workflowsPath: WORKFLOWS_PATH }),
    activities: createActivities({ store, access: { secrets, allowInsecureAgents }, ...(options.confirmLoop ? { confirmLoop: options.confirmLoop } : {}) }),
    ...(options.identity ? { identity: options.identity } : {}),
  });
  options.log.info(
    { taskQueue: options.taskQueue ?? TASK_QUEUE, namespace: options.namespace, address: options.address, secretsDir: secrets.secretsDir, secretEnvPrefix: secrets.envPrefix, allowInsecureAgents },
    'worker polling',
  );
  const done = worker.run().finally(async () => {
    secrets.close();
    await connection.close().catch(() => undefined);
    await store.close();
  });
  return {
    worker,
    secrets,
    done,
    async shutdown() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await done;
    },
  };
}
