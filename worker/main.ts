/**
 * The hostprov worker: polls `host-provisioning`, runs install-host and its activities, and beside it the
 * host event watches on their own queue (worker/host-events-worker.ts). One per process;
 * `hostprov worker` and `hostprov dev` both start it through `startWorker`.
 */
import { join } from 'node:path';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../activities';
import { SecretResolver, type SecretPolicy } from '../activities/secrets';
import type { ConfirmLoopOptions } from '../activities/setup-networks-with-confirm';
import { prebuiltWorkflowBundle } from '../lib/build-info';
import { watchEventLoopStalls } from '../lib/event-loop-stalls';
import type { Logger } from '../lib/logger';
import type { ResourceStack } from '../lib/resource-stack';
import { describeTemporalConfig, nativeConnectionOptions, type TemporalConnectionConfig } from '../lib/temporal/connection';
import { TASK_QUEUE } from '../lib/temporal/constants';
import { hostprovDataConverter } from '../lib/temporal/data-converter';
import { loadPayloadKeys } from '../lib/temporal/payload-keys';
import { hostEventsTaskQueue } from '../model/refresh/contract';
import { DEFAULT_STORE_FILE, openStore } from '../store/open';
import { startMetricsEndpoint, type MetricsEndpoint, type MetricsListen } from '../lib/metrics/endpoint';
import { WORKFLOW_INTERCEPTOR_MODULES, WORKFLOWS_PATH } from './bundle';
import { createHostEventsWorker, DEFAULT_MAX_HOST_EVENT_WATCHES } from './host-events-worker';
import { WorkerMetrics } from './metrics';
import { installTemporalRuntime } from './runtime';

export interface WorkerOptions {
  /** Address, namespace, TLS, API key (lib/temporal/connection.ts). */
  temporal: TemporalConnectionConfig;
  /**
   * Encrypt payloads with the keys in `<secretsDir>/payload-keys/` (lib/temporal/payload-keys.ts); off
   * only for deployments whose clients do not encrypt either. @default true
   */
  encryptPayloads?: boolean;
  /** @default 'host-provisioning' */
  taskQueue?: string;
  /** Holds the SQLite store unless `database` is given. */
  dataDir: string;
  /** A `postgres://` URL or a SQLite file path. @default `<dataDir>/attachments.sqlite` */
  database?: string;
  /** Where secret references may point (activities/secrets.ts). @default { secretsDir: '/etc/hostprov', envPrefix: 'HOSTPROV_SECRET_' } */
  secrets?: Pick<SecretPolicy, 'secretsDir' | 'envPrefix'>;
  /** Accept agent endpoints without TLS (dev stack, demo, tests). @default false */
  allowInsecureAgents?: boolean;
  /**
   * A prebuilt workflow bundle. @default the build's dist/workflow-bundle.js when this process runs the build
   * (lib/build-info.ts); from the sources, workflows/ is bundled at start (~10 s)
   */
  workflowBundlePath?: string;
  identity?: string;
  confirmLoop?: ConfirmLoopOptions;
  /**
   * How long a connection to an agent for the short calls stays open unused (activities/kept-connections.ts);
   * 0: a fresh connection for every call. @default 2000
   */
  agentConnectionIdleMs?: number;
  /**
   * How many host event watches this process runs at once, on their own task queue (worker/host-events-worker.ts).
   * @default 1000
   */
  maxHostEventWatches?: number;
  /**
   * Workflow executions kept in memory between their tasks (the SDK's `maxCachedWorkflows`): every activated
   * host's event watch is one, mostly idle, about 0.5 MiB (docs/performance.md#host-event-watches).
   * Evicted, an execution replays its history at its next task. @default the SDK's, from the heap limit (600 per GiB above 200 MiB)
   */
  maxCachedWorkflows?: number;
  /**
   * After a shutdown began, how long in-flight activities may run on before they are cancelled (their
   * attempt then fails and Temporal retries it on another worker). @default 10000
   */
  shutdownGraceMs?: number;
  /**
   * Where the worker is registered once it runs (release = the drained shutdown); the start gives up as
   * soon as the stack unwinds.
   */
  resources?: ResourceStack;
  /** Serve hostprov's metrics (installs by outcome, apply and confirm durations) and `/healthz` here. @default none */
  metricsListen?: MetricsListen;
  /** Serve the Temporal SDK's runtime metrics here (worker/runtime.ts). @default none */
  sdkMetricsListen?: MetricsListen;
  log: Logger;
}

/** Past the grace period, how long the SDK still waits for activities that ignore their cancellation. */
const SHUTDOWN_FORCE_AFTER_GRACE_MS = 10_000;

export interface RunningWorker {
  readonly worker: Worker;
  /** The worker's secret references; the files it wrote for them are removed when the worker stops. */
  readonly secrets: SecretResolver;
  readonly metrics: WorkerMetrics;
  /** `http://host:port` of hostprov's metrics endpoint, when one was asked for. */
  readonly metricsUrl: string | null;
  /** Resolves when the worker has stopped (after `shutdown()` or a fatal error). */
  readonly done: Promise<void>;
  /**
   * Stops polling and drains: in-flight activities get `shutdownGraceMs`, then are cancelled. Resolves when
   * the worker stopped, or as soon as `hurry` aborts (the process is about to exit and take it along).
   */
  shutdown(options?: { hurry?: AbortSignal }): Promise<void>;
}

export async function startWorker(options: WorkerOptions): Promise<RunningWorker> {
  const stopping = options.resources?.stopping;
  stopping?.throwIfAborted();
  installTemporalRuntime(options.sdkMetricsListen ? { sdkMetricsListen: options.sdkMetricsListen } : {});
  const metrics = new WorkerMetrics();
  const secrets = new SecretResolver(options.secrets);
  const encryptPayloads = options.encryptPayloads ?? true;
  // Read before anything starts: a missing or unsafe key fails the start, naming the file.
  const payloadKeys = encryptPayloads ? loadPayloadKeys(secrets.secretsDir) : null;
  const allowInsecureAgents = options.allowInsecureAgents ?? false;
  const store = await openStore(options.database ?? join(options.dataDir, DEFAULT_STORE_FILE));
  const graceMs = options.shutdownGraceMs ?? 10_000;
  let connection: NativeConnection | undefined;
  let worker: Worker;
  let eventsWorker: Worker;
  let endpoint: MetricsEndpoint | undefined;
  const taskQueue = options.taskQueue ?? TASK_QUEUE;
  const maxWatches = options.maxHostEventWatches ?? DEFAULT_MAX_HOST_EVENT_WATCHES;
  try {
    connection = await NativeConnection.connect(nativeConnectionOptions(options.temporal));
    stopping?.throwIfAborted();
    const workflowBundlePath = options.workflowBundlePath ?? prebuiltWorkflowBundle();
    if (workflowBundlePath) options.log.info({ workflowBundlePath }, 'loading the prebuilt workflow bundle');
    else options.log.info({ workflowsPath: WORKFLOWS_PATH }, 'bundling workflows');
    const dataConverter = hostprovDataConverter(payloadKeys);
    const activities = createActivities({
      store,
      access: { secrets, allowInsecureAgents },
      metrics,
      ...(options.confirmLoop ? { confirmLoop: options.confirmLoop } : {}),
      ...(options.agentConnectionIdleMs === undefined ? {} : { agent: { keepIdleMs: options.agentConnectionIdleMs } }),
    });
    worker = await Worker.create({
      connection,
      namespace: options.temporal.namespace,
      dataConverter,
      taskQueue,
      ...(workflowBundlePath
        ? { workflowBundle: { codePath: workflowBundlePath } }
        : { workflowsPath: WORKFLOWS_PATH, interceptors: { workflowModules: WORKFLOW_INTERCEPTOR_MODULES } }),
      sinks: metrics.sinks(),
      // All of them, the watch's too: a watch run started before the watches had their own queue schedules
      // its activity here until it continues as new (workflows/refresh-triggers.ts, patched).
      activities,
      ...(options.identity ? { identity: options.identity } : {}),
      ...(options.maxCachedWorkflows === undefined ? {} : { maxCachedWorkflows: options.maxCachedWorkflows }),
      shutdownGraceTime: graceMs,
      shutdownForceTime: graceMs + SHUTDOWN_FORCE_AFTER_GRACE_MS,
    });
    eventsWorker = await createHostEventsWorker({
      connection,
      namespace: options.temporal.namespace,
      taskQueue,
      activities,
      maxWatches,
      metrics,
      dataConverter,
      ...(options.identity ? { identity: options.identity } : {}),
    });
    if (options.metricsListen) {
      endpoint = await startMetricsEndpoint({
        listen: options.metricsListen,
        registry: metrics.registry,
        health: () => {
          const states = [worker.getState(), eventsWorker.getState()];
          return {
            healthy: states.every((state) => state === 'RUNNING' || state === 'INITIALIZED'),
            detail: `worker ${states[0]!.toLowerCase()}, host events worker ${states[1]!.toLowerCase()}`,
          };
        },
      });
    }
  } catch (err) {
    await connection?.close().catch(() => undefined);
    await store.close();
    throw err;
  }
  const openConnection = connection;
  options.log.info(
    {
      taskQueue,
      hostEvents: { taskQueue: hostEventsTaskQueue(taskQueue), maxWatches },
      temporal: describeTemporalConfig(options.temporal),
      payloadEncryption: payloadKeys ? { primaryKey: payloadKeys.primaryId, keys: payloadKeys.keys.size } : 'off',
      secretsDir: secrets.secretsDir,
      secretEnvPrefix: secrets.envPrefix,
      allowInsecureAgents,
      metrics: endpoint?.url ?? 'off',
    },
    'worker polling',
  );
  const workers = [worker, eventsWorker];
  const shutdownAll = () => {
    for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
  };
  // The process serves both queues or neither: either one stopping (a shutdown, a fatal error) stops the other.
  const runs = workers.map((w) => w.run().finally(shutdownAll));
  // An agent's silence and a stalled worker look alike from the other side: each says when its loop stalls.
  const stopStallWatch = watchEventLoopStalls(options.log);
  const done = Promise.allSettled(runs).then(async (results) => {
    stopStallWatch();
    await endpoint?.close();
    secrets.close();
    await openConnection.close().catch(() => undefined);
    await store.close();
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  });
  const stopped = done.then(
    () => options.log.info('worker stopped'),
    (err: unknown) => options.log.warn({ err }, 'worker stopped with an error'),
  );
  const running: RunningWorker = {
    worker,
    secrets,
    metrics,
    metricsUrl: endpoint?.url ?? null,
    done,
    async shutdown({ hurry } = {}) {
      if (worker.getState() === 'RUNNING') {
        options.log.info({ graceMs }, 'worker draining: no new tasks; in-flight activities are cancelled after the grace period');
      }
      shutdownAll();
      await (hurry ? Promise.race([stopped, aborted(hurry)]) : stopped);
    },
  };
  // Registered right away: if the stack is already unwinding, the worker is shut down at once.
  options.resources?.push('worker', ({ hurry }) => running.shutdown({ hurry }));
  return running;
}

function aborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolvePromise) => signal.addEventListener('abort', () => resolvePromise(), { once: true }));
}
