/**
 * `hostprov bench start`: what starting costs, from the build (`npm run build`, dist/) against the
 * TypeScript sources through tsx (the baseline: how bin/hostprov ran before the build existed).
 *
 * 1. Agent start, spawn → the "agent serving" log line: one agent alone (repeated), and `concurrent` agents
 *    at once (a fleet booting; the figure is the time until the last serves). Each agent runs in a network
 *    namespace of its own (`ip netns exec`) with a fresh runtime directory, so each does a first-boot
 *    restore of an empty safe configuration, as a freshly installed host does. Variants: the single-file
 *    agent started with its V8 code cache (dist/hostprov-agent.mjs, what `hostprov agent` runs from the
 *    build; cli/agent-launch.ts), the compiled CLI
 *    (dist/hostprov.mjs agent), and tsx (cli/main.ts agent).
 * 2. `hostprov --help` (the whole CLI loaded), from the build and through tsx.
 * 3. Worker start against a local Temporal dev server, startWorker() → polling: with the prebuilt workflow
 *    bundle (dist/workflow-bundle.js) and bundling workflows/ at start (webpack, as a worker without a
 *    build does: bundleWorkflows, then the same startWorker on its output).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AGENT_BUILD_PATH, CLI_BUILD_PATH, WORKFLOW_BUNDLE_PATH } from '../lib/build-info';
import { AGENT_V8_FLAGS } from '../lib/agent-launch-files';
import { getLogger, type Logger } from '../lib/logger';
import { PROJECT_ROOT } from '../lib/paths';
import { run, stopChild } from '../lib/process';
import { plainConnection } from '../lib/temporal/connection';
import { Netns, uniqueToken } from '../testbed/netns';
import { bundleWorkflows } from '../worker/bundle';
import { startWorker } from '../worker/main';
import { machineInfo, machineLine, markdownTable, say, writeReport, type MachineInfo } from './report';
import { afterWarmup, roundSummary, summarize, type Summary } from './stats';
import { Teardown } from './teardown';
import { startBenchServer } from './temporal';

export interface StartBenchOptions {
  outDir: string;
  /** Runs per measurement, the first discarded as warm-up. */
  repetitions: number;
  /** Agents started at once. @default 20 */
  concurrent?: number;
  /** A sentence about the conditions, written into the results. */
  note?: string;
  log?: Logger;
  signal?: AbortSignal;
}

const WARMUP = 1;
const TSX = join(PROJECT_ROOT, 'node_modules', 'tsx', 'dist', 'esm', 'index.mjs');
const START_TIMEOUT_MS = 600_000;

const AgentVariant = {
  SINGLE_FILE: 'single-file agent with its code cache (dist/hostprov-agent.mjs)',
  COMPILED_CLI: 'compiled CLI (dist/hostprov.mjs agent)',
  TSX: 'tsx (cli/main.ts agent), baseline',
} as const;
type AgentVariant = (typeof AgentVariant)[keyof typeof AgentVariant];

function agentArgv(variant: AgentVariant): string[] {
  switch (variant) {
    case AgentVariant.SINGLE_FILE:
      return [process.execPath, ...AGENT_V8_FLAGS, AGENT_BUILD_PATH, 'agent'];
    case AgentVariant.COMPILED_CLI:
      return [process.execPath, ...AGENT_V8_FLAGS, CLI_BUILD_PATH, 'agent'];
    case AgentVariant.TSX:
      return [process.execPath, ...AGENT_V8_FLAGS, '--import', TSX, join(PROJECT_ROOT, 'cli', 'main.ts'), 'agent'];
  }
}

type Figure = Summary & { unit: 'ms' };
const figure = (samples: number[]): Figure => ({ unit: 'ms', ...roundSummary(summarize(samples), 1) });

export interface StartBenchResult {
  benchmark: 'start';
  machine: MachineInfo;
  note: string | null;
  repetitions: number;
  agent: Array<{ variant: AgentVariant; alone: Figure; concurrent: { agents: number; lastServingMs: number } }>;
  cliHelp: { build: Figure; tsx: Figure };
  worker: { prebuiltBundle: Figure; bundlingAtStart: Figure };
}

export async function runStartBench(options: StartBenchOptions): Promise<StartBenchResult> {
  const log = options.log ?? getLogger('bench');
  for (const path of [AGENT_BUILD_PATH, CLI_BUILD_PATH, WORKFLOW_BUNDLE_PATH]) {
    if (!existsSync(path)) throw new Error(`${path} is missing: run npm run build first`);
  }
  const concurrent = options.concurrent ?? 20;
  const machine = await machineInfo();
  say(`bench start on ${machineLine(machine)}`);
  const teardown = new Teardown(log);
  const dir = mkdtempSync(join(tmpdir(), 'hostprov-bench-start-'));
  teardown.add('scratch dir', () => rmSync(dir, { recursive: true, force: true }));
  try {
    const token = uniqueToken();
    const namespaces: Netns[] = [];
    for (let i = 0; i < concurrent; i++) {
      const ns = await Netns.create(`hpst${i}-${token}`);
      teardown.add(`namespace ${ns.name}`, () => ns.destroy());
      namespaces.push(ns);
    }
    let boot = 0;
    const startOne = (variant: AgentVariant, ns: Netns) => agentStartMs(variant, ns, join(dir, `agent-${boot++}`));
    const agent: StartBenchResult['agent'] = [];
    for (const variant of Object.values(AgentVariant)) {
      const samples: number[] = [];
      for (let i = 0; i < options.repetitions; i++) {
        options.signal?.throwIfAborted();
        samples.push(await startOne(variant, namespaces[0] as Netns));
      }
      options.signal?.throwIfAborted();
      const t0 = performance.now();
      await Promise.all(namespaces.map((ns) => startOne(variant, ns)));
      const lastServingMs = Math.round(performance.now() - t0);
      const alone = figure(afterWarmup(samples, WARMUP));
      agent.push({ variant, alone, concurrent: { agents: concurrent, lastServingMs } });
      say(`agent, ${variant}: alone p50 ${alone.median} ms; ${concurrent} at once: all serving after ${lastServingMs} ms`);
    }

    const help = async (env: NodeJS.ProcessEnv): Promise<Figure> => {
      const samples: number[] = [];
      for (let i = 0; i < options.repetitions; i++) {
        const t0 = performance.now();
        await run([join(PROJECT_ROOT, 'bin', 'hostprov'), '--help'], { env: { ...process.env, ...env } });
        samples.push(performance.now() - t0);
      }
      return figure(afterWarmup(samples, WARMUP));
    };
    const cliHelp = { build: await help({ HOSTPROV_FROM_SOURCE: '0' }), tsx: await help({ HOSTPROV_FROM_SOURCE: '1' }) };
    say(`hostprov --help: build p50 ${cliHelp.build.median} ms, tsx p50 ${cliHelp.tsx.median} ms`);

    const worker = await measureWorkerStart(dir, options.repetitions, teardown, log, options.signal);
    say(`worker start: prebuilt bundle p50 ${worker.prebuiltBundle.median} ms, bundling at start p50 ${worker.bundlingAtStart.median} ms`);

    const result: StartBenchResult = {
      benchmark: 'start',
      machine,
      note: options.note ?? null,
      repetitions: options.repetitions,
      agent,
      cliHelp,
      worker,
    };
    const paths = writeReport(options.outDir, 'start', result, startMarkdown(result));
    say(`wrote ${paths.json} and ${paths.md}`);
    return result;
  } finally {
    say('cleaning up...');
    await teardown.run();
  }
}

/** Spawn → "agent serving" on stderr, then the agent is stopped. */
async function agentStartMs(variant: AgentVariant, ns: Netns, dir: string): Promise<number> {
  mkdirSync(dir, { recursive: true });
  const argv = [
    ...agentArgv(variant),
    '--listen',
    '127.0.0.1:0',
    '--insecure',
    '--state-dir',
    join(dir, 'state'),
    '--runtime-dir',
    join(dir, 'run'),
  ];
  const t0 = performance.now();
  const child = spawn('ip', ['netns', 'exec', ns.name, ...argv], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, HOSTPROV_LOG_FORMAT: 'json', HOSTPROV_LOG_LEVEL: 'info' },
    cwd: PROJECT_ROOT,
  });
  try {
    return await new Promise<number>((resolve, reject) => {
      let stderr = '';
      const timer = setTimeout(
        () => reject(new Error(`${variant}: not serving after ${START_TIMEOUT_MS} ms:\n${stderr.slice(-2000)}`)),
        START_TIMEOUT_MS,
      );
      child.stderr?.setEncoding('utf8');
      child.stderr?.on('data', (chunk: string) => {
        stderr += chunk;
        if (stderr.includes('"msg":"agent serving"')) {
          clearTimeout(timer);
          resolve(performance.now() - t0);
        }
      });
      child.on('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`${variant}: exited (${code}) before serving:\n${stderr.slice(-2000)}`));
      });
    });
  } finally {
    await stopChild(child, { timeoutMs: 5_000 });
  }
}

async function measureWorkerStart(
  dir: string,
  repetitions: number,
  teardown: Teardown,
  log: Logger,
  signal: AbortSignal | undefined,
): Promise<StartBenchResult['worker']> {
  const server = await startBenchServer(dir, teardown, log);
  const temporal = plainConnection(server.address, server.namespace);
  const quiet = getLogger('worker').child({}, { level: 'warn' });
  const startAndStop = async (bundlePath: string, n: number): Promise<number> => {
    const t0 = performance.now();
    const worker = await startWorker({
      temporal,
      encryptPayloads: false,
      taskQueue: `bench-start-${n}`,
      dataDir: join(dir, `worker-${n}`),
      workflowBundlePath: bundlePath,
      secrets: { secretsDir: dir },
      log: quiet,
    });
    const elapsed = performance.now() - t0;
    await worker.shutdown();
    return elapsed;
  };
  const prebuilt: number[] = [];
  const bundling: number[] = [];
  for (let i = 0; i < repetitions; i++) {
    signal?.throwIfAborted();
    prebuilt.push(await startAndStop(WORKFLOW_BUNDLE_PATH, 2 * i));
    const t0 = performance.now();
    const path = join(dir, `bundle-${i}.js`);
    writeFileSync(path, await bundleWorkflows(quiet));
    const bundleMs = performance.now() - t0;
    bundling.push(bundleMs + (await startAndStop(path, 2 * i + 1)));
  }
  return { prebuiltBundle: figure(afterWarmup(prebuilt, WARMUP)), bundlingAtStart: figure(afterWarmup(bundling, WARMUP)) };
}

function startMarkdown(r: StartBenchResult): string {
  const row = (f: Figure) => [f.median, f.p95, f.min, f.max];
  const tsx = r.agent.find((a) => a.variant === AgentVariant.TSX);
  const ratio = (x: number, base: number | undefined) => (base ? `×${(base / x).toFixed(1)} faster` : '');
  return [
    '# bench start',
    '',
    `Machine: ${machineLine(r.machine)}.`,
    ...(r.note ? ['', `Conditions: ${r.note}`] : []),
    '',
    `## Agent start: spawn → serving (ms; ${r.repetitions} runs alone, the first discarded; then ${r.agent[0]?.concurrent.agents ?? 0} at once)`,
    '',
    markdownTable(
      [
        'variant',
        'alone p50',
        'alone p95',
        'min',
        'max',
        'vs tsx (p50)',
        `${r.agent[0]?.concurrent.agents ?? 0} at once: last serving`,
        'vs tsx',
      ],
      r.agent.map((a) => [
        a.variant,
        ...row(a.alone),
        ratio(a.alone.median, tsx?.alone.median),
        a.concurrent.lastServingMs,
        ratio(a.concurrent.lastServingMs, tsx?.concurrent.lastServingMs),
      ]),
    ),
    '',
    '## `hostprov --help` (ms)',
    '',
    markdownTable(
      ['variant', 'p50', 'p95', 'min', 'max'],
      [
        ['build (dist/hostprov.mjs)', ...row(r.cliHelp.build)],
        ['tsx, baseline', ...row(r.cliHelp.tsx)],
      ],
    ),
    '',
    '## Worker start: startWorker() → polling (ms)',
    '',
    markdownTable(
      ['variant', 'p50', 'p95', 'min', 'max'],
      [
        ['prebuilt bundle (dist/workflow-bundle.js)', ...row(r.worker.prebuiltBundle)],
        ['bundling workflows/ at start, baseline', ...row(r.worker.bundlingAtStart)],
      ],
    ),
    '',
    'See bench/start.ts for what each figure measures.',
    '',
  ].join('\n');
}
