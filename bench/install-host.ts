/**
 * `hostprov bench install-host`: what one install costs, step by step, with and without the fence reboot,
 * and what N installs started at once do to each other.
 *
 * One Temporal dev server (SQLite in a scratch dir, headless) and one worker in this process, on the
 * production task queue. Hosts are namespaces of an agent lab: each runs the real agent as its boot
 * command (mutual TLS) and has a real ipmi_sim BMC, so a reboot really kills and restarts the agent.
 *
 * 1. Sequential: one lab of 2R + 2 hosts; hosts are installed one after the other, each exactly once
 *    (after a successful install a host's network is safe, so a second install would be
 *    `already-configured`): one warm-up install (discarded), then alternating reboot off and on; every
 *    host's fence proxy is the next host.
 * 2. Concurrent: one lab of N + 1 hosts; installs of the first N (reboot off) are started at once.
 *
 * Durations are wall-clock on the client (start request → result) and the workflow's own step records.
 */
import { getMaxListeners, setMaxListeners } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { getLogger, type Logger } from '../lib/logger';
import { connectClient, plainConnection } from '../lib/temporal/connection';
import { createPayloadKey, loadPayloadKeys } from '../lib/temporal/payload-keys';
import { createAgentLab } from '../testbed/agent-lab';
import { startWorker } from '../worker/main';
import { machineInfo, machineLine, markdownTable, say, writeReport, type MachineInfo } from './report';
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
import { groupCpuMs, pidCpuMs, readProcSnapshot } from './proc-stat';
import { round } from './stats';
import { Teardown } from './teardown';
import { benchWorkflowBundle, startBenchServer } from './temporal';

export interface InstallHostBenchOptions {
  outDir: string;
  /** Hosts installed concurrently (the lab has one more, as fence proxy). */
  hosts: number;
  /** Sequential installs per variant (reboot off / on). */
  repetitions: number;
  /** Also run the N concurrent installs with the reboot on (a second lab). @default true */
  concurrentReboot?: boolean;
  log?: Logger;
  /** Checked between installs and phases: when aborted, the benchmark stops and tears down. */
  signal?: AbortSignal;
}

export type { InstallRun, SetupNetworksBreakdown } from './install-runs';

export interface VariantResult {
  reboot: boolean;
  runs: InstallRun[];
  total: Figure;
  /** Per step with a duration, in workflow order: summary over the runs that have it. */
  steps: Array<{ name: string } & Figure>;
  setupNetworks: Record<keyof SetupNetworksBreakdown, Figure> | null;
}

export interface InstallHostBenchResult {
  benchmark: 'install-host';
  machine: MachineInfo;
  setup: {
    temporal: string;
    worker: string;
    agents: string;
    policy: Record<string, unknown>;
  };
  sequential: { repetitions: number; warmupDiscarded: number; labHosts: number; noReboot: VariantResult; reboot: VariantResult };
  /** N installs started at once, reboot off (fence proxy irrelevant). */
  concurrent: ConcurrentResult;
  /** N installs started at once, reboot on, all fenced through the lab's extra host (not being installed). */
  concurrentReboot: ConcurrentResult | null;
}

export interface ConcurrentResult {
  hosts: number;
  reboot: boolean;
  /** Lab build until every agent answers (not part of any figure below). */
  labReady: { value: number; unit: 'ms' };
  wallClock: { value: number; unit: 'ms' };
  throughput: { value: number; unit: 'installs/minute' };
  perInstall: Figure;
  steps: Array<{ name: string } & Figure>;
  setupNetworks: Record<keyof SetupNetworksBreakdown, Figure> | null;
  outcomes: Record<string, number>;
  notConfigured: InstallRun[];
  runs: InstallRun[];
  /**
   * CPU milliseconds per install, by process, over the installs (reboot off only: a rebooted agent is a new
   * process and its first life's CPU is gone). `benchmark` is this process: the worker and the client.
   */
  cpuPerInstall: { benchmark: number; temporalServer: number; agents: number; total: number; unit: 'ms' } | null;
  /**
   * Reboot on only: CPU milliseconds per install, by process, over the installs. `bmcs` are the installed
   * hosts' ipmi_sims with the power scripts they ran; `fenceProxy` the proxy host's agent with the
   * fence_ipmilan runs (and their ipmitools) it waited for; `agentsAfterReboot` the agents the reboot
   * started, from their boot to the last result. The agents the reboot killed are not counted: their CPU
   * is gone with them (`agents` of the reboot-off phase is that part).
   */
  rebootCpuPerInstall: RebootCpu | null;
}

export interface RebootCpu {
  benchmark: number;
  temporalServer: number;
  bmcs: number;
  fenceProxy: number;
  agentsAfterReboot: number;
  total: number;
  unit: 'ms';
}

function variant(reboot: boolean, runs: InstallRun[]): VariantResult {
  return { reboot, runs, total: figure(runs.map((r) => r.totalMs)), steps: stepFigures(runs), setupNetworks: breakdownFigures(runs) };
}

/** A fresh lab of hosts + 1 hosts; the first `hosts` installed at once, the last one only a fence proxy. */
async function concurrentPhase(
  client: Client,
  dir: string,
  hosts: number,
  reboot: boolean,
  teardown: Teardown,
  signal: AbortSignal | undefined,
  serverPid: number,
): Promise<ConcurrentResult> {
  const tag = reboot ? 'concurrent, reboot on' : 'concurrent, reboot off';
  say(`${tag}: building a lab of ${hosts + 1} hosts...`);
  const labStarted = performance.now();
  const prefix = reboot ? 'r' : 'c';
  const lab = await createAgentLab({
    stateDir: join(dir, `lab-${prefix}`),
    hosts: Array.from({ length: hosts + 1 }, (_, i) => ({ name: `${prefix}${i + 1}` })),
  });
  teardown.add(`${tag} lab`, () => lab.destroy());
  await lab.waitForAgents(120_000);
  const labReadyMs = performance.now() - labStarted;
  signal?.throwIfAborted();
  const proxy = `${prefix}${hosts + 1}`;
  say(`  lab ready in ${sec(labReadyMs)}; starting ${hosts} installs at once${reboot ? ` (each fenced through ${proxy})` : ''}...`);
  // One abort listener per install in flight (untilAborted): more than Node's default warning threshold.
  if (signal) setMaxListeners(Math.max(getMaxListeners(signal), hosts + 10), signal);
  const installed = Array.from({ length: hosts }, (_, i) => `${prefix}${i + 1}`);
  // Each agent leads its process group, with its long-lived `ip` sessions in it.
  const agentGroups = reboot ? null : new Set((await Promise.all(installed.map((h) => lab.testbed.bootPid(h)))).filter((p) => p !== null));
  const bmcPids = new Set(installed.map((h) => lab.testbed.host(h).bmc.pid).filter((p): p is number => p !== null));
  const proxyGroup = reboot ? await lab.testbed.bootPid(proxy) : null;
  const cpuBefore = await readProcSnapshot();
  const t0 = performance.now();
  let finished = 0;
  const runs = await Promise.all(
    Array.from({ length: hosts }, async (_, i) => {
      const r = await install(client, lab, `${prefix}${i + 1}`, reboot, signal, reboot ? proxy : undefined);
      finished += 1;
      say(`  ${finished}/${hosts} ${r.host}: ${r.outcome} in ${sec(r.totalMs)}`);
      return r;
    }),
  );
  const wallMs = performance.now() - t0;
  const cpuAfter = await readProcSnapshot();
  const perInstall = (ms: number) => round(ms / hosts, 1);
  let rebootCpu: RebootCpu | null = null;
  if (reboot) {
    const rebooted = new Set((await Promise.all(installed.map((h) => lab.testbed.bootPid(h)))).filter((p) => p !== null));
    const parts = {
      benchmark: perInstall(pidCpuMs(cpuBefore, cpuAfter, process.pid)),
      temporalServer: perInstall(groupCpuMs(cpuBefore, cpuAfter, new Set([serverPid]))),
      bmcs: perInstall([...bmcPids].reduce((ms, pid) => ms + pidCpuMs(cpuBefore, cpuAfter, pid), 0)),
      fenceProxy: perInstall(proxyGroup === null ? 0 : groupCpuMs(cpuBefore, cpuAfter, new Set([proxyGroup]))),
      agentsAfterReboot: perInstall(groupCpuMs(cpuBefore, cpuAfter, rebooted)),
    };
    const total = round(
      Object.values(parts).reduce((a, b) => a + b, 0),
      1,
    );
    rebootCpu = { ...parts, total, unit: 'ms' };
  }
  const cpu = agentGroups
    ? {
        benchmark: perInstall(pidCpuMs(cpuBefore, cpuAfter, process.pid)),
        temporalServer: perInstall(groupCpuMs(cpuBefore, cpuAfter, new Set([serverPid]))),
        agents: perInstall(groupCpuMs(cpuBefore, cpuAfter, agentGroups)),
      }
    : null;
  await lab.destroy();
  const outcomes: Record<string, number> = {};
  for (const r of runs) outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1;
  const result: ConcurrentResult = {
    hosts,
    reboot,
    labReady: { value: round(labReadyMs, 1), unit: 'ms' },
    wallClock: { value: round(wallMs, 1), unit: 'ms' },
    throughput: { value: round(hosts / (wallMs / 60_000), 1), unit: 'installs/minute' },
    perInstall: figure(runs.map((r) => r.totalMs)),
    steps: stepFigures(runs),
    setupNetworks: breakdownFigures(runs),
    outcomes,
    notConfigured: runs.filter((r) => r.outcome !== 'configured'),
    runs,
    cpuPerInstall: cpu ? { ...cpu, total: round(cpu.benchmark + cpu.temporalServer + cpu.agents, 1), unit: 'ms' } : null,
    rebootCpuPerInstall: rebootCpu,
  };
  say(
    `${tag}: ${hosts} installs in ${sec(wallMs)} (${result.throughput.value} installs/minute), per install p50 ${sec(result.perInstall.median)} p95 ${sec(result.perInstall.p95)}; outcomes ${JSON.stringify(outcomes)}`,
  );
  return result;
}

export async function runInstallHostBench(options: InstallHostBenchOptions): Promise<InstallHostBenchResult> {
  const log = options.log ?? getLogger('bench');
  const { hosts, repetitions } = options;
  const machine = await machineInfo();
  say(`bench install-host on ${machineLine(machine)}`);
  const teardown = new Teardown(log);
  const dir = mkdtempSync(join(tmpdir(), 'hostprov-bench-install-'));
  teardown.add('scratch dir', () => rmSync(dir, { recursive: true, force: true }));

  try {
    say('starting Temporal (dev server, SQLite, headless), bundling workflows, starting a worker...');
    const server = await startBenchServer(dir, teardown, log);
    const bundlePath = await benchWorkflowBundle(dir, log);
    mkdirSync(join(dir, 'worker'), { recursive: true });
    // The labs below keep their references (PKI, BMC passwords) under `dir`.
    // Payloads encrypted as in production (lib/temporal/payload-codec.ts), with a key of this run's own.
    createPayloadKey(dir);
    const payloadKeys = loadPayloadKeys(dir);
    const temporal = plainConnection(server.address, server.namespace);
    const worker = await startWorker({
      temporal,
      dataDir: join(dir, 'worker'),
      workflowBundlePath: bundlePath,
      secrets: { secretsDir: dir },
      allowInsecureAgents: true,
      log: getLogger('worker'),
    });
    teardown.add('worker', async () => {
      // Bounded: after a Ctrl-C the worker may still be draining activities of abandoned installs.
      const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 30_000).unref());
      if ((await Promise.race([worker.shutdown().then(() => 'done' as const), timer])) === 'timeout')
        log.warn('worker did not shut down within 30 s; going on');
    });
    const { client, close } = await connectClient(temporal, { payloadKeys });
    teardown.add('Temporal client connection', close);

    // --- 1. sequential installs: one warm-up (discarded), then alternating reboot off / on --------------------
    const seqHosts = 2 * repetitions + 2;
    say(`sequential: building a lab of ${seqHosts} hosts (agents over mutual TLS, ipmi_sim BMCs)...`);
    const seqLab = await createAgentLab({
      stateDir: join(dir, 'lab-seq'),
      hosts: Array.from({ length: seqHosts }, (_, i) => ({ name: `s${i}` })),
    });
    teardown.add('sequential lab', () => seqLab.destroy());
    await seqLab.waitForAgents();
    const noRebootRuns: InstallRun[] = [];
    const rebootRuns: InstallRun[] = [];
    for (let i = 0; i <= 2 * repetitions; i++) {
      options.signal?.throwIfAborted();
      const warmup = i === 0;
      const reboot = !warmup && i % 2 === 0;
      const host = `s${i}`;
      const r = await install(client, seqLab, host, reboot, options.signal);
      if (!warmup) (reboot ? rebootRuns : noRebootRuns).push(r);
      const steps = r.steps
        .filter((x) => x.durationMs)
        .map((x) => `${x.name} ${sec(x.durationMs ?? 0)}`)
        .join(', ');
      say(
        `  ${host} reboot ${reboot ? 'on ' : 'off'}: ${r.outcome} in ${sec(r.totalMs)}${warmup ? ' (warm-up, discarded)' : ''} (${steps})`,
      );
      if (r.outcome !== 'configured')
        throw new Error(`sequential install of ${host} ended ${r.outcome}: ${r.failure?.type ?? ''} ${r.failure?.message ?? ''}`);
    }
    await seqLab.destroy();

    // --- 2. N installs at once: reboot off, then (a fresh lab) reboot on -----------------------------------
    options.signal?.throwIfAborted();
    const concurrent = await concurrentPhase(client, dir, hosts, false, teardown, options.signal, server.pid);
    options.signal?.throwIfAborted();
    const concurrentReboot =
      options.concurrentReboot === false ? null : await concurrentPhase(client, dir, hosts, true, teardown, options.signal, server.pid);

    const result: InstallHostBenchResult = {
      benchmark: 'install-host',
      machine,
      setup: {
        temporal: 'temporal server start-dev (SQLite WAL in a scratch dir, headless), 127.0.0.1',
        worker: 'one worker in the benchmark process, default SDK tuning, prebuilt workflow bundle',
        agents:
          "agent lab: one namespace per host running `hostprov agent` as its boot command, mutual TLS, ipmi_sim BMC per host; fence proxy = next host (sequential) or the lab's extra host (concurrent)",
        policy: { ...POLICY, reboot: 'per variant' },
      },
      sequential: {
        repetitions,
        warmupDiscarded: 1,
        labHosts: seqHosts,
        noReboot: variant(false, noRebootRuns),
        reboot: variant(true, rebootRuns),
      },
      concurrent,
      concurrentReboot,
    };
    const paths = writeReport(options.outDir, 'install-host', result, installMarkdown(result));
    say(`wrote ${paths.json} and ${paths.md}`);
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

const BREAKDOWN_LABEL: Record<keyof SetupNetworksBreakdown, string> = {
  startToApplied: 'step start → change in the kernel (activity start, connect, agent pipeline)',
  appliedToConfirmed: 'change in the kernel → confirmation received (confirm loop polling)',
  confirmedToStepEnd: 'confirmation received → step end (reply, activity completion)',
};

function cpuSection(c: ConcurrentResult): string[] {
  const cpu = c.cpuPerInstall;
  if (!cpu) return [];
  return [
    '',
    `## Where the CPU goes (${c.hosts} installs at once, reboot off)`,
    '',
    `CPU milliseconds per install, by process, over the ${c.hosts} installs (from /proc; an agent's figure includes its \`ip\` processes):`,
    '',
    markdownTable(
      ['process', 'CPU per install (ms)'],
      [
        ['this process: the worker and the client', String(cpu.benchmark)],
        ['Temporal dev server', String(cpu.temporalServer)],
        ['the host agents', String(cpu.agents)],
        ['**total**', `**${cpu.total}**`],
      ],
    ),
  ];
}

function rebootCpuSection(c: ConcurrentResult): string[] {
  const cpu = c.rebootCpuPerInstall;
  if (!cpu) return [];
  return [
    '',
    `## Where the CPU goes (${c.hosts} installs at once, reboot on)`,
    '',
    `CPU milliseconds per install, by process, over the ${c.hosts} installs (from /proc). The agents the reboot killed are not counted (see the reboot-off table for their share):`,
    '',
    markdownTable(
      ['process', 'CPU per install (ms)'],
      [
        ['this process: the worker and the client', String(cpu.benchmark)],
        ['Temporal dev server', String(cpu.temporalServer)],
        ["the hosts' BMCs (ipmi_sim, with the power scripts they ran)", String(cpu.bmcs)],
        ['the fence proxy agent, with its fence_ipmilan runs and their ipmitools', String(cpu.fenceProxy)],
        ['the agents the reboot started, from their boot', String(cpu.agentsAfterReboot)],
        ['**total**', `**${cpu.total}**`],
      ],
    ),
  ];
}

function installMarkdown(r: InstallHostBenchResult): string {
  const s = (x: number | undefined) => (x === undefined ? '—' : (x / 1000).toFixed(2));
  const { noReboot, reboot } = r.sequential;
  // Decisions the workflow notes (choose-device, devise, ...) take no time; the JSON keeps them.
  const timed = (steps: ReadonlyArray<{ name: string } & Figure>) => steps.filter((x) => x.max > 0).map((x) => x.name);
  const names = [...new Set([...timed(noReboot.steps), ...timed(reboot.steps)])];
  const step = (steps: ReadonlyArray<{ name: string } & Figure>, name: string) => steps.find((x) => x.name === name);
  const phases = [r.concurrent, ...(r.concurrentReboot ? [r.concurrentReboot] : [])];
  const label = (c: ConcurrentResult) => `reboot ${c.reboot ? 'on' : 'off'}`;
  const n = r.concurrent.hosts;
  const notConfigured = phases.flatMap((c) =>
    c.notConfigured.map((x) => `- ${label(c)}, ${x.host}: ${x.outcome} (${x.failure?.type ?? ''}: ${x.failure?.message ?? ''})`),
  );
  const stepNames = [...new Set(phases.flatMap((c) => timed(c.steps)))];
  return [
    '# bench install-host',
    '',
    `Machine: ${machineLine(r.machine)}.`,
    '',
    `## One install at a time, by step (seconds; ${r.sequential.repetitions} installs per variant, each on a fresh host)`,
    '',
    markdownTable(
      ['step', 'reboot off: median', 'max', 'reboot on: median', 'max'],
      [
        ...names.map((name) => [
          name,
          s(step(noReboot.steps, name)?.median),
          s(step(noReboot.steps, name)?.max),
          s(step(reboot.steps, name)?.median),
          s(step(reboot.steps, name)?.max),
        ]),
        [
          '**total (client: start → result)**',
          `**${s(noReboot.total.median)}**`,
          s(noReboot.total.max),
          `**${s(reboot.total.median)}**`,
          s(reboot.total.max),
        ],
      ],
    ),
    '',
    `## ${n} hosts installed concurrently (all started at once; one worker)`,
    '',
    markdownTable(
      ['figure', ...phases.map(label)],
      [
        ['wall-clock, first start → last result (s)', ...phases.map((c) => s(c.wallClock.value))],
        ['throughput (installs/minute)', ...phases.map((c) => String(c.throughput.value))],
        ['per-install duration p50 (s)', ...phases.map((c) => s(c.perInstall.median))],
        ['per-install duration p95 (s)', ...phases.map((c) => s(c.perInstall.p95))],
        ['per-install duration min / max (s)', ...phases.map((c) => `${s(c.perInstall.min)} / ${s(c.perInstall.max)}`)],
        [
          'outcomes',
          ...phases.map((c) =>
            Object.entries(c.outcomes)
              .map(([k, v]) => `${k}: ${v}`)
              .join(', '),
          ),
        ],
      ],
    ),
    '',
    `Per step under concurrency (seconds, p50 / p95 over ${n} installs):`,
    '',
    markdownTable(
      ['step', ...phases.map(label)],
      stepNames.map((name) => [
        name,
        ...phases.map((c) => {
          const f = step(c.steps, name);
          return f ? `${s(f.median)} / ${s(f.p95)}` : '—';
        }),
      ]),
    ),
    '',
    '## Where setup-networks spends its time',
    '',
    "Split at the host agent's journal entries (seconds; median, and p50 / p95 under concurrency):",
    '',
    markdownTable(
      [
        'part of setup-networks',
        'one at a time, reboot off',
        'one at a time, reboot on',
        ...phases.map((c) => `${n} at once, ${label(c)}`),
      ],
      (['startToApplied', 'appliedToConfirmed', 'confirmedToStepEnd'] as const).map((k) => [
        BREAKDOWN_LABEL[k],
        s(noReboot.setupNetworks?.[k].median),
        s(reboot.setupNetworks?.[k].median),
        ...phases.map((c) => `${s(c.setupNetworks?.[k].median)} / ${s(c.setupNetworks?.[k].p95)}`),
      ]),
    ),
    ...cpuSection(r.concurrent),
    ...(r.concurrentReboot ? rebootCpuSection(r.concurrentReboot) : []),
    ...(notConfigured.length ? ['', 'Installs that did not end `configured`:', '', ...notConfigured] : []),
    '',
    'See bench/README.md for what each figure means and how it is measured.',
  ].join('\n');
}
