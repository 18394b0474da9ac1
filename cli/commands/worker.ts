/** `hostprov worker`: a worker against an existing Temporal server (production, or a second worker in dev). */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { getLogger } from '../../lib/logger';
import { DEFAULT_SECRET_ENV_PREFIX, DEFAULT_SECRETS_DIR } from '../../activities/secrets';
import { DEFAULT_DATA_DIR } from '../../lib/paths';
import { DEFAULT_NAMESPACE, TASK_QUEUE } from '../../lib/temporal/constants';
import { startWorker } from '../../worker/main';
import { secretEnvPrefixOption } from '../flags';
import { waitForStopSignal } from '../signals';

const WorkerFlags = z.object({
  address: z.string().regex(/^[^:\s]+:\d+$/, 'expected host:port'),
  namespace: z.string().min(1),
  taskQueue: z.string().min(1),
  dataDir: z.string().min(1),
  workflowBundle: z.string().optional(),
  identity: z.string().optional(),
  secretsDir: z.string().min(1),
  secretEnvPrefix: secretEnvPrefixOption,
  allowInsecureAgents: z.boolean().default(false),
});

export function register(program: Command): void {
  program
    .command('worker')
    .description(`Run a worker on task queue "${TASK_QUEUE}" against an existing Temporal server`)
    .option('--address <host:port>', 'Temporal frontend', '127.0.0.1:7233')
    .option('--namespace <ns>', 'Temporal namespace', DEFAULT_NAMESPACE)
    .option('--task-queue <name>', 'task queue', TASK_QUEUE)
    .option('--data-dir <dir>', 'attachment store', `${DEFAULT_DATA_DIR}/worker`)
    .option('--workflow-bundle <file>', 'prebuilt workflow bundle (skips bundling at start)')
    .option('--identity <name>', 'worker identity shown in the Web UI')
    .option('--secrets-dir <dir>', 'file: secret references must point inside this directory', DEFAULT_SECRETS_DIR)
    .option('--secret-env-prefix <prefix>', 'env: secret references must name a variable with this prefix', DEFAULT_SECRET_ENV_PREFIX)
    .option('--allow-insecure-agents', 'accept agent endpoints without TLS (tls: {insecure: true}); for labs only')
    .action(async (raw: Record<string, unknown>) => {
      const flags = WorkerFlags.parse(raw);
      const worker = await startWorker({
        address: flags.address,
        namespace: flags.namespace,
        taskQueue: flags.taskQueue,
        dataDir: resolve(flags.dataDir),
        ...(flags.workflowBundle ? { workflowBundlePath: resolve(flags.workflowBundle) } : {}),
        ...(flags.identity ? { identity: flags.identity } : {}),
        secrets: { secretsDir: resolve(flags.secretsDir), envPrefix: flags.secretEnvPrefix },
        allowInsecureAgents: flags.allowInsecureAgents,
        log: getLogger('worker'),
      });
      await Promise.race([waitForStopSignal(), worker.done]);
      await worker.shutdown();
    });
}
