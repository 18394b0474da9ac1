/**
 * `hostprov bench host-event-watches`: what the event watches of activated hosts cost (worker/host-events-worker.ts).
 * One `bin/hostprov worker` process, as production runs it, runs W watches at once for W = each count of
 * `--watches` in turn (the watches of the previous count stay, more are added); per count: the worker's
 * memory, the agent's (all the watches subscribe to one agent over mutual TLS, as many hosts' agents would
 * be subscribed to), and the CPU the Temporal dev server, the worker and the agent burn over a quiet minute
 * of steady watching (heart-beats every 8 s per watch, a ping to the agent every few seconds).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { getLogger, type Logger } from '../lib/logger';
import { freePorts } from '../lib/ports';
import { connectClient, plainConnection } from '../lib/temporal/connection';
import { createPayloadKey, loadPayloadKeys } from '../lib/temporal/payload-keys';
import { REFRESH_HOST_NETWORKS_WORKFLOW, WATCH_HEARTBEAT_TIMEOUT_SECONDS } from '../model/refresh/contract';
import { openStore } from '../store/open';
import { createAgentLab } from '../testbed/agent-lab';
import { uniqueToken } from '../testbed/netns';
import { startHostEventWatch } from '../workflow-client/refresh';
import { DEFAULT_MAX_HOST_EVENT_WATCHES } from '../worker/host-events-worker';
import { pidCpuMs, readProcSnapshot } from './proc-stat';
import { processArgv, processMemory } from './process-memory';
import { machineInfo, machineLine, markdownTable, say, writeReport, type MachineInfo } from './report';
import { round } from './stats';
import { benchWorkflowBundle, startBenchServer } from './temporal';
import { Teardown, untilAborted } from './teardown';
import { startWorkerProcess, waitForPollers } from './worker-processes';

export interface HostEventWatchesBenchOptions {
  outDir: string;
  /** Watch counts, ascending; each adds watches to the previous one's. */
  watches: number[];
  /** How long each count is watched quietly for its CPU figures. @default 60 */
  quietSeconds?: number;
  /** The worker's `--max-cached-workflows`. @default the SDK's */
  maxCachedWorkflows?: number;
  note?: string;
  signal?: AbortSignal;
  log?: Logger;
}

export interface WatchCase {
  watches: number;
  /** From the first new watch started to the worker's gauge showing them all running. */
  startedInSeconds: number;
  workerRssMiB: number;
  workerPssMiB: number | null;
  /** The worker's V8 heap in use and its memory outside the heap (buffers, TLS), from its own /metrics. */
  workerHeapUsedMiB: number;
  workerExternalMiB: number;
  agentRssMiB: number;
  /** CPU over the quiet window, as a share of one core (%). */
  cpuPercent: { temporalServer: number; worker: number; agent: number };
}

/**
 * The worker replaced with all watches running, as a rolling upgrade does: each watch is retried on the new
 * worker and, not having been subscribed for a while, refreshes its host once, at a random moment within
 * the refresh spread (activities/refresh.ts).
 */
export interface RestartCase {
  watches: number;
  /** From the old worker's SIGTERM to the new worker's gauge showing every watch running again. */
  resubscribedInSeconds: number;
  /** From the SIGTERM to the last of the refreshes the resubscriptions queued completing. */
  refreshedInSeconds: number;
  refreshesCompleted: number;
  /** Refreshes that ended otherwise (failed, timed out, terminated). */
  refreshesNotCompleted: number;
  /** CPU from the SIGTERM to the last refresh, as a share of one core (%); the worker is the new one, from its start. */
  cpuPercent: { temporalServer: number; worker: number; agent: number };
}

export interface HostEventWatchesBenchResult {
  benchmark: 'host-event-watches';
  machine: MachineInfo;
  note: string | null;
  setup: Record<string, string | number>;
  quietSeconds: number;
  cases: WatchCase[];
  restart: RestartCase;
  loadAverageAtEnd: number[];
}

const HOST = 'watched';
const mib = (kib: number) => round(kib / 1024, 1);

export async function runHostEventWatchesBench(options: HostEventWatchesBenchOptions): Promise<HostEventWatchesBenchResult> {
  const log = options.log ?? getLogger('bench');
  const counts = [...options.watches].sort((a, b) => a - b);
  const largest = counts[counts.length - 1] ?? 0;
  const quietSeconds = options.quietSeconds ?? 60;
  const machine = await machineInfo();
  say(`bench host-event-watches on ${machineLine(machine)}`);
  const teardown = new Teardown(log);
  const dir = mkdtempSync(join(tmpdir(), 'hostprov-bench-watches-'));
  teardown.add('scratch dir', () => rmSync(dir, { recursive: true, force: true }));
  try {
    say('starting Temporal (dev server, SQLite, headless), one agent host and one worker process...');
    const server = await startBenchServer(dir, teardown, log);
    const bundlePath = await benchWorkflowBundle(dir, log);
    createPayloadKey(dir);
    const { client, close } = await connectClient(plainConnection(server.address, server.namespace), { payloadKeys: loadPayloadKeys(dir) });
    teardown.add('Temporal client connection', close);

    // One agent takes every watch's connection: the limit is raised above the largest count.
    const lab = await createAgentLab({
      stateDir: join(dir, 'lab'),
      hosts: [{ name: HOST, agentArgs: ['--max-connections', String(largest + 64)] }],
    });
    teardown.add('agent lab', () => lab.destroy());
    await untilAborted(lab.waitForAgents(120_000), options.signal);
    const request = lab.installRequest(HOST);
    const agentEndpoint = { ...request.agent, host: lab.testbed.host(HOST).address, port: request.agent.port ?? 54321 };
    const agentPid = await lab.testbed.bootPid(HOST);
    if (agentPid === null) throw new Error(`host ${HOST}'s agent is not running`);

    const database = join(dir, 'store.sqlite');
    const token = uniqueToken();
    const hostIds = Array.from({ length: largest }, (_, i) => `watched-${token}-${i + 1}`);
    const store = await openStore(database);
    try {
      for (const id of hostIds) await store.hosts.create({ id, name: id, agentEndpoint });
    } finally {
      await store.close();
    }

    const [metricsPort] = (await freePorts(1)) as [number];
    const taskQueue = `watches-${token}`;
    const startWorker = (identity: string) =>
      startWorkerProcess({
        address: server.address,
        namespace: server.namespace,
        taskQueue,
        database,
        secretsDir: dir,
        workflowBundlePath: bundlePath,
        identity,
        dataDir: join(dir, 'worker'),
        extraArgs: [
          '--metrics-listen',
          String(metricsPort),
          '--max-host-event-watches',
          String(Math.max(largest, DEFAULT_MAX_HOST_EVENT_WATCHES)),
          ...(options.maxCachedWorkflows === undefined ? [] : ['--max-cached-workflows', String(options.maxCachedWorkflows)]),
        ],
      });
    let worker = startWorker('watches-worker');
    teardown.add('worker', () => worker.stop());
    await untilAborted(waitForPollers(client, taskQueue, [worker], 120_000), options.signal);
    const workerProgram = (await processArgv(worker.pid)).join(' ');

    const cases: WatchCase[] = [];
    let started = 0;
    for (const count of counts) {
      options.signal?.throwIfAborted();
      say(`${count} watches: starting ${count - started} more...`);
      const t0 = performance.now();
      await startWatches(client, hostIds.slice(started, count), taskQueue);
      started = count;
      await untilAborted(Promise.race([gaugeReaches(metricsPort, count), worker.unexpectedExit]), options.signal);
      const startedInSeconds = round((performance.now() - t0) / 1000, 2);
      say(`  all running after ${startedInSeconds} s; watching quietly for ${quietSeconds} s...`);
      const before = await readProcSnapshot();
      await untilAborted(new Promise((r) => setTimeout(r, quietSeconds * 1000)), options.signal);
      const after = await readProcSnapshot();
      const share = (pid: number) => round((pidCpuMs(before, after, pid) / (quietSeconds * 1000)) * 100, 2);
      const [workerMemory, agentMemory, workerMetrics] = await Promise.all([
        processMemory(worker.pid),
        processMemory(agentPid),
        scrapeMetrics(metricsPort),
      ]);
      const row: WatchCase = {
        watches: count,
        startedInSeconds,
        workerRssMiB: mib(workerMemory.rssKiB),
        workerPssMiB: workerMemory.pssKiB === null ? null : mib(workerMemory.pssKiB),
        workerHeapUsedMiB: mib((workerMetrics.get('nodejs_heap_size_used_bytes') ?? NaN) / 1024),
        workerExternalMiB: mib((workerMetrics.get('nodejs_external_memory_bytes') ?? NaN) / 1024),
        agentRssMiB: mib(agentMemory.rssKiB),
        cpuPercent: { temporalServer: share(server.pid), worker: share(worker.pid), agent: share(agentPid) },
      };
      say(
        `  worker ${row.workerRssMiB} MiB, agent ${row.agentRssMiB} MiB; CPU: server ${row.cpuPercent.temporalServer}%, worker ${row.cpuPercent.worker}%, agent ${row.cpuPercent.agent}%`,
      );
      cases.push(row);
    }

    say(`restart: replacing the worker under ${started} watches (SIGTERM, then a new one)...`);
    // A count scans the server's visibility records: asked every 2 s, and only for the ended ones until all have.
    const refreshes = (status: string) =>
      client.workflow.count(`WorkflowType = '${REFRESH_HOST_NETWORKS_WORKFLOW}' AND ExecutionStatus ${status}`).then((c) => c.count);
    const endedBefore = await refreshes("!= 'Running'");
    const completedBefore = await refreshes("= 'Completed'");
    const restartBefore = await readProcSnapshot();
    const t0 = performance.now();
    await worker.stop();
    worker = startWorker('watches-worker-2');
    await untilAborted(waitForPollers(client, taskQueue, [worker], 120_000), options.signal);
    await untilAborted(Promise.race([gaugeReaches(metricsPort, started), worker.unexpectedExit]), options.signal);
    const resubscribedInSeconds = round((performance.now() - t0) / 1000, 2);
    say(`  all ${started} resubscribed after ${resubscribedInSeconds} s; waiting for their refreshes...`);
    for (const deadline = Date.now() + 900_000; ;) {
      const ended = (await refreshes("!= 'Running'")) - endedBefore;
      if (ended >= started) break;
      if (Date.now() > deadline) throw new Error(`${ended} of ${started} refreshes ended 15 minutes after the restart`);
      await untilAborted(new Promise((r) => setTimeout(r, 2000)), options.signal);
    }
    const refreshedInSeconds = round((performance.now() - t0) / 1000, 2);
    const restartAfter = await readProcSnapshot();
    const completed = (await refreshes("= 'Completed'")) - completedBefore;
    const notCompleted = (await refreshes("!= 'Running'")) - endedBefore - completed;
    const restartShare = (pid: number) => round((pidCpuMs(restartBefore, restartAfter, pid) / (refreshedInSeconds * 1000)) * 100, 2);
    const restart: RestartCase = {
      watches: started,
      resubscribedInSeconds,
      refreshedInSeconds,
      refreshesCompleted: completed,
      refreshesNotCompleted: notCompleted,
      cpuPercent: { temporalServer: restartShare(server.pid), worker: restartShare(worker.pid), agent: restartShare(agentPid) },
    };
    say(
      `  ${completed} refreshes completed (${notCompleted} did not) ${refreshedInSeconds} s after the SIGTERM; CPU: server ${restart.cpuPercent.temporalServer}%, worker ${restart.cpuPercent.worker}%, agent ${restart.cpuPercent.agent}%`,
    );

    const result: HostEventWatchesBenchResult = {
      benchmark: 'host-event-watches',
      machine,
      note: options.note ?? null,
      setup: {
        temporal: 'temporal server start-dev (SQLite WAL in a scratch dir, headless), 127.0.0.1',
        worker: workerProgram,
        agent: `one namespaced host running \`hostprov agent\` (mutual TLS, --max-connections ${largest + 64}); every watch subscribes to it`,
        heartbeatEverySeconds: round(0.8 * WATCH_HEARTBEAT_TIMEOUT_SECONDS, 1),
      },
      quietSeconds,
      cases,
      restart,
      loadAverageAtEnd: loadavg().map((x) => round(x, 2)),
    };
    const paths = writeReport(options.outDir, 'host-event-watches', result, watchesMarkdown(result));
    say(`wrote ${paths.json} and ${paths.md}`);
    return result;
  } catch (err) {
    if (options.signal?.aborted) throw options.signal.reason;
    throw err;
  } finally {
    say('tearing down...');
    await teardown.run();
  }
}

/** Starts the watches a few at a time (each start is a round trip to the server). */
async function startWatches(client: Client, hostIds: readonly string[], taskQueue: string): Promise<void> {
  for (let i = 0; i < hostIds.length; i += 50) {
    await Promise.all(hostIds.slice(i, i + 50).map((id) => startHostEventWatch(client, id, { taskQueue })));
  }
}

/** The worker's own metrics without labels, name → value. */
async function scrapeMetrics(port: number): Promise<Map<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return new Map([...text.matchAll(/^([a-z_]+) (\S+)$/gm)].map((m) => [m[1]!, Number(m[2])]));
}

/** Resolves once the worker's `hostprov_host_event_watches` gauge shows `count` (its watches subscribed or subscribing). */
async function gaugeReaches(port: number, count: number, timeoutMs = 600_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    // A worker that is starting does not listen yet: that is a value of none, not a failure.
    const value = (await scrapeMetrics(port).catch(() => new Map<string, number>())).get('hostprov_host_event_watches') ?? NaN;
    if (value >= count) return;
    if (Date.now() > deadline) throw new Error(`the worker ran ${value} watches, not ${count}, after ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

export function watchesMarkdown(result: HostEventWatchesBenchResult): string {
  const first = result.cases[0];
  const last = result.cases[result.cases.length - 1];
  const perWatchKiB =
    first && last && last.watches > first.watches
      ? round(((last.workerRssMiB - first.workerRssMiB) * 1024) / (last.watches - first.watches), 0)
      : null;
  return [
    '# bench host-event-watches',
    '',
    `Machine: ${machineLine(result.machine)}.${result.note ? ` ${result.note}` : ''}`,
    '',
    `One worker process runs the watches; all of them subscribe to one agent. CPU is a share of one core over ${result.quietSeconds} s of quiet watching after every watch of the count runs.`,
    '',
    markdownTable(
      [
        'watches',
        'all running after (s)',
        'worker RSS (MiB)',
        'worker PSS (MiB)',
        'worker heap used (MiB)',
        'worker external (MiB)',
        'agent RSS (MiB)',
        'server CPU %',
        'worker CPU %',
        'agent CPU %',
      ],
      result.cases.map((c) => [
        c.watches,
        c.startedInSeconds,
        c.workerRssMiB,
        c.workerPssMiB ?? '-',
        c.workerHeapUsedMiB,
        c.workerExternalMiB,
        c.agentRssMiB,
        c.cpuPercent.temporalServer,
        c.cpuPercent.worker,
        c.cpuPercent.agent,
      ]),
    ),
    '',
    perWatchKiB === null
      ? ''
      : `From ${first!.watches} to ${last!.watches} watches the worker's resident set grew by about ${perWatchKiB} KiB per watch.`,
    '',
    ...restartMarkdown(result.restart),
    `Setup: ${Object.entries(result.setup)
      .map(([k, v]) => `${k}: ${v}`)
      .join('; ')}. Load average at the end: ${result.loadAverageAtEnd.join(', ')}.`,
    '',
  ].join('\n');
}

function restartMarkdown(restart: RestartCase): string[] {
  return [
    '## Replacing the worker',
    '',
    `With ${restart.watches} watches running, the worker got SIGTERM and a new one started (as a rolling upgrade does). Each watch was retried on the new worker and, not having been subscribed meanwhile, refreshed its host once, at a random moment within 30 s of subscribing again. CPU is a share of one core from the SIGTERM to the last refresh (the new worker's from its start).`,
    '',
    markdownTable(
      [
        'watches',
        'all resubscribed after (s)',
        'all refreshed after (s)',
        'refreshes completed',
        'refreshes not completed',
        'server CPU %',
        'worker CPU %',
        'agent CPU %',
      ],
      [
        [
          restart.watches,
          restart.resubscribedInSeconds,
          restart.refreshedInSeconds,
          restart.refreshesCompleted,
          restart.refreshesNotCompleted,
          restart.cpuPercent.temporalServer,
          restart.cpuPercent.worker,
          restart.cpuPercent.agent,
        ],
      ],
    ),
    '',
  ];
}
