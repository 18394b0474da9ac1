/** `hostprov worker`: a worker against an existing Temporal server (production, or a second worker in dev). */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { getLogger } from '../../lib/logger';
import { DEFAULT_DATA_DIR } from '../../lib/paths';
import { DEFAULT_NAMESPACE, TASK_QUEUE } from '../../lib/temporal/constants';
import { startWorker } from '../../worker/main';
import { waitForStopSignal } from '../signals';

const WorkerFlags = z.object({
  address: z.string().regex(/^[^:\s]+:\d+$/, 'expected host:port'),
  namespace: z.string().min(1),
  taskQueue: z.string().min(1),
  dataDir: z.string().min(1),
  database: z.string().min(1).optional(),
  workflowBundle: z.string().optional(),
  identity: z.string().optional(),
});

export function register(program: Command): void {
  program
    .command('worker')
    .description(`Run a worker on task queue "${TASK_QUEUE}" against an existing Temporal server`)
    .option('--address <host:port>', 'Temporal frontend', '127.0.0.1:7233')
    .option('--namespace <ns>', 'Temporal namespace', DEFAULT_NAMESPACE)
    .option('--task-queue <name>', 'task queue', TASK_QUEUE)
    .option('--data-dir <dir>', 'attachment store and worker runtime files', `${DEFAULT_DATA_DIR}/worker`)
    .option('--database <url|file>', 'the store: a postgres:// URL (password from PGPASSWORD or ~/.pgpass) or a SQLite file; default <data-dir>/attachments.sqlite')
    .option('--workflow-bundle <file>', 'prebuilt workflow bundle (skips bundling at start)')
    .option('--identity <name>', 'worker identity shown in the Web UI')
    .action(async (raw: Record<string, unknown>) => {
      const flags = WorkerFlags.parse(raw);
      const worker = await startWorker({
        address: flags.address,
        namespace: flags.namespace,
        taskQueue: flags.taskQueue,
        dataDir: resolve(flags.dataDir),
        ...(flags.database ? { database: flags.database } : {}),
        ...(flags.workflowBundle ? { workflowBundlePath: resolve(flags.workflowBundle) } : {}),
        ...(flags.identity ? { identity: flags.identity } : {}),
        log: getLogger('worker'),
      });
      await Promise.race([waitForStopSignal(), worker.done]);
      await worker.shutdown();
    });
}
