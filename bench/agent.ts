/**
 * `hostprov bench agent`: what the agent's network pipeline costs next to the kernel work it does, how long
 * an unconfirmed change takes to come back, and what a `Host.confirmConnectivity` round trip costs.
 *
 * 1. setupNetworks of N bridged static networks (N = 1, 10, 100) on a namespace with 100 veth NICs, through
 *    the real client → STOMP → JSON-RPC → agent (read, canonicalize, validate, plan, apply as one `ip -batch`,
 *    re-read, verify, persist), against the floor: the same plan rendered to `ip -batch` lines and run as
 *    ONE `ip -n <ns> -batch <file>` from the same starting state. Both are undone after each run (the removals
 *    are timed as a figure of their own), and the starting state is checked to be identical before every run.
 *    The agent runs independent stacks in two `ip -batch` processes at once (agent/backend/iproute2/apply.ts),
 *    so a second floor shows what that alone gains: the same two batches, as files, run at once.
 * 2. apply → rollback-complete: one bridged network with the connectivity check on, a 1 s timeout and no
 *    confirmation, timed from sending to receiving VDSM code 10.
 * 3. confirmConnectivity round trips over an established session and over a fresh connection each time,
 *    plain TCP and mutual TLS.
 *
 * The agent runs in this process in `netns` mode (acting on the namespace from outside, serving on
 * loopback), so client, agent and the `ip` processes share this machine's two cores, as they would not in
 * production (the engine/worker is elsewhere). The agent logs at info level to a file in the scratch dir.
 */
import dc from 'node:diagnostics_channel';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { setImmediate as nextCheckPhase } from 'node:timers/promises';
import { join } from 'node:path';
import { pino } from 'pino';
import type { NetworkBackend } from '../agent/backend/backend';
import { createLinuxBackend, defaultApplyProcesses } from '../agent/backend/linux-backend';
import { applyStepsFromPlan, concurrentBatchesOf } from '../agent/backend/iproute2/apply';
import { batchLinesFromOps } from '../agent/backend/iproute2/batch';
import { startAgent, type RunningAgent } from '../agent/agent-service';
import { readJournal } from '../agent/network/journal';
import { AgentClient, withFreshConnection } from '../vdsm/client/client';
import { AgentRpcError } from '../vdsm/client/errors';
import type { AgentEndpointInput } from '../vdsm/client/endpoint';
import { getLogger, type Logger } from '../lib/logger';
import { ensurePki } from '../lib/pki';
import { run } from '../lib/process';
import { isIpOp, type KernelState, type Plan } from '../model/net-state';
import { canonicalizeRequest } from '../model/network/canonicalize';
import { EMPTY_CONFIG, mergeRunningConfig, type RunningConfig } from '../model/network/config';
import { desiredStateForChange } from '../model/network/desired-state';
import { planChanges } from '../model/network/plan';
import { VdsmCode } from '../model/vdsm/error-codes';
import { SetupNetworksParams, type NetworkAttributes } from '../model/vdsm/setup-networks';
import { Netns, uniqueToken } from '../testbed/netns';
import { machineInfo, machineLine, markdownTable, say, writeReport, type MachineInfo } from './report';
import { afterWarmup, round, roundSummary, summarize, type Summary } from './stats';
import { recordGcPauses, type GcPauses } from './gc-pauses';
import { Teardown } from './teardown';

export interface AgentBenchOptions {
  outDir: string;
  /** Runs per measurement, the first of which is discarded as warm-up. */
  repetitions: number;
  /** Networks per setupNetworks. @default [1, 10, 100] */
  sizes?: number[];
  /** confirmConnectivity calls over one established session (after `confirmWarmup`). @default 2000 */
  confirmCalls?: number;
  /** confirmConnectivity calls each over a fresh connection (after `confirmWarmup`). @default 300 */
  freshCalls?: number;
  log?: Logger;
  /** Checked between runs: when aborted, the benchmark stops and tears down. */
  signal?: AbortSignal;
}

const NIC_COUNT = 100;
const WARMUP = 1;
const CONFIRM_WARMUP = 20;
const ROLLBACK_TIMEOUT_S = 1;
const CALL_TIMEOUT_MS = 120_000;

type Figure = Summary & { unit: 'ms' };

export interface SizeResult {
  networks: number;
  /** Ops of the plan (the agent's, from its journal; the floor's is checked to be the same). */
  planOps: number;
  /** Lines of the floor's `ip -batch` file (one per op). */
  batchLines: number;
  agent: Figure & { samples: number[] };
  floor: Figure & { samples: number[] };
  /** agent / floor, of the medians and of the p95s. */
  ratio: { median: number; p95: number };
  /**
   * The plan as the agent's concurrent batches (two `ip -batch` files run at once), and agent / that; null
   * when the plan is one stack (one batch).
   */
  floorAsAgentBatches: { batches: number; figure: Figure; ratio: { median: number; p95: number } } | null;
  /** Child processes the agent spawned per apply (median over the measured runs), by role. */
  processesPerApply: { ipRead: number; ipApply: number; other: number; unit: 'processes' };
  /** Of the agent's time, the wall time during which one of its `ip` processes was alive (fork → exit). */
  agentTimeInChildProcesses: Figure;
  /** Garbage-collector pauses of this process (the agent's and the client's) during each call (medians). */
  gcDuringAgent: { count: number; ms: Figure };
  /**
   * Pieces of the agent's pipeline timed on their own (the agent does each of them): one full kernel read
   * (three `ip -j` batches in parallel, parsed to the model; the agent's verify read after the apply is a
   * smaller one) and the pure model pipeline (canonicalize, merge, desired state, plan, render to batch lines).
   */
  pieces: { kernelRead: Figure; modelPipeline: Figure };
  /** Removing the N networks again (`remove: true` through the agent; the undo plan as one ip -batch). */
  removal: { agent: Figure; floor: Figure };
}

export interface AgentBenchResult {
  benchmark: 'agent';
  machine: MachineInfo;
  setup: {
    nics: number;
    repetitions: number;
    warmupDiscarded: number;
    transport: string;
    agentLogLevel: string;
    /** `process.execArgv`: the agent runs in this process, so these are its V8 flags too. */
    nodeFlags: string;
    /** Where the agent's runtime directory was, and on what file system (production: /run, a tmpfs). */
    runtimeDir: string;
  };
  setupNetworks: SizeResult[];
  rollback: {
    connectivityTimeoutMs: number;
    /** Sending setupNetworks → receiving code 10. */
    total: Figure;
    /** total − the 1 s timeout: apply pipeline + waiting slack + rollback (re-read, plan, apply, re-save). */
    overhead: Figure;
    /** The overhead split at the agent's journal entries (wall clock, 1 ms resolution). */
    parts: { resolutionMs: number; sendToApplied: Figure; appliedToRolledBackMinusTimeout: Figure; rolledBackToReply: Figure } | null;
  };
  confirm: Record<'plain' | 'tls', { established: Figure; fresh: Figure }>;
}

function figure(samples: number[]): Figure {
  return { unit: 'ms', ...roundSummary(summarize(samples), 3) };
}

function networksFor(n: number): Record<string, NetworkAttributes> {
  const networks: Record<string, NetworkAttributes> = {};
  for (let i = 0; i < n; i++) networks[`bn${i}`] = { nic: `eth${i}`, bridged: 'true', ipaddr: `10.200.${i}.1`, netmask: '255.255.255.0' };
  return networks;
}

/** Kernel state without volatile fields, as a string, to check that every run starts from the same state. */
function fingerprint(state: KernelState): string {
  return JSON.stringify({
    links: state.links.map((l) => [l.name, l.kind, l.master ?? null, l.up, l.mtu, l.mac]).sort(),
    addresses: state.addresses.map((a) => `${a.dev} ${a.address}/${a.prefixLen}`).sort(),
    routes: state.routes.map((r) => JSON.stringify({ ...r, protocol: undefined })).sort(),
    rules: state.rules.map((r) => JSON.stringify(r)).sort(),
  });
}

/** The plan the agent makes for `params` from `running` on `current` (the same model functions it calls). */
function planFor(
  params: Record<string, unknown>,
  running: RunningConfig,
  current: KernelState,
  nameservers: string[],
): { plan: Plan; next: RunningConfig } {
  const request = canonicalizeRequest(SetupNetworksParams.parse(params), { currentNameservers: nameservers, running });
  const next = mergeRunningConfig(running, request);
  return { plan: planChanges(current, desiredStateForChange(running, next, current), []), next };
}

/** The plan as `ip -batch` input; every op must be a plain (IPv4/link) ip op, so one process runs it all. */
function batchInput(plan: Plan): string {
  if (!plan.ops.every(isIpOp)) throw new Error('floor: the plan has DHCP ops; it cannot be one ip -batch');
  const lines = batchLinesFromOps(plan.ops);
  if (lines.some((l) => l.familyFlag === '-6')) throw new Error('floor: the plan needs an ip -6 batch');
  return lines.map((l) => `${l.text}\n`).join('');
}

interface SpawnCount {
  ipRead: number;
  ipApply: number;
  other: number;
  /** Wall time during which at least one child process was alive (spawn → exit, overlaps merged). */
  childMs: number;
}

/**
 * Child processes spawned while `fn` runs, and how long they were alive: Node's `child_process`
 * diagnostics channel hands us each ChildProcess as it is constructed; nothing is wrapped or patched.
 * A process still alive when `fn` is done is the spare `ip -batch` the agent started for its next apply
 * (agent/backend/iproute2/batch-launcher.ts): it is counted, but it has done nothing yet, so it adds no
 * time. The spare this apply used was started before `fn`, so it is neither counted nor timed.
 */
async function countSpawns<T>(fn: () => Promise<T>): Promise<{ value: T } & SpawnCount> {
  const children: Array<{ child: ChildProcess; start: number; end: number | null }> = [];
  const listener = (message: unknown) => {
    const child = (message as { process?: ChildProcess }).process;
    if (!child) return;
    const entry = { child, start: performance.now(), end: null as number | null };
    children.push(entry);
    child.once('exit', () => (entry.end = performance.now()));
  };
  dc.subscribe('child_process', listener);
  let value: T;
  try {
    value = await fn();
  } finally {
    dc.unsubscribe('child_process', listener);
  }
  let ipRead = 0;
  let ipApply = 0;
  let other = 0;
  const intervals: Array<[number, number]> = [];
  for (const { child, start, end } of children) {
    // spawnfile/spawnargs are set once the process was spawned (after the channel message).
    if (child.spawnfile !== 'ip') other += 1;
    else if (child.spawnargs.includes('-j')) ipRead += 1;
    else ipApply += 1;
    if (end !== null) intervals.push([start, end]);
  }
  intervals.sort((a, b) => a[0] - b[0]);
  let childMs = 0;
  let cursor = -Infinity;
  for (const [a, b] of intervals) {
    if (b <= cursor) continue;
    childMs += b - Math.max(a, cursor);
    cursor = b;
  }
  return { value, ipRead, ipApply, other, childMs };
}

interface RollbackParts {
  sendToApplied: number;
  appliedToRolledBack: number;
  rolledBackToReply: number;
}

/** The last apply → rollback pair of the agent's journal against our send/reply times (ms resolution). */
function rollbackPartsFromJournal(agent: RunningAgent, sentAt: number, repliedAt: number): RollbackParts | null {
  const entries = readJournal(agent.journalFile);
  const rollback = entries.at(-1);
  const apply = entries.at(-2);
  if (rollback?.kind !== 'rollback' || apply?.kind !== 'apply' || apply.outcome !== 'ok') return null;
  const applied = Date.parse(apply.at);
  const rolledBack = Date.parse(rollback.at);
  return { sendToApplied: applied - sentAt, appliedToRolledBack: rolledBack - applied, rolledBackToReply: repliedAt - rolledBack };
}

function journalOps(agent: RunningAgent): number | undefined {
  const last = readJournal(agent.journalFile).at(-1);
  return last?.kind === 'apply' ? last.ops : undefined;
}

const ms = (x: number) => `${x.toFixed(1)} ms`;

/** What one benchmark run measures, resolved from the options. */
interface BenchSettings {
  sizes: number[];
  repetitions: number;
  confirmCalls: number;
  freshCalls: number;
  signal: AbortSignal | undefined;
}

/** The scratch dir (removed at teardown) and the agents' log file in it. */
interface Scratch {
  dir: string;
  token: string;
  agentLog: Logger;
  agentLogFile: string;
}

/** The benchmark host: a namespace of veth NICs, the agent acting on it, a client, and a reader of its kernel state. */
interface BenchHost {
  namespace: Netns;
  agent: RunningAgent;
  client: AgentClient;
  endpoint: AgentEndpointInput;
  reader: NetworkBackend;
  nameservers: string[];
  /** Fingerprint of the starting state: every run must leave the host exactly so. */
  baseline: string;
  /** What the agent's runtime directory is on, for the report. */
  runtimeDirKind: string;
  assertBaseline(what: string): Promise<void>;
}

export async function runAgentBench(options: AgentBenchOptions): Promise<AgentBenchResult> {
  const log = options.log ?? getLogger('bench');
  const settings = settingsOf(options);
  const machine = await machineInfo();
  say(`bench agent on ${machineLine(machine)}`);
  const teardown = new Teardown(log);
  const scratch = createScratch(teardown);
  try {
    const bench = await setUpBenchHost(scratch, teardown);
    const setupNetworks: SizeResult[] = [];
    for (const n of settings.sizes) setupNetworks.push(await measureSetupNetworks(bench, n, settings, scratch.dir));
    const rollback = await measureRollback(bench, settings);
    const confirm = await measureConfirm(bench, settings, scratch, teardown);

    const result: AgentBenchResult = {
      benchmark: 'agent',
      machine,
      setup: {
        nics: NIC_COUNT,
        repetitions: settings.repetitions,
        warmupDiscarded: WARMUP,
        transport: 'agent in-process (netns mode) on 127.0.0.1; client in the same process',
        agentLogLevel: 'info (to a file)',
        nodeFlags: process.execArgv.join(' '),
        runtimeDir: bench.runtimeDirKind,
      },
      setupNetworks,
      rollback,
      confirm,
    };
    const paths = writeReport(options.outDir, 'agent', result, agentMarkdown(result, settings.confirmCalls, settings.freshCalls));
    say(`wrote ${paths.json} and ${paths.md}`);
    return result;
  } catch (err) {
    // Ctrl-C reaches our `ip` children too (same process group); report the interruption, not its echo.
    if (options.signal?.aborted) throw options.signal.reason;
    logAgentLogTail(log, scratch.agentLogFile);
    throw err;
  } finally {
    say('cleaning up...');
    await teardown.run();
    scratch.agentLog.flush();
  }
}

function settingsOf(options: AgentBenchOptions): BenchSettings {
  const settings = {
    sizes: options.sizes ?? [1, 10, 100],
    repetitions: options.repetitions,
    confirmCalls: options.confirmCalls ?? 2000,
    freshCalls: options.freshCalls ?? 300,
    signal: options.signal,
  };
  if (Math.max(...settings.sizes) > NIC_COUNT) throw new Error(`at most ${NIC_COUNT} networks`);
  if (settings.repetitions <= WARMUP) throw new Error(`repetitions must be more than the ${WARMUP} warm-up run`);
  return settings;
}

function createScratch(teardown: Teardown): Scratch {
  const dir = mkdtempSync(join(tmpdir(), 'hostprov-bench-agent-'));
  teardown.add('scratch dir', () => rmSync(dir, { recursive: true, force: true }));
  const agentLogFile = join(dir, 'agent.log');
  const agentLog = pino(
    { level: 'info', base: { pid: process.pid, component: 'agent' } },
    pino.destination({ dest: agentLogFile, sync: true }),
  );
  return { dir, token: uniqueToken(), agentLog, agentLogFile };
}

/** The host: 100 veth NICs whose peers sit in a second namespace, and the agent acting on it. */
async function setUpBenchHost(scratch: Scratch, teardown: Teardown): Promise<BenchHost> {
  const { dir, token, agentLog } = scratch;
  say(`setting up: namespace with ${NIC_COUNT} veth NICs, agent (netns mode, insecure loopback)...`);
  const namespace = await Netns.create(`hpbh-${token}`);
  teardown.add(`namespace ${namespace.name}`, () => namespace.destroy());
  const peer = await Netns.create(`hpbp-${token}`);
  teardown.add(`namespace ${peer.name}`, () => peer.destroy());
  const pairs = Array.from(
    { length: NIC_COUNT },
    (_, i) => `link add name eth${i} netns ${namespace.name} type veth peer name p${i} netns ${peer.name}\n`,
  );
  await run(['ip', '-batch', '-'], { input: pairs.join('') });
  await namespace.ip(['-batch', '-'], { input: Array.from({ length: NIC_COUNT }, (_, i) => `link set dev eth${i} up\n`).join('') });
  await peer.ip(['-batch', '-'], { input: Array.from({ length: NIC_COUNT }, (_, i) => `link set dev p${i} up\n`).join('') });

  const runtime = runtimeDirLikeProduction(dir, token, teardown);
  const agent = await startAgent({
    listen: { host: '127.0.0.1', port: 0 },
    stateDir: join(dir, 'state'),
    runtimeDir: runtime.dir,
    tls: 'insecure',
    netns: namespace.name,
    log: agentLog,
  });
  teardown.add('agent', () => agent.close());
  const endpoint: AgentEndpointInput = { host: '127.0.0.1', port: agent.address.port, tls: { insecure: true } };
  const client = await AgentClient.connect(endpoint, { callTimeoutMs: CALL_TIMEOUT_MS });
  teardown.add('client', () => client.close());
  const reader: NetworkBackend = createLinuxBackend({ netns: namespace.name, runtimeDir: join(dir, 'reader'), log: agentLog });
  teardown.add('reader', () => reader.close());
  const nameservers = await reader.nameservers();
  const baseline = fingerprint(await reader.read());
  return {
    namespace,
    agent,
    client,
    endpoint,
    reader,
    nameservers,
    baseline,
    runtimeDirKind: runtime.kind,
    async assertBaseline(what: string) {
      if (fingerprint(await reader.read()) !== baseline) throw new Error(`${what}: the host is not back in its starting state`);
    },
  };
}

/**
 * The agent's runtime directory on a tmpfs, as on a production host (systemd's /run): the pending transaction
 * is written there three times per change (agent/persistence/pending-transaction.ts). /run when it is a
 * tmpfs, else /dev/shm; the scratch dir (disk) only when neither is.
 */
function runtimeDirLikeProduction(scratchDir: string, token: string, teardown: Teardown): { dir: string; kind: string } {
  const tmpfs = new Set(
    readFileSync('/proc/mounts', 'utf8')
      .split('\n')
      .map((line) => line.split(' '))
      .filter((fields) => fields[2] === 'tmpfs')
      .map((fields) => fields[1]),
  );
  const base = ['/run', '/dev/shm'].find((path) => tmpfs.has(path));
  if (!base) return { dir: join(scratchDir, 'run'), kind: 'the scratch dir (no tmpfs at /run or /dev/shm)' };
  const dir = join(base, `hostprov-bench-agent-${token}`);
  teardown.add('runtime dir', () => rmSync(dir, { recursive: true, force: true }));
  return { dir, kind: `tmpfs (${base}), as /run on a production host` };
}

/** 1. setupNetworks of N bridged networks through the agent vs the floor, each undone after every run. */
async function measureSetupNetworks(bench: BenchHost, n: number, settings: BenchSettings, dir: string): Promise<SizeResult> {
  const networks = networksFor(n);
  const params = { networks, bondings: {}, options: { connectivityCheck: 'false' } };
  const removal = {
    networks: Object.fromEntries(Object.keys(networks).map((name) => [name, { remove: true }])),
    bondings: {},
    options: { connectivityCheck: 'false' },
  };
  const agentRuns: AgentRun[] = [];
  const floorRuns: FloorRun[] = [];
  const gc = recordGcPauses();
  try {
    for (let rep = 0; rep < settings.repetitions; rep++) {
      settings.signal?.throwIfAborted();
      const agentRun = await runThroughAgent(bench, n, params, removal, gc);
      const floorRun = await runFloor(bench, n, params, removal, agentRun.ops, dir);
      agentRuns.push(agentRun);
      floorRuns.push(floorRun);
      const tag = rep < WARMUP ? ' (warm-up, discarded)' : '';
      say(
        `  setupNetworks N=${n} run ${rep + 1}/${settings.repetitions}: agent ${ms(agentRun.applyMs)}, floor ${ms(floorRun.applyMs)}; removal: agent ${ms(agentRun.removeMs)}, floor ${ms(floorRun.removeMs)}${tag}`,
      );
    }
  } finally {
    gc.stop();
  }
  await bench.assertBaseline(`after N=${n}`);
  const result = sizeResult(n, agentRuns, floorRuns);
  say(
    `setupNetworks N=${n}: agent median ${ms(result.agent.median)} / floor ${ms(result.floor.median)} = ×${round(result.agent.median / result.floor.median, 1)} (${result.planOps} ops)`,
  );
  return result;
}

interface AgentRun {
  applyMs: number;
  spawns: SpawnCount;
  /** Ops the agent applied, from its journal. */
  ops: number | undefined;
  removeMs: number;
  gc: { count: number; ms: number };
}

/** The agent, through the client: apply (counting the processes it spawns), then remove. */
async function runThroughAgent(
  bench: BenchHost,
  n: number,
  params: Record<string, unknown>,
  removal: Record<string, unknown>,
  gcPauses: GcPauses,
): Promise<AgentRun> {
  await bench.assertBaseline(`before agent apply (N=${n})`);
  const counted = await countSpawns(async () => {
    const t0 = performance.now();
    const result = await bench.client.call('Host.setupNetworks', params, { timeoutMs: CALL_TIMEOUT_MS });
    const t1 = performance.now();
    return { elapsed: t1 - t0, result, gc: gcPauses.between(t0, t1) };
  });
  if ((counted.value.result as { code?: number }).code !== 0)
    throw new Error(`setupNetworks(N=${n}) answered ${JSON.stringify(counted.value.result)}`);
  const ops = journalOps(bench.agent);
  const tRemove = performance.now();
  await bench.client.call('Host.setupNetworks', removal, { timeoutMs: CALL_TIMEOUT_MS });
  const removeMs = performance.now() - tRemove;
  return {
    applyMs: counted.value.elapsed,
    spawns: { ipRead: counted.ipRead, ipApply: counted.ipApply, other: counted.other, childMs: counted.childMs },
    ops,
    removeMs,
    gc: counted.value.gc,
  };
}

interface FloorRun {
  readMs: number;
  planMs: number;
  planOps: number;
  batchLines: number;
  applyMs: number;
  removeMs: number;
  /** Batches the agent runs the plan as (apply.ts), and the time to run them as files at once (null: one). */
  agentBatches: number;
  asAgentBatchesMs: number | null;
}

/**
 * The floor: the same plan (made by the same model functions) as one `ip -batch` file, then its undo as
 * another. The plan must have as many ops as the agent applied (`agentOps`, when its journal told).
 */
async function runFloor(
  bench: BenchHost,
  n: number,
  params: Record<string, unknown>,
  removal: Record<string, unknown>,
  agentOps: number | undefined,
  dir: string,
): Promise<FloorRun> {
  const { reader, namespace, nameservers } = bench;
  await agentIdle();
  const tRead = performance.now();
  const current = await reader.read();
  const readMs = performance.now() - tRead;
  if (fingerprint(current) !== bench.baseline)
    throw new Error(`before floor apply (N=${n}): the agent's removal did not restore the starting state`);
  const tPlan = performance.now();
  const { plan, next } = planFor(params, EMPTY_CONFIG, current, nameservers);
  const input = batchInput(plan);
  const planMs = performance.now() - tPlan;
  if (agentOps !== undefined && agentOps !== plan.ops.length)
    throw new Error(`N=${n}: the agent applied ${agentOps} ops, the floor plan has ${plan.ops.length}`);
  const file = join(dir, `floor-${n}.batch`);
  writeFileSync(file, input);
  const t0 = performance.now();
  await run(['ip', '-n', namespace.name, '-batch', file]);
  const applyMs = performance.now() - t0;
  const undoFile = join(dir, `floor-${n}-undo.batch`);
  const undo = async (): Promise<number> => {
    writeFileSync(undoFile, batchInput(planFor(removal, next, await reader.read(), nameservers).plan));
    const tUndo = performance.now();
    await run(['ip', '-n', namespace.name, '-batch', undoFile]);
    return performance.now() - tUndo;
  };
  const removeMs = await undo();

  // The same plan as the agent's concurrent batches, each a file, run at once; undone as above.
  const parts = agentBatchInputs(plan);
  let asAgentBatchesMs: number | null = null;
  if (parts.length > 1) {
    const files = parts.map((part, i) => {
      const partFile = join(dir, `floor-${n}-batch${i + 1}.batch`);
      writeFileSync(partFile, part);
      return partFile;
    });
    const tParts = performance.now();
    await Promise.all(files.map((partFile) => run(['ip', '-n', namespace.name, '-batch', partFile])));
    asAgentBatchesMs = performance.now() - tParts;
    await undo();
  }
  return {
    readMs,
    planMs,
    planOps: plan.ops.length,
    batchLines: input.split('\n').length - 1,
    applyMs,
    removeMs,
    agentBatches: parts.length,
    asAgentBatchesMs,
  };
}

/** The plan's lines as the batches the agent runs at once on this machine (one, when the plan is one stack). */
function agentBatchInputs(plan: Plan): string[] {
  const steps = applyStepsFromPlan(plan);
  const step = steps[0];
  if (steps.length !== 1 || step?.kind !== 'ip-batch') throw new Error('floor: the plan is not one ip -batch');
  return concurrentBatchesOf(step, plan, defaultApplyProcesses()).map((batch) => batch.lines.map((line) => `${line}\n`).join(''));
}

/**
 * Lets the in-process agent finish what it does after answering a network verb: two turns of the event
 * loop after its answer it starts the spare `ip -batch` for its next apply (batch-launcher.ts), and that
 * fork blocks this shared event loop for a few ms (more the larger this process). The timed read waits for
 * it: before it did, the kernel-read figure carried the agent's fork.
 */
async function agentIdle(): Promise<void> {
  for (let turn = 0; turn < 3; turn++) await nextCheckPhase();
}

function sizeResult(n: number, agentRuns: AgentRun[], floorRuns: FloorRun[]): SizeResult {
  const agentMs = agentRuns.map((r) => r.applyMs);
  const floorMs = floorRuns.map((r) => r.applyMs);
  const agentFig = figure(afterWarmup(agentMs, WARMUP));
  const floorFig = figure(afterWarmup(floorMs, WARMUP));
  const measuredSpawns = afterWarmup(
    agentRuns.map((r) => r.spawns),
    WARMUP,
  );
  const med = (pick: (s: SpawnCount) => number) => summarize(measuredSpawns.map(pick)).median;
  const measuredFloor = (pick: (r: FloorRun) => number) => figure(afterWarmup(floorRuns.map(pick), WARMUP));
  const last = floorRuns.at(-1);
  return {
    networks: n,
    planOps: last?.planOps ?? 0,
    batchLines: last?.batchLines ?? 0,
    agent: { ...agentFig, samples: agentMs.map((x) => round(x, 3)) },
    floor: { ...floorFig, samples: floorMs.map((x) => round(x, 3)) },
    ratio: { median: round(agentFig.median / floorFig.median, 2), p95: round(agentFig.p95 / floorFig.p95, 2) },
    floorAsAgentBatches: asAgentBatches(agentFig, floorRuns),
    processesPerApply: { ipRead: med((s) => s.ipRead), ipApply: med((s) => s.ipApply), other: med((s) => s.other), unit: 'processes' },
    agentTimeInChildProcesses: figure(measuredSpawns.map((s) => s.childMs)),
    gcDuringAgent: {
      count: summarize(
        afterWarmup(
          agentRuns.map((r) => r.gc.count),
          WARMUP,
        ),
      ).median,
      ms: figure(
        afterWarmup(
          agentRuns.map((r) => r.gc.ms),
          WARMUP,
        ),
      ),
    },
    removal: {
      agent: figure(
        afterWarmup(
          agentRuns.map((r) => r.removeMs),
          WARMUP,
        ),
      ),
      floor: measuredFloor((r) => r.removeMs),
    },
    pieces: { kernelRead: measuredFloor((r) => r.readMs), modelPipeline: measuredFloor((r) => r.planMs) },
  };
}

function asAgentBatches(agentFig: Figure, floorRuns: FloorRun[]): SizeResult['floorAsAgentBatches'] {
  const samples = afterWarmup(floorRuns, WARMUP).map((r) => r.asAgentBatchesMs);
  if (samples.length === 0 || samples.some((ms) => ms === null)) return null;
  const fig = figure(samples as number[]);
  return {
    batches: floorRuns.at(-1)?.agentBatches ?? 1,
    figure: fig,
    ratio: { median: round(agentFig.median / fig.median, 2), p95: round(agentFig.p95 / fig.p95, 2) },
  };
}

/** 2. apply → rollback complete: one bridged network, connectivity check on, a 1 s timeout, no confirmation. */
async function measureRollback(bench: BenchHost, settings: BenchSettings): Promise<AgentBenchResult['rollback']> {
  const rollbackMs: number[] = [];
  const rollbackParts: RollbackParts[] = [];
  for (let rep = 0; rep < settings.repetitions; rep++) {
    settings.signal?.throwIfAborted();
    await bench.assertBaseline('before the unconfirmed change');
    const { elapsed, parts } = await unconfirmedChange(bench);
    rollbackMs.push(elapsed);
    if (parts) rollbackParts.push(parts);
    say(`  apply→rollback run ${rep + 1}/${settings.repetitions}: ${ms(elapsed)}${rep < WARMUP ? ' (warm-up, discarded)' : ''}`);
  }
  await bench.assertBaseline('after the rollbacks');
  const rollback = rollbackFigures(rollbackMs, rollbackParts.length === rollbackMs.length ? rollbackParts : []);
  say(`apply→rollback: median ${ms(rollback.total.median)}, overhead beyond the 1 s timeout ${ms(rollback.overhead.median)}`);
  return rollback;
}

/** One unconfirmed setupNetworks, timed from sending to receiving code 10, split at the agent's journal entries. */
async function unconfirmedChange(bench: BenchHost): Promise<{ elapsed: number; parts: RollbackParts | null }> {
  const params = {
    networks: { rb0: { nic: 'eth0', bridged: 'true', ipaddr: '10.201.0.1', netmask: '255.255.255.0' } },
    bondings: {},
    options: { connectivityCheck: 'true', connectivityTimeout: ROLLBACK_TIMEOUT_S },
  };
  const sentAt = Date.now();
  const t0 = performance.now();
  const outcome = await bench.client.call('Host.setupNetworks', params, { timeoutMs: CALL_TIMEOUT_MS }).then(
    () => null,
    (err: unknown) => err,
  );
  const elapsed = performance.now() - t0;
  const repliedAt = Date.now();
  if (!(outcome instanceof AgentRpcError) || outcome.code !== VdsmCode.LOST_CONNECTION) {
    throw new Error(
      `unconfirmed setupNetworks: expected code ${VdsmCode.LOST_CONNECTION}, got ${outcome instanceof Error ? outcome.message : 'success'}`,
    );
  }
  return { elapsed, parts: rollbackPartsFromJournal(bench.agent, sentAt, repliedAt) };
}

/** `parts` only when every run had them (else the split would describe a different set of runs). */
function rollbackFigures(rollbackMs: number[], parts: RollbackParts[]): AgentBenchResult['rollback'] {
  const total = afterWarmup(rollbackMs, WARMUP);
  const measuredParts = parts.length ? afterWarmup(parts, WARMUP) : [];
  return {
    connectivityTimeoutMs: ROLLBACK_TIMEOUT_S * 1000,
    total: figure(total),
    overhead: figure(total.map((x) => x - ROLLBACK_TIMEOUT_S * 1000)),
    parts: measuredParts.length
      ? {
          resolutionMs: 1,
          sendToApplied: figure(measuredParts.map((p) => p.sendToApplied)),
          appliedToRolledBackMinusTimeout: figure(measuredParts.map((p) => p.appliedToRolledBack - ROLLBACK_TIMEOUT_S * 1000)),
          rolledBackToReply: figure(measuredParts.map((p) => p.rolledBackToReply)),
        }
      : null,
  };
}

/** 3. confirmConnectivity round trips, over one session and over fresh connections, plain TCP and mutual TLS. */
async function measureConfirm(
  bench: BenchHost,
  settings: BenchSettings,
  scratch: Scratch,
  teardown: Teardown,
): Promise<AgentBenchResult['confirm']> {
  say(`confirmConnectivity, plain TCP: ${settings.confirmCalls} calls on one session, ${settings.freshCalls} on fresh connections...`);
  const plain = await confirmFigures(bench.client, bench.endpoint, settings);

  settings.signal?.throwIfAborted();
  say('confirmConnectivity, mutual TLS: starting a second agent with a generated PKI...');
  const { client: tlsClient, endpoint: tlsEndpoint } = await startTlsAgent(scratch, teardown);
  const tls = await confirmFigures(tlsClient, tlsEndpoint, settings);
  for (const [mode, f] of Object.entries({ plain, tls })) {
    say(
      `confirmConnectivity ${mode}: established p50 ${ms(f.established.median)} p95 ${ms(f.established.p95)}; fresh p50 ${ms(f.fresh.median)} p95 ${ms(f.fresh.p95)}`,
    );
  }
  return { plain, tls };
}

async function confirmFigures(
  client: AgentClient,
  endpoint: AgentEndpointInput,
  settings: BenchSettings,
): Promise<{ established: Figure; fresh: Figure }> {
  const confirmOnce = (c: AgentClient) => c.call('Host.confirmConnectivity', {}, { timeoutMs: 10_000 });
  const established: number[] = [];
  for (let i = 0; i < CONFIRM_WARMUP + settings.confirmCalls; i++) {
    if (i % 100 === 0) settings.signal?.throwIfAborted();
    const t0 = performance.now();
    await confirmOnce(client);
    established.push(performance.now() - t0);
  }
  const fresh: number[] = [];
  for (let i = 0; i < CONFIRM_WARMUP + settings.freshCalls; i++) {
    if (i % 20 === 0) settings.signal?.throwIfAborted();
    const t0 = performance.now();
    await withFreshConnection(endpoint, confirmOnce, { connectTimeoutMs: 10_000 });
    fresh.push(performance.now() - t0);
  }
  return { established: figure(afterWarmup(established, CONFIRM_WARMUP)), fresh: figure(afterWarmup(fresh, CONFIRM_WARMUP)) };
}

/** A second agent with a generated PKI, in its own empty namespace: confirmConnectivity touches no kernel state. */
async function startTlsAgent(scratch: Scratch, teardown: Teardown): Promise<{ client: AgentClient; endpoint: AgentEndpointInput }> {
  const { dir, token, agentLog } = scratch;
  const pki = await ensurePki(join(dir, 'pki'), { servers: [{ name: 'agent', ips: ['127.0.0.1'] }], clients: [{ name: 'bench' }] });
  const tlsHost = await Netns.create(`hpbt-${token}`);
  teardown.add(`namespace ${tlsHost.name}`, () => tlsHost.destroy());
  const tlsAgent = await startAgent({
    listen: { host: '127.0.0.1', port: 0 },
    stateDir: join(dir, 'tls-state'),
    runtimeDir: join(dir, 'tls-run'),
    tls: pki.server('agent'),
    netns: tlsHost.name,
    log: agentLog,
  });
  teardown.add('TLS agent', () => tlsAgent.close());
  const endpoint: AgentEndpointInput = { host: '127.0.0.1', port: tlsAgent.address.port, tls: pki.client('bench') };
  const client = await AgentClient.connect(endpoint);
  teardown.add('TLS client', () => client.close());
  return { client, endpoint };
}

/** The agent's own log explains most failures; show its end before the scratch dir goes. */
function logAgentLogTail(log: Logger, agentLogFile: string): void {
  let tail = '';
  try {
    tail = readFileSync(agentLogFile, 'utf8').trim().split('\n').slice(-15).join('\n');
  } catch {
    // no log yet
  }
  if (tail) log.error({ agentLogTail: tail }, 'bench agent failed; the end of the agent log');
}

function agentMarkdown(r: AgentBenchResult, confirmCalls: number, freshCalls: number): string {
  const measured = r.setup.repetitions - r.setup.warmupDiscarded;
  const f = (x: number) => x.toFixed(1);
  const f2 = (x: number) => x.toFixed(2);
  return [
    '# bench agent',
    '',
    `Machine: ${machineLine(r.machine)}. Agent runtime directory: ${r.setup.runtimeDir}. Node flags of the benchmark process, and so of its agent: \`${r.setup.nodeFlags || 'none'}\`.`,
    '',
    `## Host.setupNetworks of N bridged static networks vs the floor (ms; ${measured} measured runs each, 1 warm-up discarded)`,
    '',
    markdownTable(
      [
        'N',
        'plan ops',
        'agent median',
        'agent p95',
        'floor median',
        'floor p95',
        'ratio (median)',
        'ratio (p95)',
        'ip processes / apply (read + apply)',
        'agent time with an ip process alive (median)',
        'GC pauses during the call: count / ms (median)',
        "floor as the agent's batches at once: median (ratio)",
      ],
      r.setupNetworks.map((s) => [
        s.networks,
        s.planOps,
        f(s.agent.median),
        f(s.agent.p95),
        f(s.floor.median),
        f(s.floor.p95),
        `×${s.ratio.median}`,
        `×${s.ratio.p95}`,
        `${s.processesPerApply.ipRead} + ${s.processesPerApply.ipApply}`,
        f(s.agentTimeInChildProcesses.median),
        `${s.gcDuringAgent.count} / ${f(s.gcDuringAgent.ms.median)}`,
        s.floorAsAgentBatches
          ? `${f(s.floorAsAgentBatches.figure.median)} in ${s.floorAsAgentBatches.batches} (×${s.floorAsAgentBatches.ratio.median})`
          : 'one batch',
      ]),
    ),
    '',
    "The floor is the plan as ONE `ip -batch`. The agent runs a plan whose ops fall into independent stacks as two `ip -batch` processes at once (agent/backend/iproute2/apply.ts); the last column runs those same batches as files at once, so the agent's overhead over its own way of applying reads there.",
    '',
    'Pieces of the pipeline timed on their own (ms, median): one full kernel read (`ip -j` batches on the three long-lived read sessions + parsing; the agent reads so before applying, and after applying only the changed links and the route families the change wants) and the pure model pipeline (canonicalize → plan → render):',
    '',
    markdownTable(
      ['N', 'kernel read', 'model pipeline'],
      r.setupNetworks.map((s) => [s.networks, f(s.pieces.kernelRead.median), f(s.pieces.modelPipeline.median)]),
    ),
    '',
    'Removing the N networks again (ms, median / p95): `remove: true` through the agent vs the undo plan as one `ip -batch`:',
    '',
    markdownTable(
      ['N', 'agent', 'floor'],
      r.setupNetworks.map((s) => [
        s.networks,
        `${f(s.removal.agent.median)} / ${f(s.removal.agent.p95)}`,
        `${f(s.removal.floor.median)} / ${f(s.removal.floor.p95)}`,
      ]),
    ),
    '',
    `## apply → rollback complete (connectivity check on, ${r.rollback.connectivityTimeoutMs / 1000} s timeout, no confirmation; ms; ${r.rollback.total.n} runs)`,
    '',
    markdownTable(
      ['', 'median', 'p95', 'min', 'max'],
      [
        ['send → code 10', f(r.rollback.total.median), f(r.rollback.total.p95), f(r.rollback.total.min), f(r.rollback.total.max)],
        [
          'rollback overhead (− 1 s)',
          f(r.rollback.overhead.median),
          f(r.rollback.overhead.p95),
          f(r.rollback.overhead.min),
          f(r.rollback.overhead.max),
        ],
        ...(r.rollback.parts
          ? [
              [
                '… send → change applied (agent journal)',
                f(r.rollback.parts.sendToApplied.median),
                f(r.rollback.parts.sendToApplied.p95),
                f(r.rollback.parts.sendToApplied.min),
                f(r.rollback.parts.sendToApplied.max),
              ],
              [
                '… applied → rolled back, − 1 s',
                f(r.rollback.parts.appliedToRolledBackMinusTimeout.median),
                f(r.rollback.parts.appliedToRolledBackMinusTimeout.p95),
                f(r.rollback.parts.appliedToRolledBackMinusTimeout.min),
                f(r.rollback.parts.appliedToRolledBackMinusTimeout.max),
              ],
              [
                '… rolled back → code 10 received',
                f(r.rollback.parts.rolledBackToReply.median),
                f(r.rollback.parts.rolledBackToReply.p95),
                f(r.rollback.parts.rolledBackToReply.min),
                f(r.rollback.parts.rolledBackToReply.max),
              ],
            ]
          : []),
      ],
    ),
    '',
    `## Host.confirmConnectivity round trip (ms; ${confirmCalls} calls on one session, ${freshCalls} on fresh connections)`,
    '',
    markdownTable(
      ['', 'p50', 'p95'],
      [
        ['plain, established session', f2(r.confirm.plain.established.median), f2(r.confirm.plain.established.p95)],
        ['plain, fresh connection', f2(r.confirm.plain.fresh.median), f2(r.confirm.plain.fresh.p95)],
        ['mutual TLS, established session', f2(r.confirm.tls.established.median), f2(r.confirm.tls.established.p95)],
        ['mutual TLS, fresh connection', f2(r.confirm.tls.fresh.median), f2(r.confirm.tls.fresh.p95)],
      ],
    ),
    '',
    'See bench/README.md for what each figure means and how it is measured.',
  ].join('\n');
}
