/**
 * Runs install-host against a lab of namespaced agents on the run's shared Temporal server, with a worker
 * of this test file on its own task queue (files run in parallel; each must only pick up its own tasks).
 * With HOSTPROV_RECORD_HISTORIES=1 each finished execution's history is written to test/histories/.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, type WorkflowHandle } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../../activities';
import { SecretResolver } from '../../activities/secrets';
import type { HostprovActivities } from '../../activities/types';
import { followInstall, startOrAttachInstall } from '../../workflow-client/install-host';
import { watchEventLoopStalls } from '../../lib/event-loop-stalls';
import { getLogger } from '../../lib/logger';
import { temporalCliPath } from '../../lib/paths';
import { run } from '../../lib/process';
import { hostprovDataConverter } from '../../lib/temporal/data-converter';
import type { PayloadKeyRing } from '../../lib/temporal/payload-keys';
import type { InstallHostRequest, InstallHostResult } from '../../model/install-host/contract';
import { DEFAULT_STORE_FILE, openStore } from '../../store/open';
import type { HostNetworkingStore } from '../../store/store';
import { uniqueToken } from '../../testbed/netns';
import { createHostEventsWorker } from '../../worker/host-events-worker';
import { installTemporalRuntime } from '../../worker/runtime';
import { attachToServer, type TemporalTarget } from './temporal';
import { discardedInstallMetrics } from '../../worker/metrics';

/**
 * Histories are grouped by the workflow-code generation that recorded them; every generation keeps
 * replaying. Bump this when recording after a change to the workflow.
 */
export const HISTORY_GENERATION = 'v10-cluster-level-checked';
const HISTORIES = fileURLToPath(new URL(`../histories/install-host/${HISTORY_GENERATION}`, import.meta.url));
/** The generation of the event watch's code that records its histories; bump it when recording after a change. */
export const WATCH_HISTORY_GENERATION = 'v4-resubscribes-after-gaps';
export const WATCH_HISTORIES = fileURLToPath(new URL(`../histories/host-event-watch/${WATCH_HISTORY_GENERATION}`, import.meta.url));

export interface InstallHarness {
  env: TestWorkflowEnvironment;
  client: Client;
  target: TemporalTarget;
  taskQueue: string;
  dir: string;
  store: HostNetworkingStore;
  worker: Worker;
  /** The worker of the host event watches, on their own queue beside `worker`'s (worker/host-events-worker.ts). */
  readonly eventsWorker: Worker;
  /** The activities both workers run. */
  activities: HostprovActivities;
  /**
   * Shuts the host event watches' worker down, as a worker restart does, runs `meanwhile` once it has stopped,
   * and starts the next one on the same queue (then `eventsWorker`); `close()` stops it.
   */
  restartEventsWorker(meanwhile?: () => Promise<void>): Promise<void>;
  /** Registers hosts whose agent listens without TLS at `agentAddress`, in a new cluster with a management network. */
  registerInsecureHosts(hostIds: readonly string[], agentAddress: string): Promise<void>;
  /** Starts an install and follows it to its result (the worker of this harness must be running). */
  install(request: InstallHostRequest): Promise<{ result: InstallHostResult; handle: WorkflowHandle }>;
  /** Saves the execution's history as test/histories/install-host/<name>.json when recording. */
  record(handle: WorkflowHandle, name: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * Saves the execution's history as test/histories/install-host/<generation>/<name>.json (or in `dir`, for
 * another workflow's histories) when recording.
 */
export async function recordHistory(target: TemporalTarget, workflowId: string, name: string, dir = HISTORIES): Promise<void> {
  if (process.env.HOSTPROV_RECORD_HISTORIES !== '1') return;
  mkdirSync(dir, { recursive: true });
  // The CLI's JSON is the format SDK replayers read: `temporal workflow show --output json` turns payload
  // shorthand off for them (temporalio/cli, temporalcli/commands.workflow_view.go).
  const { stdout } = await run([
    temporalCliPath(),
    'workflow',
    'show',
    '--address',
    target.address,
    '--namespace',
    target.namespace,
    '--workflow-id',
    workflowId,
    '--output',
    'json',
  ]);
  writeFileSync(join(dir, `${name}.json`), `${JSON.stringify(JSON.parse(stdout), null, 2)}\n`);
}

export interface InstallHarnessOptions {
  /** Where the lab keeps the files its secret references name (its state dir). */
  secretsDir: string;
  /** The store's location (a postgres:// URL). @default a SQLite file in a temporary directory */
  database?: string;
  /**
   * Encrypt payloads with these keys, in the worker and the client alike (lib/temporal/data-converter.ts).
   * @default plain payloads, as the recorded histories hold them
   */
  payloadKeys?: PayloadKeyRing;
  /** The worker's activity slots (the SDK's default is 100). */
  maxConcurrentActivities?: number;
  /** The host event watch's timings (activities/refresh.ts). @default its own defaults */
  watch?: ActivityDeps['watch'];
}

export async function createInstallHarness(options: InstallHarnessOptions): Promise<InstallHarness> {
  installTemporalRuntime();
  const { env, target } = await attachToServer();
  const taskQueue = `install-test-${uniqueToken()}`;
  const dir = mkdtempSync(join(tmpdir(), 'hostprov-install-'));
  const store = await openStore(options.database ?? join(dir, DEFAULT_STORE_FILE));
  // Like `hostprov dev`: labs may run agents without TLS.
  const secrets = new SecretResolver({ secretsDir: options.secretsDir });
  const dataConverter = hostprovDataConverter(options.payloadKeys ?? null);
  const client = options.payloadKeys ? new Client({ connection: env.connection, namespace: target.namespace, dataConverter }) : env.client;
  const activities = createActivities({
    store,
    access: { secrets, allowInsecureAgents: true },
    ...(options.watch ? { watch: options.watch } : {}),
  });
  const worker = await Worker.create({
    connection: env.nativeConnection,
    namespace: target.namespace,
    taskQueue,
    ...(options.payloadKeys ? { dataConverter } : {}),
    workflowBundle: { codePath: target.workflowBundlePath },
    sinks: discardedInstallMetrics(),
    activities,
    ...(options.maxConcurrentActivities ? { maxConcurrentActivityTaskExecutions: options.maxConcurrentActivities } : {}),
  });
  // As `hostprov worker`: the host event watches on their own queue beside it.
  const createEventsWorker = () =>
    createHostEventsWorker({
      connection: env.nativeConnection,
      namespace: target.namespace,
      taskQueue,
      activities,
      ...(options.payloadKeys ? { dataConverter } : {}),
    });
  let eventsWorker = await createEventsWorker();
  const runs = [worker.run(), eventsWorker.run()];
  const log = getLogger('install-harness');
  // The worker runs in the test's process: a failure that reads "no heart-beat from the agent" then says
  // whether this side stalled (as a production worker does, worker/main.ts).
  const stopStallWatch = watchEventLoopStalls(log);
  return {
    env,
    client,
    target,
    taskQueue,
    dir,
    store,
    worker,
    get eventsWorker() {
      return eventsWorker;
    },
    activities,
    async restartEventsWorker(meanwhile) {
      eventsWorker.shutdown();
      await runs[runs.length - 1];
      await meanwhile?.();
      eventsWorker = await createEventsWorker();
      runs.push(eventsWorker.run());
    },
    async registerInsecureHosts(hostIds, agentAddress) {
      const token = uniqueToken();
      const mgmt = await store.networks.create({ name: `m-${token}` });
      const cluster = await store.clusters.create({ name: `c-${token}`, compatibilityVersion: '4.8', managementNetworkId: mgmt.id });
      for (const id of hostIds) {
        await store.hosts.create({
          id,
          name: id,
          clusterId: cluster.id,
          agentEndpoint: { host: agentAddress, port: 54321, tls: { insecure: true } },
        });
      }
    },
    async install(request) {
      const started = await startOrAttachInstall(client, request, { taskQueue });
      const result = await followInstall(started.handle, (step) => log.info({ step: step.name, status: step.status }, step.summary));
      return { result, handle: started.handle };
    },
    record: (handle, name) => recordHistory(target, handle.workflowId, name),
    async close() {
      stopStallWatch();
      for (const w of [worker, eventsWorker]) if (w.getState() === 'RUNNING') w.shutdown();
      await Promise.all(runs).catch(() => undefined);
      secrets.close();
      await store.close();
      await env.teardown();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The history's upserts that set `InstallPhase`, each as its decoded fields. */
export function installPhaseUpserts(events: temporal.api.history.v1.IHistoryEvent[]): Array<Record<string, unknown>> {
  return events
    .map((e) => {
      const fields = e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields ?? {};
      return Object.fromEntries(
        Object.entries(fields).map(([k, v]) => [k, JSON.parse(Buffer.from(v.data ?? []).toString('utf8')) as unknown]),
      );
    })
    .filter((u) => 'InstallPhase' in u);
}
