/**
 * `hostprov worker`: a worker against an existing Temporal server (production, or a second worker in dev).
 * SIGTERM or Ctrl-C drains it (no new tasks; in-flight activities get --shutdown-grace, then are cancelled and
 * retried elsewhere) and exits 143 or 130; a second signal exits without waiting for the drain.
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { getLogger } from '../../lib/logger';
import { MetricsListen } from '../../lib/metrics/endpoint';
import { DEFAULT_SECRET_ENV_PREFIX, DEFAULT_SECRETS_DIR } from '../../activities/secrets';
import { DEFAULT_DATA_DIR } from '../../lib/paths';
import { TASK_QUEUE } from '../../lib/temporal/constants';
import { DEFAULT_MAX_HOST_EVENT_WATCHES } from '../../worker/host-events-worker';
import { startWorker } from '../../worker/main';
import { ConfigNumber, ConfigString, withConfigFile } from '../config-file';
import { secretEnvPrefixOption } from '../flags';
import { installStopHandling } from '../signals';
import { temporalConfigFromFlags, withPayloadKeyOptions, withTemporalOptions } from '../temporal-flags';

const WorkerFlags = z.object({
  taskQueue: z.string().min(1),
  dataDir: z.string().min(1),
  database: z.string().min(1).optional(),
  workflowBundle: z.string().optional(),
  identity: z.string().optional(),
  shutdownGrace: z.coerce
    .number({ message: '--shutdown-grace must be a number of seconds' })
    .int('--shutdown-grace must be a whole number of seconds')
    .min(0, '--shutdown-grace must be at least 0')
    .max(3600, '--shutdown-grace must be at most 3600'),
  agentConnectionIdle: z.coerce
    .number({ message: '--agent-connection-idle must be a number of milliseconds' })
    .int('--agent-connection-idle must be a whole number of milliseconds')
    .min(0, '--agent-connection-idle must be at least 0')
    .max(60_000, '--agent-connection-idle must be at most 60000'),
  maxHostEventWatches: z.coerce
    .number({ message: '--max-host-event-watches must be a number' })
    .int('--max-host-event-watches must be a whole number')
    .min(1, '--max-host-event-watches must be at least 1')
    .max(100_000, '--max-host-event-watches must be at most 100000'),
  maxCachedWorkflows: z.coerce
    .number({ message: '--max-cached-workflows must be a number' })
    .int('--max-cached-workflows must be a whole number')
    .min(2, '--max-cached-workflows must be at least 2')
    .max(100_000, '--max-cached-workflows must be at most 100000')
    .optional(),
  secretsDir: z.string().min(1),
  secretEnvPrefix: secretEnvPrefixOption,
  allowInsecureAgents: z.boolean().default(false),
  payloadEncryption: z.boolean(),
  metricsListen: MetricsListen.optional(),
  sdkMetricsListen: MetricsListen.optional(),
});

/** What `--config FILE` may set (cli/config-file.ts). `address` and `namespace` there count as flags for the Temporal connection. */
const WorkerConfigFile = z
  .object({
    address: ConfigString,
    namespace: ConfigString,
    taskQueue: ConfigString,
    dataDir: ConfigString,
    database: ConfigString,
    workflowBundle: ConfigString,
    identity: ConfigString,
    shutdownGrace: ConfigNumber,
    agentConnectionIdle: ConfigNumber,
    maxHostEventWatches: ConfigNumber,
    maxCachedWorkflows: ConfigNumber,
    secretsDir: ConfigString,
    metricsListen: ConfigString,
    sdkMetricsListen: ConfigString,
  })
  .partial();

export function register(program: Command): void {
  const command = program.command('worker').description(`Run a worker on task queue "${TASK_QUEUE}" against an existing Temporal server`);
  withTemporalOptions(command)
    .option('--task-queue <name>', 'task queue', TASK_QUEUE)
    .option('--data-dir <dir>', 'attachment store (the SQLite file unless --database is given)', `${DEFAULT_DATA_DIR}/worker`)
    .option(
      '--database <url|file>',
      'the store: a postgres:// URL (password from PGPASSWORD or ~/.pgpass) or a SQLite file; default <data-dir>/attachments.sqlite',
    )
    .option('--workflow-bundle <file>', 'prebuilt workflow bundle (skips bundling at start)')
    .option('--identity <name>', 'worker identity shown in the Web UI')
    .option('--shutdown-grace <seconds>', 'on SIGTERM/Ctrl-C, how long in-flight activities may finish before they are cancelled', '10')
    .option(
      '--agent-connection-idle <ms>',
      "how long a connection to a host's agent for the short calls (capabilities, route, commit) stays open unused; 0: a fresh connection for every call",
      '2000',
    )
    .option(
      '--max-host-event-watches <n>',
      "how many hosts' event watches this worker runs at once, on their own task queue (<task-queue>-host-events) so they never take the activity slots of installs and changes",
      String(DEFAULT_MAX_HOST_EVENT_WATCHES),
    )
    .option(
      '--max-cached-workflows <n>',
      "workflow executions kept in memory between tasks, about 0.5 MiB for each activated host's event watch; default: the Temporal SDK's, from the heap limit",
    )
    .option(
      '--secrets-dir <dir>',
      'file: secret references must point inside this directory; payload keys are in its payload-keys/',
      DEFAULT_SECRETS_DIR,
    )
    .option('--secret-env-prefix <prefix>', 'env: secret references must name a variable with this prefix', DEFAULT_SECRET_ENV_PREFIX)
    .option('--allow-insecure-agents', 'accept agent endpoints without TLS (tls: {insecure: true}); for labs only')
    .option(
      '--metrics-listen <[host:]port>',
      "serve hostprov's Prometheus /metrics (installs by outcome, apply and confirm durations) and /healthz here (host defaults to 127.0.0.1); off unless given",
    )
    .option(
      '--sdk-metrics-listen <[host:]port>',
      "serve the Temporal SDK's runtime metrics for Prometheus here (host defaults to 127.0.0.1); off unless given",
    );
  withPayloadKeyOptions(command, { secretsDir: false }).action(async (raw: Record<string, unknown>) => {
    const { resources, requested } = installStopHandling('worker');
    const flags = WorkerFlags.parse(raw);
    const temporal = temporalConfigFromFlags(raw);
    const worker = await startWorker({
      temporal,
      encryptPayloads: flags.payloadEncryption,
      taskQueue: flags.taskQueue,
      dataDir: resolve(flags.dataDir),
      ...(flags.database ? { database: flags.database } : {}),
      ...(flags.workflowBundle ? { workflowBundlePath: resolve(flags.workflowBundle) } : {}),
      ...(flags.identity ? { identity: flags.identity } : {}),
      secrets: { secretsDir: resolve(flags.secretsDir), envPrefix: flags.secretEnvPrefix },
      allowInsecureAgents: flags.allowInsecureAgents,
      shutdownGraceMs: flags.shutdownGrace * 1000,
      agentConnectionIdleMs: flags.agentConnectionIdle,
      maxHostEventWatches: flags.maxHostEventWatches,
      ...(flags.maxCachedWorkflows === undefined ? {} : { maxCachedWorkflows: flags.maxCachedWorkflows }),
      ...(flags.metricsListen ? { metricsListen: flags.metricsListen } : {}),
      ...(flags.sdkMetricsListen ? { sdkMetricsListen: flags.sdkMetricsListen } : {}),
      resources,
      log: getLogger('worker'),
    });
    try {
      await Promise.race([requested, worker.done]);
    } finally {
      await resources.unwind();
    }
  });
  withConfigFile(command, WorkerConfigFile);
}
