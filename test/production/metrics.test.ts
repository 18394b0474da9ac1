/**
 * The metrics endpoints after a real install: a `bin/hostprov worker` process with `--metrics-listen` (its
 * own counters) and `--sdk-metrics-listen` (the Temporal SDK's), and agents with `--metrics-listen`, on
 * namespaced hosts. Scraped before and after one install; the counters must have moved by exactly what
 * the install did. Then the installed host's event watch is counted while it runs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MetricsListen } from '../../lib/metrics/endpoint';
import { PROJECT_ROOT } from '../../lib/paths';
import { WATCH_HEARTBEAT_TIMEOUT_SECONDS } from '../../model/refresh/contract';
import { freePorts } from '../../lib/ports';
import { stopChild } from '../../lib/process';
import { createAgentLab, type AgentLab } from '../../testbed/agent-lab';
import { uniqueToken } from '../../testbed/netns';
import { testbedUnavailableReason } from '../../testbed/requirements';
import { stopHostEventWatch } from '../../workflow-client/host-lifecycle';
import { startOrAttachInstall } from '../../workflow-client/install-host';
import { startHostEventWatch } from '../../workflow-client/refresh';
import { waitUntil } from '../helpers/fault-injection';
import { skipBecause } from '../helpers/skip';
import { attachToServer, unavailableReason, type TemporalTarget } from '../helpers/temporal';

const reason = unavailableReason() ?? (await testbedUnavailableReason());
/** Inside each host's own namespace, so every agent can use the same port. */
const AGENT_METRICS_PORT = 9_464;

/** A Prometheus text exposition as `name{labels}` → value (labels as written, in the exporter's order). */
function parseExposition(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^(\S+?(?:\{.*\})?)\s+(\S+)(?:\s+\d+)?$/.exec(line);
    if (m) samples.set(m[1]!, Number(m[2]));
  }
  return samples;
}

async function scrape(url: string): Promise<Map<string, number>> {
  const response = await fetch(url);
  expect(response.status, url).toBe(200);
  return parseExposition(await response.text());
}

/** The sum of every sample of `name` whose labels include all of `labels`. */
function total(samples: Map<string, number>, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const [key, value] of samples) {
    const m = /^([^{]+)(?:\{(.*)\})?$/.exec(key);
    if (m?.[1] !== name) continue;
    const have = m[2] ?? '';
    if (Object.entries(labels).every(([k, v]) => have.includes(`${k}="${v}"`))) sum += value;
  }
  return sum;
}

describe('metrics listen addresses', () => {
  it('takes PORT (loopback), HOST:PORT and [IPv6]:PORT, and names what is wrong otherwise', () => {
    expect(MetricsListen.parse('9464')).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(MetricsListen.parse('0.0.0.0:9464')).toEqual({ host: '0.0.0.0', port: 9464 });
    expect(MetricsListen.parse('[::1]:9464')).toEqual({ host: '::1', port: 9464 });
    for (const bad of ['', 'localhost', '70000', 'a:b', ':0']) expect(MetricsListen.safeParse(bad).success, bad).toBe(false);
  });
});

describe.skipIf(skipBecause(reason, 'metrics endpoint tests'))('metrics endpoints of worker and agent after a real install', () => {
  let env: TestWorkflowEnvironment;
  let target: TemporalTarget;
  let client: Client;
  let lab: AgentLab;
  let worker: ChildProcess;
  let dir: string;
  let workerMetrics: string;
  let sdkMetrics: string;
  const taskQueue = `metrics-${uniqueToken()}`;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hostprov-metrics-'));
    ({ env, target } = await attachToServer());
    client = env.client;
    lab = await createAgentLab({
      stateDir: join(dir, 'lab'),
      hosts: ['met1', 'met2'].map((name) => ({ name, agentArgs: ['--metrics-listen', `0.0.0.0:${AGENT_METRICS_PORT}`] })),
    });
    await lab.waitForAgents();
    const [metricsPort, sdkPort] = await freePorts(2);
    workerMetrics = `http://127.0.0.1:${metricsPort}`;
    sdkMetrics = `http://127.0.0.1:${sdkPort}/metrics`;
    worker = spawn(
      join(PROJECT_ROOT, 'bin', 'hostprov'),
      [
        'worker',
        '--address',
        target.address,
        '--namespace',
        target.namespace,
        '--task-queue',
        taskQueue,
        '--data-dir',
        join(dir, 'worker'),
        '--secrets-dir',
        dir,
        '--workflow-bundle',
        target.workflowBundlePath,
        '--no-payload-encryption',
        '--metrics-listen',
        String(metricsPort),
        '--sdk-metrics-listen',
        `127.0.0.1:${sdkPort}`,
      ],
      { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, HOSTPROV_LOG_LEVEL: 'warn' } },
    );
    await waitUntil(
      'the worker metrics endpoint',
      async () => (await fetch(`${workerMetrics}/healthz`).catch(() => null))?.status === 200,
      { timeoutMs: 120_000, intervalMs: 250 },
    );
  });

  afterAll(async () => {
    if (worker) await stopChild(worker, { signal: 'SIGTERM', timeoutMs: 30_000 });
    await lab?.destroy();
    await env?.teardown();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('counts the install, its apply and its confirmations; the agent counts the verbs it served', async () => {
    const agentUrl = `http://${lab.testbed.host('met1').address}:${AGENT_METRICS_PORT}`;
    const health = await fetch(`${agentUrl}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.text()).toMatch(/^ok: serving/);
    // the worker is healthy when both its workers poll: its own queue and the host event watches'
    const workerHealth = await fetch(`${workerMetrics}/healthz`);
    expect(workerHealth.status).toBe(200);
    expect(await workerHealth.text()).toBe('ok: worker running, host events worker running\n');

    const workerBefore = await scrape(`${workerMetrics}/metrics`);
    const agentBefore = await scrape(`${agentUrl}/metrics`);
    expect(total(workerBefore, 'hostprov_installs_total')).toBe(0);
    expect(total(workerBefore, 'hostprov_apply_duration_seconds_count')).toBe(0);

    const request = lab.installRequest('met1');
    const { handle } = await startOrAttachInstall(client, { ...request, policy: { ...request.policy, reboot: false } }, { taskQueue });
    const result = await handle.result();
    expect(result.outcome, JSON.stringify(result)).toBe('configured');

    const workerAfter = await scrape(`${workerMetrics}/metrics`);
    expect(total(workerAfter, 'hostprov_installs_total', { outcome: 'configured' })).toBe(1);
    expect(total(workerAfter, 'hostprov_installs_total')).toBe(1);
    expect(total(workerAfter, 'hostprov_apply_duration_seconds_count', { status: 'applied' })).toBe(1);
    expect(total(workerAfter, 'hostprov_apply_duration_seconds_sum')).toBeGreaterThan(0);
    const confirmations = total(workerAfter, 'hostprov_confirm_duration_seconds_count');
    expect(confirmations).toBeGreaterThanOrEqual(1);

    // The agent answered one setupNetworks and every confirmation the worker counted (more, if one answer
    // was lost on the way), and more requests in all than before.
    const agentAfter = await scrape(`${agentUrl}/metrics`);
    const delta = (name: string, labels: Record<string, string>) => total(agentAfter, name, labels) - total(agentBefore, name, labels);
    expect(delta('hostprov_agent_requests_total', { method: 'Host.setupNetworks', outcome: 'ok' })).toBe(1);
    expect(delta('hostprov_agent_requests_total', { method: 'Host.confirmConnectivity', outcome: 'ok' })).toBeGreaterThanOrEqual(
      confirmations,
    );
    expect(delta('hostprov_agent_request_duration_seconds_count', { method: 'Host.setupNetworks' })).toBe(1);

    // The host's event watch runs on the worker's second queue, and is counted there while it runs.
    expect(total(workerAfter, 'hostprov_host_event_watch_slots')).toBe(1000);
    expect(total(workerAfter, 'hostprov_host_event_watches')).toBe(0);
    const watches = async () => total(await scrape(`${workerMetrics}/metrics`), 'hostprov_host_event_watches');
    await startHostEventWatch(client, request.host.id, { taskQueue });
    await waitUntil('the watch counted', async () => (await watches()) === 1, { timeoutMs: 30_000, intervalMs: 200 });
    expect(await stopHostEventWatch(client, request.host.id)).toBe(true);
    // The run ends at once; its activity learns of the cancellation with its next heartbeat's answer, which
    // the SDK sends up to 0.8 × the heartbeat timeout after the one before.
    await waitUntil('the watch no longer counted', async () => (await watches()) === 0, {
      timeoutMs: WATCH_HEARTBEAT_TIMEOUT_SECONDS * 1000 + 30_000,
      intervalMs: 200,
    });

    // The SDK's own metrics, on their own port: the worker ran this install's activities.
    const sdk = await scrape(sdkMetrics);
    const sdkNames = [...sdk.keys()].map((k) => k.split('{')[0]!);
    expect(
      sdkNames.some((n) => n.startsWith('temporal_')),
      sdkNames.slice(0, 20).join(', '),
    ).toBe(true);
    expect(
      total(sdk, 'temporal_activity_execution_latency_count', { activity_type: 'setupNetworksWithConfirm' }),
      sdkNames.filter((n) => n.includes('activity')).join(', '),
    ).toBeGreaterThanOrEqual(1);
  });
});
