/**
 * `hostprov bench host-setup-networks`: what one hostSetupNetworks request costs, from start to result,
 * with 1, 10 and 50 attachment changes on one host, split into its parts, each next to the agent-only apply
 * of the same payload.
 *
 * One Temporal dev server (SQLite in a scratch dir, headless) and one worker in this process on its SQLite
 * store, plain payloads. An agent lab of two identical namespaced hosts (the real agent over mutual TLS),
 * both given ovirtmgmt by install-host: `hsn` takes the requests, `floor` the agent-only applies. A
 * namespaced host has at most 8 NICs, so each host gets 50 more veth NICs (`eth10`…`eth59`, their peers in
 * a namespace of their own) before anything probes it: 50 non-VM networks without VLAN need a NIC each
 * (model/host-setup-networks/validate-effective-set.ts: at most one untagged network per NIC).
 *
 * Per size N, one warm-up and `repetitions` measured rounds, each:
 * 1. one request attaching N networks (static IPv4, no gateway) to N NICs, start → result on the client;
 *    the parts come from the child workflow's history (activity scheduled/completed times) and the agent's
 *    journal: validation (last load-context completed → record-intent scheduled: the workflow task that runs
 *    prepareHostSetupNetworks), store (record-intent + the refresh's report record), apply (setup-networks
 *    scheduled → the agent's `apply` journal entry) and confirm (that entry → setup-networks completed);
 * 2. the agent-only apply: the payload that request sent (its `setupNetworksRequest`), as one
 *    `Host.setupNetworks` straight to `floor`'s agent, without the connectivity check (as `hostprov bench
 *    agent` sends it; nothing to confirm);
 * 3. both undone, untimed: a request removing the N attachments on `hsn`, the N removals on `floor`.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import type { temporal as proto } from '@temporalio/proto';
import { clientEndpoint } from '../activities/agent-endpoint';
import { SecretResolver } from '../activities/secrets';
import { getLogger, type Logger } from '../lib/logger';
import { run } from '../lib/process';
import { connectClient, plainConnection } from '../lib/temporal/connection';
import type { HostSetupNetworksResult } from '../model/host-setup-networks/contract';
import type { HostSetupNetworksRequestInput } from '../model/host-setup-networks/request';
import { DEFAULT_STORE_FILE, openStore } from '../store/open';
import { createAgentLab, type AgentLab } from '../testbed/agent-lab';
import { Netns, uniqueToken } from '../testbed/netns';
import { AgentClient } from '../vdsm/client/client';
import { requestHostNetworkChange } from '../workflow-client/host-networks';
import { startOrAttachInstall } from '../workflow-client/install-host';
import { startWorker } from '../worker/main';
import { machineInfo, machineLine, markdownTable, say, writeReport, type MachineInfo } from './report';
import { round, roundSummary, summarize, type Summary } from './stats';
import { Teardown } from './teardown';
import { benchWorkflowBundle, startBenchServer } from './temporal';

export interface HostSetupNetworksBenchOptions {
  outDir: string;
  /** Measured rounds per size (after one warm-up round). */
  repetitions: number;
  /** Attachment changes per request. @default [1, 10, 50] */
  sizes?: number[];
  log?: Logger;
  /** Checked between rounds: when aborted, the benchmark stops and tears down. */
  signal?: AbortSignal;
}

/** Extra veth NICs per host: the largest request needs one NIC per network. */
const EXTRA_NICS = 50;
const FIRST_EXTRA_NIC = 10;
const CALL_TIMEOUT_MS = 120_000;

type Figure = Summary & { unit: 'ms' };

/** One measured request. */
export interface Round {
  totalMs: number;
  workflowMs: number;
  /** What the per-host entity workflow and the Update add around the child. */
  queueMs: number;
  loadMs: number;
  validationMs: number;
  storeMs: number;
  applyMs: number | null;
  confirmMs: number | null;
  commitMs: number;
  refreshProbeMs: number;
  /** A refresh on demand right after the change, with the N networks on the host: start → result. */
  refreshMs: number;
  agentOnlyMs: number;
}

type Part = Exclude<keyof Round, 'agentOnlyMs'>;
const PARTS: Array<{ key: Part; label: string }> = [
  { key: 'totalMs', label: 'start → result (client)' },
  { key: 'workflowMs', label: 'child workflow started → completed' },
  { key: 'queueMs', label: 'entity workflow + update (start → result − child workflow)' },
  { key: 'loadMs', label: 'load context (store read)' },
  { key: 'validationMs', label: 'validation (prepare, in a workflow task)' },
  { key: 'storeMs', label: 'store (intent + report)' },
  { key: 'applyMs', label: 'apply (setup-networks scheduled → agent applied)' },
  { key: 'confirmMs', label: 'confirm (agent applied → setup-networks completed)' },
  { key: 'commitMs', label: 'commit (setSafeNetworkConfig)' },
  { key: 'refreshProbeMs', label: 'refresh probe (getCapabilities)' },
  { key: 'refreshMs', label: 'refresh on demand, end to end (a change of its own, with the N networks on the host)' },
];

export interface SizeResult {
  changes: number;
  networksSent: number;
  agentOnly: Figure;
  /** Each part, with its median and p95 over the agent-only apply's. */
  parts: Array<{ name: Part; label: string; ratio: { median: number; p95: number } } & Figure>;
  rounds: Round[];
  /** 1-minute load average after each measured round. */
  loadAverage1m: number[];
}

export interface HostSetupNetworksBenchResult {
  benchmark: 'host-setup-networks';
  machine: MachineInfo;
  setup: { temporal: string; worker: string; agents: string; hosts: string; repetitions: number; warmupDiscarded: number };
  sizes: SizeResult[];
  loadAverageAtEnd: number[];
}

function figure(samples: number[]): Figure {
  return { unit: 'ms', ...roundSummary(summarize(samples), 1) };
}

type HistoryEvent = proto.api.history.v1.IHistoryEvent;

const ms = (t: { seconds?: unknown; nanos?: number | null } | null | undefined): number =>
  t ? Number(t.seconds ?? 0) * 1000 + (t.nanos ?? 0) / 1e6 : Number.NaN;

export interface ActivitySpan {
  name: string;
  scheduled: number;
  completed: number;
}

/** The activities of one execution, in scheduling order, from its history. */
export function activitySpans(events: HistoryEvent[]): ActivitySpan[] {
  const byId = new Map<string, ActivitySpan>();
  const spans: ActivitySpan[] = [];
  for (const e of events) {
    const scheduled = e.activityTaskScheduledEventAttributes;
    if (scheduled) {
      const span = { name: scheduled.activityType?.name ?? '', scheduled: ms(e.eventTime), completed: Number.NaN };
      byId.set(String(e.eventId), span);
      spans.push(span);
    }
    const completed = e.activityTaskCompletedEventAttributes;
    if (completed) {
      const span = byId.get(String(completed.scheduledEventId));
      if (span) span.completed = ms(e.eventTime);
    }
  }
  return spans;
}

function last(spans: ActivitySpan[], name: string): ActivitySpan {
  const span = spans.filter((s) => s.name === name).at(-1);
  if (!span || Number.isNaN(span.completed)) throw new Error(`the history has no completed ${name} activity`);
  return span;
}

const duration = (s: ActivitySpan) => s.completed - s.scheduled;

/** Two identical hosts of an agent lab, each with EXTRA_NICS more veth NICs. */
async function buildLab(dir: string, teardown: Teardown): Promise<AgentLab> {
  const lab = await createAgentLab({ stateDir: join(dir, 'lab'), hosts: [{ name: 'hsn' }, { name: 'floor' }] });
  teardown.add('lab', () => lab.destroy());
  await lab.waitForAgents();
  for (const host of ['hsn', 'floor']) {
    const namespace = lab.testbed.host(host).namespace;
    const peer = await Netns.create(`hpbq-${uniqueToken()}`);
    teardown.add(`namespace ${peer.name}`, () => peer.destroy());
    const nics = Array.from({ length: EXTRA_NICS }, (_, i) => i + FIRST_EXTRA_NIC);
    await run(['ip', '-batch', '-'], {
      input: nics.map((i) => `link add name eth${i} netns ${namespace} type veth peer name p${i} netns ${peer.name}\n`).join(''),
    });
    await Netns.attach(namespace).ip(['-batch', '-'], { input: nics.map((i) => `link set dev eth${i} up\n`).join('') });
    await peer.ip(['-batch', '-'], { input: nics.map((i) => `link set dev p${i} up\n`).join('') });
  }
  return lab;
}

const networkName = (i: number) => `hb${i}`;
const nicName = (i: number) => `eth${i + FIRST_EXTRA_NIC}`;

export async function runHostSetupNetworksBench(options: HostSetupNetworksBenchOptions): Promise<HostSetupNetworksBenchResult> {
  const log = options.log ?? getLogger('bench');
  const sizes = options.sizes ?? [1, 10, 50];
  if (Math.max(...sizes) > EXTRA_NICS) throw new Error(`at most ${EXTRA_NICS} changes per request`);
  const machine = await machineInfo();
  say(`bench host-setup-networks on ${machineLine(machine)}`);
  const teardown = new Teardown(log);
  const dir = mkdtempSync(join(tmpdir(), 'hostprov-bench-hsn-'));
  teardown.add('scratch dir', () => rmSync(dir, { recursive: true, force: true }));

  try {
    say('starting Temporal (dev server, SQLite, headless), a worker on a SQLite store...');
    const server = await startBenchServer(dir, teardown, log);
    const bundlePath = await benchWorkflowBundle(dir, log);
    const workerDir = join(dir, 'worker');
    mkdirSync(workerDir, { recursive: true });
    const temporal = plainConnection(server.address, server.namespace);
    const worker = await startWorker({
      temporal,
      dataDir: workerDir,
      workflowBundlePath: bundlePath,
      secrets: { secretsDir: dir },
      allowInsecureAgents: true,
      encryptPayloads: false,
      log: getLogger('worker'),
    });
    teardown.add('worker', () => worker.shutdown());
    const { client, close } = await connectClient(temporal, { payloadKeys: null });
    teardown.add('Temporal client connection', close);
    const store = await openStore(join(workerDir, DEFAULT_STORE_FILE));
    teardown.add('store', () => store.close());

    say(`building two namespaced hosts with ${EXTRA_NICS} extra veth NICs each, installing ovirtmgmt on both...`);
    const lab = await buildLab(dir, teardown);
    const management = await store.networks.create({ name: 'ovirtmgmt' });
    const cluster = await store.clusters.create({ name: 'bench', compatibilityVersion: '4.8', managementNetworkId: management.id });
    for (let i = 0; i < Math.max(...sizes); i++) {
      const network = await store.networks.create({ name: networkName(i), vmNetwork: false });
      await store.clusters.attachNetwork(cluster.id, network.id);
    }
    for (const host of ['hsn', 'floor']) {
      const request = lab.installRequest(host, {
        policy: { connectivityTimeoutSeconds: 30, reboot: false, commitMode: 'set-safe', agentWaitSeconds: 60 },
      });
      const started = await startOrAttachInstall(client, request);
      const result = await started.handle.result();
      if (result.outcome !== 'configured') throw new Error(`install-host of ${host}: ${result.outcome} ${JSON.stringify(result.failure)}`);
    }
    const hsnRequest = lab.installRequest('hsn');
    const hostId = hsnRequest.host.id;
    await store.hosts.update(hostId, {
      clusterId: cluster.id,
      agentEndpoint: { ...hsnRequest.agent, host: lab.testbed.host('hsn').address },
    });

    const floorRequest = lab.installRequest('floor');
    const secrets = new SecretResolver({ secretsDir: dir });
    teardown.add('secrets', () => secrets.close());
    const floor = await AgentClient.connect(
      clientEndpoint(
        { ...floorRequest.agent, host: lab.testbed.host('floor').address, port: floorRequest.agent.port ?? 54321 },
        { secrets },
      ),
      { callTimeoutMs: CALL_TIMEOUT_MS },
    );
    teardown.add('floor client', () => floor.close());

    const results: SizeResult[] = [];
    for (const n of sizes) {
      const rounds: Round[] = [];
      const loads: number[] = [];
      let networksSent = 0;
      for (let r = 0; r <= options.repetitions; r++) {
        options.signal?.throwIfAborted();
        const measured = await oneRound(client, lab, floor, hostId, n);
        networksSent = measured.networksSent;
        await undo(client, store, floor, hostId, measured.result);
        if (r === 0) {
          say(`  ${n} changes: warm-up ${round(measured.round.totalMs, 0)} ms (discarded)`);
          continue;
        }
        rounds.push(measured.round);
        loads.push(round(loadavg()[0] ?? 0, 2));
        say(
          `  ${n} changes, round ${r}: ${round(measured.round.totalMs, 0)} ms (agent-only ${round(measured.round.agentOnlyMs, 0)} ms), load ${loads.at(-1)}`,
        );
      }
      const agentOnly = figure(rounds.map((x) => x.agentOnlyMs));
      const parts = PARTS.flatMap(({ key, label }) => {
        const samples = rounds.map((x) => x[key]).filter((v): v is number => v !== null);
        if (!samples.length) return [];
        const f = figure(samples);
        return [{ name: key, label, ...f, ratio: { median: round(f.median / agentOnly.median, 2), p95: round(f.p95 / agentOnly.p95, 2) } }];
      });
      results.push({ changes: n, networksSent, agentOnly, parts, rounds, loadAverage1m: loads });
    }

    const result: HostSetupNetworksBenchResult = {
      benchmark: 'host-setup-networks',
      machine,
      setup: {
        temporal: 'dev server (SQLite), one worker in this process, SQLite store, plain payloads',
        worker: 'one worker in this process on the production task queue',
        agents: 'agent lab (the real agent in each namespace, mutual TLS), connectivity check on, confirm loop, set-safe commit',
        hosts: `two identical namespaced hosts with eth0 (ovirtmgmt) + ${EXTRA_NICS} veth NICs`,
        repetitions: options.repetitions,
        warmupDiscarded: 1,
      },
      sizes: results,
      loadAverageAtEnd: loadavg().map((x) => round(x, 2)),
    };
    const paths = writeReport(options.outDir, 'host-setup-networks', result, markdown(result));
    say(`wrote ${paths.json} and ${paths.md}`);
    return result;
  } finally {
    await teardown.run();
  }
}

async function oneRound(
  client: Client,
  lab: AgentLab,
  floor: AgentClient,
  hostId: string,
  n: number,
): Promise<{ round: Round; result: HostSetupNetworksResult; networksSent: number }> {
  const request: HostSetupNetworksRequestInput = {
    version: 1,
    hostId,
    attachments: Array.from({ length: n }, (_, i) => ({
      networkName: networkName(i),
      nicName: nicName(i),
      ipConfiguration: { ipv4: { bootProtocol: 'STATIC_IP' as const, address: `10.201.${i}.1`, netmask: '255.255.255.0' } },
    })),
  };
  const t0 = performance.now();
  const answer = await requestHostNetworkChange(client, { kind: 'setup-networks', request });
  const totalMs = performance.now() - t0;
  const { result } = answer;
  if (result.outcome !== 'configured' || !result.setupNetworksRequest)
    throw new Error(`request of ${n} changes: ${result.outcome} ${JSON.stringify(result.failure ?? result.violations)}`);

  const events = (await client.workflow.getHandle(answer.workflowId).fetchHistory()).events ?? [];
  const spans = activitySpans(events);
  const load = last(spans, 'loadHostSetupNetworksContext');
  const intent = last(spans, 'recordAttachmentIntent');
  const setup = last(spans, 'setupNetworksWithConfirm');
  const report = last(spans, 'recordReportedInterfaces');
  const applied = lab
    .journal('hsn')
    .filter((e) => e.kind === 'apply' && e.outcome === 'ok')
    .map((e) => Date.parse(e.at))
    .filter((at) => at >= setup.scheduled - 1 && at <= setup.completed + 1)
    .at(-1);
  const started = ms(events[0]?.eventTime);
  const ended = ms(events.at(-1)?.eventTime);

  // A refresh of the host as it now is (N networks and their attachments), end to end through its queue.
  const r0 = performance.now();
  const refreshed = await requestHostNetworkChange(client, { kind: 'refresh', request: { version: 1, hostId } });
  const refreshMs = performance.now() - r0;
  if (refreshed.result.outcome !== 'refreshed') throw new Error(`refresh after ${n} changes: ${refreshed.result.outcome}`);

  // The same payload, straight to the other host's agent, without the check (nothing to confirm).
  const { networks, bondings, options } = result.setupNetworksRequest;
  const payload = { networks, bondings, options: { ...options, connectivityCheck: 'false' } };
  delete (payload.options as Record<string, unknown>).connectivityTimeout;
  const f0 = performance.now();
  await floor.call('Host.setupNetworks', payload, { timeoutMs: CALL_TIMEOUT_MS });
  const agentOnlyMs = performance.now() - f0;
  // Untimed: the agent-only apply really put every address in the kernel (a no-op would flatter the ratio).
  const floorNamespace = Netns.attach(lab.testbed.host('floor').namespace);
  const { stdout } = await floorNamespace.ip(['-4', '-o', 'addr', 'show']);
  const addresses = stdout.split('\n').filter((line) => / inet 10\.201\./.test(line)).length;
  if (addresses !== n) throw new Error(`agent-only apply of ${n} networks left ${addresses} of their addresses in the kernel`);

  return {
    result,
    networksSent: Object.keys(networks).length,
    round: {
      totalMs: round(totalMs, 1),
      workflowMs: round(ended - started, 1),
      queueMs: round(totalMs - (ended - started), 1),
      loadMs: round(duration(load), 1),
      validationMs: round(intent.scheduled - load.completed, 1),
      storeMs: round(duration(intent) + duration(report), 1),
      applyMs: applied === undefined ? null : round(applied - setup.scheduled, 1),
      confirmMs: applied === undefined ? null : round(setup.completed - applied, 1),
      commitMs: round(duration(last(spans, 'setSafeNetworkConfig')), 1),
      refreshProbeMs: round(duration(last(spans, 'probeCapabilities')), 1),
      refreshMs: round(refreshMs, 1),
      agentOnlyMs: round(agentOnlyMs, 1),
    },
  };
}

/** Back to the starting state on both hosts: a request removing the attachments, the removals on `floor`. */
async function undo(
  client: Client,
  store: Awaited<ReturnType<typeof openStore>>,
  floor: AgentClient,
  hostId: string,
  applied: HostSetupNetworksResult,
): Promise<void> {
  const removedAttachments = (await store.attachments.listByHost(hostId)).filter((a) => a.networkName !== 'ovirtmgmt').map((a) => a.id);
  const answer = await requestHostNetworkChange(client, {
    kind: 'setup-networks',
    request: { version: 1, hostId, attachments: [], removedAttachments },
  });
  if (answer.result.outcome !== 'configured') throw new Error(`undo: ${answer.result.outcome} ${JSON.stringify(answer.result.failure)}`);
  const networks = Object.fromEntries(Object.keys(applied.setupNetworksRequest?.networks ?? {}).map((name) => [name, { remove: 'true' }]));
  await floor.call(
    'Host.setupNetworks',
    { networks, bondings: {}, options: { connectivityCheck: 'false' } },
    { timeoutMs: CALL_TIMEOUT_MS },
  );
}

function markdown(r: HostSetupNetworksBenchResult): string {
  const lines = [
    '# hostSetupNetworks: one request, start → result, by part, against the agent-only apply',
    '',
    machineLine(r.machine),
    `Load average (1/5/15 min) at the end: ${r.loadAverageAtEnd.join(' / ')}.`,
    '',
    `${r.setup.hosts}; ${r.setup.agents}. ${r.setup.temporal}. ${r.setup.repetitions} measured rounds per size, 1 warm-up discarded.`,
    'Agent-only: the payload the request sent, as one Host.setupNetworks to the identical host, without the connectivity check.',
    '',
  ];
  for (const s of r.sizes) {
    lines.push(
      `## ${s.changes} attachment changes (${s.networksSent} networks sent); agent-only median ${s.agentOnly.median} ms, p95 ${s.agentOnly.p95} ms; 1-min load ${s.loadAverage1m.join(', ')}`,
      '',
      markdownTable(
        ['part', 'median ms', 'p95 ms', '× agent-only (median)', '× agent-only (p95)'],
        s.parts.map((p) => [p.label, p.median, p.p95, p.ratio.median, p.ratio.p95]),
      ),
      '',
    );
  }
  return lines.join('\n');
}
