/**
 * One install as the install benchmarks measure it (`bench install-host`, `bench install-scaling`): started on
 * the client, awaited to its result, with the workflow's step records and the setup-networks step split at
 * the host agent's journal; and the summaries over many such installs.
 */
import type { Client } from '@temporalio/client';
import { startOrAttachInstall } from '../workflow-client/install-host';
import type { InstallHostRequest, InstallHostResult } from '../model/install-host/contract';
import type { AgentLab } from '../testbed/agent-lab';
import { round, roundSummary, summarize, type Summary } from './stats';
import { untilAborted } from './teardown';

export type Figure = Summary & { unit: 'ms' };

export interface InstallRun {
  host: string;
  outcome: InstallHostResult['outcome'];
  /** Client wall-clock: start request → result. */
  totalMs: number;
  steps: Array<{ name: string; status: string; durationMs: number | null }>;
  failure: InstallHostResult['failure'];
  /** The setup-networks step split at the agent's journal entries (absent if the journal lacks them). */
  setupNetworks: SetupNetworksBreakdown | null;
}

/**
 * The setup-networks step, split with the host agent's journal (same machine clock): until the change was
 * in the kernel (`apply` entry), until a confirmation arrived (`persist` entry: the agent commits on
 * success), and from then until the workflow saw the activity complete.
 */
export interface SetupNetworksBreakdown {
  startToApplied: number;
  appliedToConfirmed: number;
  confirmedToStepEnd: number;
}

export const POLICY = { connectivityTimeoutSeconds: 30, commitMode: 'auto' as const, agentWaitSeconds: 120 };

export function figure(samples: number[]): Figure {
  return { unit: 'ms', ...roundSummary(summarize(samples), 1) };
}

export function stepFigures(runs: InstallRun[]): Array<{ name: string } & Figure> {
  const order: string[] = [];
  const samples = new Map<string, number[]>();
  for (const r of runs) {
    for (const s of r.steps) {
      if (s.durationMs === null) continue;
      if (!samples.has(s.name)) {
        order.push(s.name);
        samples.set(s.name, []);
      }
      samples.get(s.name)?.push(s.durationMs);
    }
  }
  return order.map((name) => ({ name, ...figure(samples.get(name) ?? []) }));
}

export function breakdownFigures(runs: InstallRun[]): Record<keyof SetupNetworksBreakdown, Figure> | null {
  const parts = runs.map((r) => r.setupNetworks).filter((b): b is SetupNetworksBreakdown => b !== null);
  if (!parts.length) return null;
  return {
    startToApplied: figure(parts.map((b) => b.startToApplied)),
    appliedToConfirmed: figure(parts.map((b) => b.appliedToConfirmed)),
    confirmedToStepEnd: figure(parts.map((b) => b.confirmedToStepEnd)),
  };
}

function setupNetworksBreakdown(lab: AgentLab, host: string, result: InstallHostResult): SetupNetworksBreakdown | null {
  const step = result.steps.find((s) => s.name === 'setup-networks');
  if (!step || step.durationMs === undefined) return null;
  const entries = lab.journal(host);
  const applyIndex = entries.findIndex((e) => e.kind === 'apply' && e.outcome === 'ok');
  const apply = entries[applyIndex];
  const persist = entries.slice(applyIndex + 1).find((e) => e.kind === 'persist');
  if (!apply || !persist) return null;
  const start = Date.parse(step.startedAt);
  const end = start + step.durationMs;
  const applied = Date.parse(apply.at);
  const confirmed = Date.parse(persist.at);
  return { startToApplied: applied - start, appliedToConfirmed: confirmed - applied, confirmedToStepEnd: end - confirmed };
}

/**
 * Installs `host` and waits for the result; `proxyHost` overrides the fence proxy (default: the next host),
 * `taskQueue` the task queue (default: the production one).
 */
export async function install(
  client: Client,
  lab: AgentLab,
  host: string,
  reboot: boolean,
  signal: AbortSignal | undefined,
  proxyHost?: string,
  taskQueue?: string,
): Promise<InstallRun> {
  const request = withProxy(lab, lab.installRequest(host, { policy: { ...POLICY, reboot } }), proxyHost);
  const t0 = performance.now();
  const started = await startOrAttachInstall(client, request, taskQueue === undefined ? {} : { taskQueue });
  // The worker stops on SIGINT too (Temporal's default shutdown signals): then no result ever comes.
  const result = await untilAborted(started.handle.result(), signal);
  const totalMs = performance.now() - t0;
  return {
    host,
    outcome: result.outcome,
    totalMs: round(totalMs, 1),
    steps: result.steps.map((s) => ({ name: s.name, status: s.status, durationMs: s.durationMs ?? null })),
    failure: result.failure,
    setupNetworks: setupNetworksBreakdown(lab, host, result),
  };
}

function withProxy(lab: AgentLab, request: InstallHostRequest, proxyHost: string | undefined): InstallHostRequest {
  if (!proxyHost || !request.powerManagement) return request;
  // installRequest(h) fences h through the host after it; ask for the host before proxyHost to get its proxy entry.
  const index = lab.testbed.hosts.findIndex((h) => h.name === proxyHost);
  const before = lab.testbed.hosts[(index - 1 + lab.testbed.hosts.length) % lab.testbed.hosts.length];
  const proxy = before ? lab.installRequest(before.name).powerManagement?.proxy : undefined;
  if (!proxy || proxy.name !== proxyHost) throw new Error(`cannot make ${proxyHost} the fence proxy`);
  return { ...request, powerManagement: { ...request.powerManagement, proxy } };
}

/** Milliseconds as seconds for progress lines. */
export const sec = (x: number): string => `${(x / 1000).toFixed(2)} s`;
