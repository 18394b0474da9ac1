/**
 * `hostprov bench install-scaling`: the scaling curve. N namespaced hosts installed at once (N from
 * `--hosts`, e.g. 10, 50, 100), with one and with two workers (`--workers`), reboot off unless `--reboot`:
 * per (N, workers) the wall clock from the first start to the last result, installs per minute, each
 * install's duration, the outcomes, and the memory of every agent and every worker.
 *
 * One Temporal dev server (SQLite in a scratch dir, headless) for the whole run. The workers are separate
 * `bin/hostprov worker` processes on one task queue of their own per case, sharing one SQLite store, with
 * encrypted payloads (a key of this run's own), as production runs them. Hosts are namespaces of agent labs
 * (the real agent over mutual TLS as each host's boot command, a real ipmi_sim BMC per host); a testbed
 * holds at most MAX_HOSTS hosts, so N hosts take several labs, each on its own subnet. Every case gets
 * fresh labs: a host installed once is `already-configured` the second time.
 */
import { getMaxListeners, setMaxListeners } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import type { Client } from '@temporalio/client';
import { getLogger, type Logger } from '../lib/logger';
import { PROJECT_ROOT } from '../lib/paths';
import { connectClient, plainConnection } from '../lib/temporal/connection';
import { createPayloadKey, loadPayloadKeys } from '../lib/temporal/payload-keys';
import { createAgentLab, type AgentLab } from '../testbed/agent-lab';
import { MAX_HOSTS } from '../testbed/addressing';
import { canConnect } from '../testbed/reachability';
import { VDSM_PORT } from '../model/vdsm/port';
import { uniqueToken } from '../testbed/netns';
import { installWorkflowId } from '../workflow-client/install-host';
import {
  breakdownFigures,
  figure,
  install,
  POLICY,
  sec,
  stepFigures,
  type Figure,
  type InstallRun,
  type SetupNetworksBreakdown,
} from './install-runs';
import { checkInotifyBudget } from './inotify-budget';
import { labSizes } from './lab-split';
import { processArgv, processMemory, type ProcessMemory } from './process-memory';
import { processGroups, readProcSnapshot } from './proc-stat';
import { machineInfo, machineLine, markdownTable, say, writeReport, type MachineInfo } from './report';
import { round, roundSummary, summarize, type Summary } from './stats';
import { Teardown, untilAborted } from './teardown';
import { benchWorkflowBundle, startBenchServer } from './temporal';
import { startWorkerProcess, waitForPollers, type WorkerProcess } from './worker-processes';

export interface InstallScalingBenchOptions {
  outDir: string;
  /** Hosts installed at once, one case per count, in this order. */
  hosts: readonly number[];
  /** Worker processes, one case per count for every host count. */
  workers: readonly number[];
  /** Installs reboot their host through a fence proxy (one extra host per lab). @default false */
  reboot?: boolean;
  /** A sentence about the conditions of the run, written into the results. */
  note?: string;
  log?: Logger;
  /** Checked between phases; when aborted, the benchmark stops waiting and tears down. */
  signal?: AbortSignal;
}

type MemoryFigure = Summary & { unit: 'MiB' };

/** One process's memory at one moment, in MiB. */
export interface ProcessMemoryMiB {
  pid: number;
  rss: number;
  peakRss: number;
  pss: number | null;
}

export interface AgentMemory extends ProcessMemoryMiB {
  host: string;
  /** RSS of the agent and the processes it started (its process group: the long-lived `ip` sessions). */
  groupRss: number;
  groupProcesses: number;
}

export interface WorkerMemory {
  identity: string;
  /** Polling, before the first install started. */
  idle: ProcessMemoryMiB;
  /** Right after the last result (`peakRss` covers the whole run). */
  after: ProcessMemoryMiB;
}

export interface ScalingCase {
  hosts: number;
  workers: number;
  reboot: boolean;
  /** Hosts per lab (testbed), each lab one subnet; with the reboot, each lab has one more host as fence proxy. */
  labs: number[];
  /** First lab build → every agent answers `Host.ping2` (not part of any figure below). */
  agentsReady: { value: number; unit: 'ms' };
  /** First worker spawn → every worker polls workflow and activity tasks (not part of any figure below). */
  workersReady: { value: number; unit: 'ms' };
  /**
   * Installs of extra hosts started at once before the measured ones and discarded, so the workers are
   * warm (workflow bundle loaded into their sandboxes, first connections made), as long-running ones are.
   * `workersSeen`: the worker identities found in their histories (a worker missing here may run its first
   * tasks during the measurement).
   */
  warmUp: { installs: number; outcomes: Record<string, number>; workersSeen: string[] };
  wallClock: { value: number; unit: 'ms' };
  throughput: { value: number; unit: 'installs/minute' };
  perInstall: Figure;
  steps: Array<{ name: string } & Figure>;
  setupNetworks: Record<keyof SetupNetworksBreakdown, Figure> | null;
  outcomes: Record<string, number>;
  notConfigured: InstallRun[];
  memory: {
    /** Per installed host's agent (node process), after the installs: VmRSS, VmHWM, Pss. */
    agentRss: MemoryFigure;
    agentPeakRss: MemoryFigure;
    agentPss: MemoryFigure | null;
    /** Per agent including its child processes (process group). */
    agentGroupRss: MemoryFigure;
    /** Sum of the agents' Pss: what the N agents cost together (shared pages counted once). */
    agentsTotalPss: { value: number; unit: 'MiB' } | null;
    /** The same agents just after they booted, before any install (VmRSS). */
    agentRssBeforeInstall: MemoryFigure;
    workers: WorkerMemory[];
    agents: AgentMemory[];
  };
  loadAverage1m: { atStart: number; atEnd: number };
  runs: InstallRun[];
}

export interface InstallScalingBenchResult {
  benchmark: 'install-scaling';
  machine: MachineInfo;
  note: string | null;
  setup: {
    temporal: string;
    workers: string;
    agents: string;
    /** What the agents and workers ran (the build or tsx), read from their command lines. */
    agentProgram: string;
    workerProgram: string;
    policy: Record<string, unknown>;
  };
  cases: ScalingCase[];
  /** Cases with an install that did not end `configured`. */
  incomplete: Array<{ hosts: number; workers: number; notConfigured: number }>;
  loadAverageAtEnd: number[];
}

const AGENTS_READY_TIMEOUT_MS = 180_000;
/** Warm-up installs per worker: tasks go to whichever worker polls first, so a few each make it likely every worker gets some. */
const WARM_UP_PER_WORKER = 3;
const WORKERS_READY_TIMEOUT_MS = 120_000;
/** inotify instances kept free beyond one per agent and worker (the dev server, the benchmark process). */
const INOTIFY_MARGIN = 4;
/** The fence proxy of every host of a lab, when installs reboot (never installed itself). */
const PROXY_HOST = 'fproxy';

const mib = (kib: number): number => round(kib / 1024, 1);
const memoryFigure = (samples: number[]): MemoryFigure => ({ unit: 'MiB', ...roundSummary(summarize(samples), 1) });
const inMiB = (m: ProcessMemory): ProcessMemoryMiB => ({
  pid: m.pid,
  rss: mib(m.rssKiB),
  peakRss: mib(m.peakRssKiB),
  pss: m.pssKiB === null ? null : mib(m.pssKiB),
});
const load1m = (): number => round(loadavg()[0] ?? 0, 2);

/** `node dist/hostprov-agent.mjs` or `node --import …tsx… cli/main.ts`: the program behind a pid, paths relative to the checkout. */
function programLine(argv: readonly string[]): string {
  return argv
    .slice(0, 4)
    .map((arg) => (arg.startsWith(PROJECT_ROOT) ? relative(PROJECT_ROOT, arg) : arg))
    .join(' ');
}

interface LabHost {
  name: string;
  lab: AgentLab;
}

/** The agents' memory now; the boot command is the agent (bin/hostprov execs node) and leads its process group. */
async function agentMemory(hosts: readonly LabHost[]): Promise<AgentMemory[]> {
  const groups = processGroups(await readProcSnapshot());
  return Promise.all(
    hosts.map(async ({ name, lab }) => {
      const pid = await lab.testbed.bootPid(name);
      if (pid === null) throw new Error(`host ${name}'s agent is not running`);
      const own = await processMemory(pid);
      const members = groups.get(pid) ?? [pid];
      const groupKiB = (await Promise.all(members.map((p) => processMemory(p).catch(() => null)))).reduce(
        (sum, m) => sum + (m?.rssKiB ?? 0),
        0,
      );
      return { host: name, ...inMiB(own), groupRss: mib(groupKiB), groupProcesses: members.length };
    }),
  );
}

/** Hosts (agents) a case builds: the measured ones, the warm-up ones and, with the reboot, a fence proxy per lab. */
function caseHostCount(n: number, workers: number, reboot: boolean): number {
  const hosts = n + WARM_UP_PER_WORKER * workers;
  return hosts + (reboot ? labSizes(hosts, MAX_HOSTS - 1).length : 0);
}

/** Labs holding `allNames` in order (at most MAX_HOSTS each, with the fence proxy when installs reboot). */
async function buildLabs(
  dir: string,
  allNames: readonly string[],
  reboot: boolean,
  teardown: Teardown,
  signal: AbortSignal | undefined,
): Promise<{ sizes: number[]; hosts: LabHost[] }> {
  // With the reboot, each lab keeps one address for its fence proxy.
  const sizes = labSizes(allNames.length, reboot ? MAX_HOSTS - 1 : MAX_HOSTS);
  const hosts: LabHost[] = [];
  let next = 0;
  for (const [index, size] of sizes.entries()) {
    signal?.throwIfAborted();
    const names = allNames.slice(next, next + size);
    next += size;
    const lab = await createAgentLab({
      stateDir: join(dir, `lab-${index + 1}`),
      hosts: [...names, ...(reboot ? [PROXY_HOST] : [])].map((name) => ({ name })),
      ...(signal ? { signal } : {}),
    });
    teardown.add(`lab ${index + 1}`, () => lab.destroy());
    hosts.push(...names.map((name) => ({ name, lab })));
  }
  return { sizes, hosts };
}

async function runCase(
  context: { client: Client; address: string; namespace: string; dir: string; bundlePath: string; log: Logger },
  n: number,
  workerCount: number,
  reboot: boolean,
  signal: AbortSignal | undefined,
  programs: { agent: string; worker: string },
): Promise<ScalingCase> {
  const tag = `${n} hosts, ${workerCount} worker${workerCount === 1 ? '' : 's'}${reboot ? ', reboot on' : ''}`;
  const caseDir = join(context.dir, `case-${n}-${workerCount}`);
  mkdirSync(caseDir, { recursive: true });
  const teardown = new Teardown(context.log);
  const loadAtStart = load1m();
  try {
    say(`${tag}: building labs...`);
    const labsStarted = performance.now();
    const warmUpNames = Array.from({ length: WARM_UP_PER_WORKER * workerCount }, (_, i) => `w${i + 1}`);
    const measuredNames = Array.from({ length: n }, (_, i) => `h${i + 1}`);
    const { sizes, hosts: allHosts } = await buildLabs(caseDir, [...measuredNames, ...warmUpNames], reboot, teardown, signal);
    const labs = [...new Set(allHosts.map((h) => h.lab))];
    const hosts = allHosts.filter((h) => measuredNames.includes(h.name));
    const warmUpHosts = allHosts.filter((h) => warmUpNames.includes(h.name));
    await waitForAgents(labs, allHosts, signal);
    const agentsReadyMs = performance.now() - labsStarted;
    const agentsBefore = await agentMemory(hosts);
    if (!programs.agent) programs.agent = programLine(await processArgv(agentsBefore[0]?.pid ?? 0));

    say(
      `  ${sizes.length} lab(s) of ${sizes.join(' + ')} hosts, every agent answers after ${sec(agentsReadyMs)}; starting ${workerCount} worker process(es)...`,
    );
    const taskQueue = `scaling-${n}-${workerCount}-${uniqueToken()}`;
    const workersStarted = performance.now();
    const workers: WorkerProcess[] = [];
    for (let i = 1; i <= workerCount; i++) {
      const identity = `scaling-worker-${i}`;
      const worker = startWorkerProcess({
        address: context.address,
        namespace: context.namespace,
        taskQueue,
        database: join(caseDir, 'store.sqlite'),
        secretsDir: context.dir,
        workflowBundlePath: context.bundlePath,
        identity,
        dataDir: join(caseDir, identity),
      });
      teardown.add(`worker ${identity}`, () => worker.stop());
      workers.push(worker);
      // One at a time: the first migrates the shared store, the next finds it migrated.
      await untilAborted(waitForPollers(context.client, taskQueue, workers, WORKERS_READY_TIMEOUT_MS), signal);
    }
    const workersReadyMs = performance.now() - workersStarted;
    if (!programs.worker) programs.worker = programLine(await processArgv(workers[0]?.pid ?? 0));
    const workersIdle = await Promise.all(workers.map((w) => processMemory(w.pid)));
    signal?.throwIfAborted();

    // One abort listener per install in flight (untilAborted): more than Node's default warning threshold.
    if (signal) setMaxListeners(Math.max(getMaxListeners(signal), n + warmUpHosts.length + 10), signal);
    say(`  workers poll after ${sec(workersReadyMs)}; warming them up with ${warmUpHosts.length} installs at once (discarded)...`);
    const warmUp = await warmUpWorkers(context.client, warmUpHosts, reboot, signal, taskQueue, workers);
    const cold = workers.filter((w) => !warmUp.workersSeen.includes(w.identity)).map((w) => w.identity);
    say(
      `  warm-up: ${JSON.stringify(warmUp.outcomes)}${cold.length ? `; ${cold.join(', ')} got no warm-up task` : ''}; starting ${n} installs at once...`,
    );
    const t0 = performance.now();
    let finished = 0;
    const installs = Promise.all(
      hosts.map(async ({ name, lab }) => {
        const r = await install(context.client, lab, name, reboot, signal, reboot ? PROXY_HOST : undefined, taskQueue);
        finished += 1;
        if (finished % Math.max(1, Math.round(n / 10)) === 0 || finished === n)
          say(`  ${finished}/${n} done (last: ${r.host} ${r.outcome} in ${sec(r.totalMs)})`);
        return r;
      }),
    );
    // Should a worker die first, the installs' own later failure is no unhandled rejection.
    installs.catch(() => undefined);
    const runs = await Promise.race([installs, ...workers.map((w) => w.unexpectedExit)]);
    const wallMs = performance.now() - t0;

    const [agents, workersAfter] = await Promise.all([agentMemory(hosts), Promise.all(workers.map((w) => processMemory(w.pid)))]);
    const outcomes: Record<string, number> = {};
    for (const r of runs) outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1;
    const pss = agents.map((a) => a.pss).filter((x): x is number => x !== null);
    const result: ScalingCase = {
      hosts: n,
      workers: workerCount,
      reboot,
      labs: sizes,
      agentsReady: { value: round(agentsReadyMs, 1), unit: 'ms' },
      workersReady: { value: round(workersReadyMs, 1), unit: 'ms' },
      warmUp,
      wallClock: { value: round(wallMs, 1), unit: 'ms' },
      throughput: { value: round(n / (wallMs / 60_000), 1), unit: 'installs/minute' },
      perInstall: figure(runs.map((r) => r.totalMs)),
      steps: stepFigures(runs),
      setupNetworks: breakdownFigures(runs),
      outcomes,
      notConfigured: runs.filter((r) => r.outcome !== 'configured'),
      memory: {
        agentRss: memoryFigure(agents.map((a) => a.rss)),
        agentPeakRss: memoryFigure(agents.map((a) => a.peakRss)),
        agentPss: pss.length === agents.length ? memoryFigure(pss) : null,
        agentGroupRss: memoryFigure(agents.map((a) => a.groupRss)),
        agentsTotalPss:
          pss.length === agents.length
            ? {
                value: round(
                  pss.reduce((s, x) => s + x, 0),
                  1,
                ),
                unit: 'MiB',
              }
            : null,
        agentRssBeforeInstall: memoryFigure(agentsBefore.map((a) => a.rss)),
        workers: workers.map((w, i) => ({
          identity: w.identity,
          idle: inMiB(workersIdle[i] as ProcessMemory),
          after: inMiB(workersAfter[i] as ProcessMemory),
        })),
        agents,
      },
      loadAverage1m: { atStart: loadAtStart, atEnd: load1m() },
      runs,
    };
    const m = result.memory;
    say(
      `${tag}: ${n} installs in ${sec(wallMs)} (${result.throughput.value} installs/minute), per install p50 ${sec(result.perInstall.median)} p95 ${sec(result.perInstall.p95)}; outcomes ${JSON.stringify(outcomes)}; agent RSS median ${m.agentRss.median} MiB max ${m.agentRss.max} MiB; worker RSS ${m.workers.map((w) => `${w.after.rss} MiB (peak ${w.after.peakRss})`).join(', ')}; load ${result.loadAverage1m.atStart} → ${result.loadAverage1m.atEnd}`,
    );
    if (result.notConfigured.length)
      say(
        `  NOT configured: ${result.notConfigured.map((r) => `${r.host} ${r.outcome} (${r.failure?.type ?? ''}: ${r.failure?.message ?? ''})`).join('; ')}`,
      );
    return result;
  } finally {
    say(`  ${tag}: tearing down its workers and labs...`);
    await teardown.run();
  }
}

export class AgentsNotServingError extends Error {
  override readonly name = 'AgentsNotServingError';
  constructor(
    readonly hosts: ReadonlyArray<{ host: string; state: string; consoleTail: string }>,
    cause: unknown,
  ) {
    super(
      `${hosts.length} agent(s) not serving: ${hosts.map((h) => `${h.host} (${h.state})`).join(', ')}\n` +
        hosts.map((h) => `--- ${h.host} console, last lines:\n${h.consoleTail}`).join('\n'),
      { cause },
    );
  }
}

function consoleTail(file: string, lines = 12): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no console log)';
  }
}

/**
 * Every lab's agents answer, or an error naming each host whose agent does not, with its console: at once
 * when a boot command died (a dead agent never answers), else after AGENTS_READY_TIMEOUT_MS.
 */
async function waitForAgents(labs: readonly AgentLab[], hosts: readonly LabHost[], signal: AbortSignal | undefined): Promise<void> {
  const watching = new AbortController();
  const died = (async () => {
    while (!watching.signal.aborted) {
      await new Promise((r) => setTimeout(r, 1_000));
      for (const { name, lab } of hosts) {
        if (!watching.signal.aborted && (await lab.testbed.bootPid(name)) === null) throw new Error(`the boot command of ${name} exited`);
      }
    }
  })();
  died.catch(() => undefined);
  try {
    await untilAborted(Promise.race([Promise.all(labs.map((lab) => lab.waitForAgents(AGENTS_READY_TIMEOUT_MS))), died]), signal);
  } catch (err) {
    if (signal?.aborted) throw err;
    const failing = [];
    for (const { name, lab } of hosts) {
      const host = lab.testbed.host(name);
      const running = (await lab.testbed.bootPid(name)) !== null;
      if (running && (await canConnect(host.address, VDSM_PORT))) continue;
      failing.push({
        host: name,
        state: running ? 'running, not listening' : 'boot command exited',
        consoleTail: consoleTail(host.consoleLog),
      });
    }
    // Every agent listens: one did not answer Host.ping2 in time, and the original error says which.
    if (!failing.length) throw err;
    throw new AgentsNotServingError(failing, err);
  } finally {
    watching.abort();
  }
}

/** The warm-up installs, and which workers ran a workflow or activity task of them (from their histories). */
async function warmUpWorkers(
  client: Client,
  hosts: readonly LabHost[],
  reboot: boolean,
  signal: AbortSignal | undefined,
  taskQueue: string,
  workers: readonly WorkerProcess[],
): Promise<ScalingCase['warmUp']> {
  const installs = Promise.all(
    hosts.map(({ name, lab }) => install(client, lab, name, reboot, signal, reboot ? PROXY_HOST : undefined, taskQueue)),
  );
  installs.catch(() => undefined);
  const runs = await Promise.race([installs, ...workers.map((w) => w.unexpectedExit)]);
  const outcomes: Record<string, number> = {};
  for (const r of runs) outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1;
  const seen = new Set<string>();
  for (const { name, lab } of hosts) {
    const history = await client.workflow.getHandle(installWorkflowId(lab.installRequest(name).host.id)).fetchHistory();
    for (const e of history.events ?? []) {
      const identity = e.workflowTaskCompletedEventAttributes?.identity ?? e.activityTaskStartedEventAttributes?.identity;
      if (identity) seen.add(identity);
    }
  }
  return { installs: hosts.length, outcomes, workersSeen: workers.map((w) => w.identity).filter((id) => seen.has(id)) };
}

export async function runInstallScalingBench(options: InstallScalingBenchOptions): Promise<InstallScalingBenchResult> {
  const log = options.log ?? getLogger('bench');
  const reboot = options.reboot ?? false;
  // Before anything is built: the largest case's agents must all be able to start (see bench/inotify-budget.ts).
  // A little more for the dev server and the worker processes, which may watch files too.
  checkInotifyBudget(
    Math.max(...options.hosts.flatMap((n) => options.workers.map((w) => caseHostCount(n, w, reboot) + w))) + INOTIFY_MARGIN,
  );
  const machine = await machineInfo();
  say(`bench install-scaling on ${machineLine(machine)}`);
  const teardown = new Teardown(log);
  const dir = mkdtempSync(join(tmpdir(), 'hostprov-bench-scaling-'));
  teardown.add('scratch dir', () => rmSync(dir, { recursive: true, force: true }));

  try {
    say('starting Temporal (dev server, SQLite, headless) and the workflow bundle...');
    const server = await startBenchServer(dir, teardown, log);
    const bundlePath = await benchWorkflowBundle(dir, log);
    // Payloads encrypted as in production (lib/temporal/payload-codec.ts), with a key of this run's own; the
    // worker processes find it under --secrets-dir, as they find the labs' file: references.
    createPayloadKey(dir);
    const { client, close } = await connectClient(plainConnection(server.address, server.namespace), { payloadKeys: loadPayloadKeys(dir) });
    teardown.add('Temporal client connection', close);

    const programs = { agent: '', worker: '' };
    const cases: ScalingCase[] = [];
    for (const n of options.hosts) {
      for (const w of options.workers) {
        options.signal?.throwIfAborted();
        cases.push(
          await runCase(
            { client, address: server.address, namespace: server.namespace, dir, bundlePath, log },
            n,
            w,
            reboot,
            options.signal,
            programs,
          ),
        );
      }
    }

    const result: InstallScalingBenchResult = {
      benchmark: 'install-scaling',
      machine,
      note: options.note ?? null,
      setup: {
        temporal: 'temporal server start-dev (SQLite WAL in a scratch dir, headless), 127.0.0.1',
        workers:
          '`bin/hostprov worker` processes on one task queue per case, one shared SQLite store, encrypted payloads, prebuilt workflow bundle, default SDK tuning',
        agents: `agent labs of at most ${MAX_HOSTS} hosts each (one subnet per lab): one namespace per host running \`hostprov agent\` as its boot command, mutual TLS, ipmi_sim BMC per host${reboot ? `; every host fenced through its lab's extra host ${PROXY_HOST}` : ''}`,
        agentProgram: programs.agent,
        workerProgram: programs.worker,
        policy: { ...POLICY, reboot },
      },
      cases,
      incomplete: cases
        .filter((c) => c.notConfigured.length)
        .map((c) => ({ hosts: c.hosts, workers: c.workers, notConfigured: c.notConfigured.length })),
      loadAverageAtEnd: loadavg().map((x) => round(x, 2)),
    };
    const paths = writeReport(options.outDir, 'install-scaling', result, scalingMarkdown(result));
    say(`wrote ${paths.json} and ${paths.md}`);
    if (result.incomplete.length)
      say(
        `NOTE: not every install ended configured: ${result.incomplete.map((c) => `${c.hosts} hosts / ${c.workers} workers: ${c.notConfigured}`).join('; ')}`,
      );
    return result;
  } catch (err) {
    // Ctrl-C reaches child processes too (same process group); report the interruption, not its echo.
    if (options.signal?.aborted) throw options.signal.reason;
    throw err;
  } finally {
    say('cleaning up...');
    await teardown.run();
  }
}

function scalingMarkdown(r: InstallScalingBenchResult): string {
  const s = (x: number | undefined) => (x === undefined ? '—' : (x / 1000).toFixed(2));
  const label = (c: ScalingCase) => `${c.hosts} × ${c.workers}w`;
  const timed = [...new Set(r.cases.flatMap((c) => c.steps.filter((x) => x.max > 0).map((x) => x.name)))];
  const notConfigured = r.cases.flatMap((c) =>
    c.notConfigured.map((x) => `- ${label(c)}, ${x.host}: ${x.outcome} (${x.failure?.type ?? ''}: ${x.failure?.message ?? ''})`),
  );
  const reboot = r.setup.policy.reboot === true;
  return [
    '# bench install-scaling',
    '',
    `Machine: ${machineLine(r.machine)}; load average at the end ${r.loadAverageAtEnd.join(' / ')}.`,
    ...(r.note ? ['', `Note: ${r.note}`] : []),
    '',
    `Agents: \`${r.setup.agentProgram}\`; workers: \`${r.setup.workerProgram}\` (separate processes, one task queue, one SQLite store).`,
    '',
    `## N hosts installed at once, reboot ${reboot ? 'on' : 'off'} (columns: hosts × worker processes)`,
    '',
    markdownTable(
      ['figure', ...r.cases.map(label)],
      [
        ['wall-clock, first start → last result (s)', ...r.cases.map((c) => s(c.wallClock.value))],
        ['throughput (installs/minute)', ...r.cases.map((c) => String(c.throughput.value))],
        ['per-install duration p50 (s)', ...r.cases.map((c) => s(c.perInstall.median))],
        ['per-install duration p95 (s)', ...r.cases.map((c) => s(c.perInstall.p95))],
        [
          'outcomes',
          ...r.cases.map((c) =>
            Object.entries(c.outcomes)
              .map(([k, v]) => `${k}: ${v}`)
              .join(', '),
          ),
        ],
        ['agent RSS median / max (MiB)', ...r.cases.map((c) => `${c.memory.agentRss.median} / ${c.memory.agentRss.max}`)],
        [
          'agent peak RSS (VmHWM) median / max (MiB)',
          ...r.cases.map((c) => `${c.memory.agentPeakRss.median} / ${c.memory.agentPeakRss.max}`),
        ],
        [
          'agent Pss median (MiB); all agents together',
          ...r.cases.map((c) => `${c.memory.agentPss?.median ?? '—'}; ${c.memory.agentsTotalPss?.value ?? '—'}`),
        ],
        ['agent + its ip sessions, RSS median (MiB)', ...r.cases.map((c) => String(c.memory.agentGroupRss.median))],
        ['agent RSS before the install, median (MiB)', ...r.cases.map((c) => String(c.memory.agentRssBeforeInstall.median))],
        [
          'worker RSS idle → after (peak), MiB',
          ...r.cases.map((c) => c.memory.workers.map((w) => `${w.idle.rss} → ${w.after.rss} (${w.after.peakRss})`).join('; ')),
        ],
        ['load average (1 min) at case start → end', ...r.cases.map((c) => `${c.loadAverage1m.atStart} → ${c.loadAverage1m.atEnd}`)],
        [
          'warm-up installs (discarded); workers that ran their tasks',
          ...r.cases.map((c) => `${c.warmUp.installs}; ${c.warmUp.workersSeen.length} of ${c.workers}`),
        ],
        ['labs (hosts each); every agent answers after (s)', ...r.cases.map((c) => `${c.labs.join(' + ')}; ${s(c.agentsReady.value)}`)],
      ],
    ),
    '',
    'Per step (seconds, p50 / p95 over the installs of a case):',
    '',
    markdownTable(
      ['step', ...r.cases.map(label)],
      timed.map((name) => [
        name,
        ...r.cases.map((c) => {
          const f = c.steps.find((x) => x.name === name);
          return f ? `${s(f.median)} / ${s(f.p95)}` : '—';
        }),
      ]),
    ),
    ...(notConfigured.length ? ['', 'Installs that did not end `configured`:', '', ...notConfigured] : []),
    '',
    'See bench/README.md for what each figure means and how it is measured.',
  ].join('\n');
}
