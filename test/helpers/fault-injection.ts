/**
 * What the fault tests (test/faults/) share: workers as separate processes that a test can kill -9, the
 * install's pending activity as the server sees it, waiting for a condition (an event seen by polling,
 * never a fixed sleep), the host's switch port (the manager–host link), and store rows to compare before
 * and after a compensation.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import pg from 'pg';
import { PROJECT_ROOT } from '../../lib/paths';
import { exited, stopChild } from '../../lib/process';
import type { NetworkAttachment } from '../../model/host-networking/network-attachment';
import type { HostNetworkingStore } from '../../store/store';
import type { AgentLab } from '../../testbed/agent-lab';
import { Netns } from '../../testbed/netns';

/** Polls `check` until it returns a value other than `undefined`/`false`; fails naming `what` after `timeoutMs`. */
export async function waitUntil<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  { timeoutMs = 120_000, intervalMs = 100 } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export interface WorkerProcessOptions {
  address: string;
  namespace: string;
  taskQueue: string;
  workflowBundlePath: string;
  dataDir: string;
  /** A postgres:// URL; @default the SQLite file in `dataDir` */
  database?: string;
  /** Where the `file:` secret references of the installs point (the lab's state dir, or above it). */
  secretsDir: string;
  identity: string;
  /** More `hostprov worker` flags (e.g. `--allow-insecure-agents` for a lab without TLS). @default none */
  extraArgs?: readonly string[];
  /** More environment, over the defaults (`HOSTPROV_LOG_LEVEL=warn`). @default none */
  env?: Readonly<Record<string, string>>;
  /** Where the worker's log goes: the test's stderr, or a pipe the test reads (`child.stderr`). @default 'inherit' */
  stderr?: 'inherit' | 'pipe';
}

/** Stops process `pid` with SIGSTOP for `ms` (it gets no CPU, as on a starved machine), then continues it. */
export async function stopProcessFor(pid: number, ms: number): Promise<void> {
  process.kill(pid, 'SIGSTOP');
  try {
    await new Promise((r) => setTimeout(r, ms));
  } finally {
    process.kill(pid, 'SIGCONT');
  }
}

/** `bin/hostprov worker` as its own process (the way production runs it), so a test can kill it outright. */
export class WorkerProcesses {
  private readonly started: ChildProcess[] = [];
  private count = 0;
  current: ChildProcess | undefined;

  constructor(private readonly options: Omit<WorkerProcessOptions, 'identity'>) {}

  get taskQueue(): string {
    return this.options.taskQueue;
  }

  start(): ChildProcess {
    const o = this.options;
    this.count += 1;
    const child = spawn(
      join(PROJECT_ROOT, 'bin', 'hostprov'),
      [
        'worker',
        '--address',
        o.address,
        '--namespace',
        o.namespace,
        '--task-queue',
        o.taskQueue,
        '--data-dir',
        o.dataDir,
        '--workflow-bundle',
        o.workflowBundlePath,
        '--identity',
        `worker-${this.count}`,
        '--secrets-dir',
        o.secretsDir,
        // Plain payloads, as the tests' clients send them (payload encryption has its own tests).
        '--no-payload-encryption',
        // Every agent call on a connection of its own, so a gated relay holds each step (the tests kill there).
        '--agent-connection-idle',
        '0',
        ...(o.database ? ['--database', o.database] : []),
        ...(o.extraArgs ?? []),
      ],
      {
        stdio: ['ignore', 'ignore', o.stderr ?? 'inherit'],
        env: { ...process.env, HOSTPROV_LOG_LEVEL: 'warn', ...o.env },
      },
    );
    this.started.push(child);
    this.current = child;
    return child;
  }

  /** kill -9 of the running worker, then a new one in its place. */
  async killAndReplace(): Promise<void> {
    const victim = this.current;
    if (victim) {
      victim.kill('SIGKILL');
      await exited(victim);
    }
    this.start();
  }

  get killed(): number {
    return this.count - 1;
  }

  async stopAll(): Promise<void> {
    for (const child of this.started) await stopChild(child, { signal: 'SIGKILL' });
  }
}

export interface PendingActivity {
  activityId: string;
  type: string;
  attempt: number;
  /** SCHEDULED, STARTED or CANCEL_REQUESTED */
  state: string;
  lastFailure: string;
}

const PENDING_STATE: Record<number, string> = { 1: 'SCHEDULED', 2: 'STARTED', 3: 'CANCEL_REQUESTED' };

/** The activities the server has scheduled for this execution and not yet closed (install-host runs one at a time). */
export async function pendingActivities(handle: WorkflowHandle): Promise<PendingActivity[]> {
  return (await pendingWork(handle)).activities;
}

export interface PendingWork {
  activities: PendingActivity[];
  /**
   * When a worker started the workflow task in flight, as the server recorded it, or null when none is
   * running. A new value is a new task or a new attempt of one, even on the same worker.
   */
  workflowTaskStartedAt: string | null;
}

/** The pending activities and the running workflow task's start, from one snapshot of the execution. */
export async function pendingWork(handle: WorkflowHandle): Promise<PendingWork> {
  const { raw } = await handle.describe();
  const started = raw.pendingWorkflowTask?.startedTime;
  return {
    activities: (raw.pendingActivities ?? []).map((a) => ({
      activityId: a.activityId ?? '',
      type: a.activityType?.name ?? '',
      attempt: a.attempt ?? 1,
      state: PENDING_STATE[Number(a.state)] ?? String(a.state),
      lastFailure: a.lastFailure?.message ?? '',
    })),
    workflowTaskStartedAt: started ? `${String(started.seconds)}.${String(started.nanos ?? 0).padStart(9, '0')}` : null,
  };
}

/** The switch side of a host's first NIC: taking it down cuts the manager–host link, as a pulled cable does. */
export async function setHostLink(lab: AgentLab, host: string, state: 'up' | 'down'): Promise<void> {
  const nic = lab.testbed.host(host).nics[0];
  if (!nic) throw new Error(`testbed host ${host} has no NIC`);
  await Netns.attach(lab.testbed.description.switch.namespace).ip(['link', 'set', nic.switchPort, state]);
}

/**
 * Puts an attachment of `network` on `hostId` into the store that an install will overwrite: a stale one on
 * another NIC with DHCP, as an earlier definition left it. Returns the host's rows, to compare with after a
 * compensation (same ids, fields and timestamps).
 */
export async function seedStaleAttachment(store: HostNetworkingStore, hostId: string, network = 'ovirtmgmt'): Promise<NetworkAttachment[]> {
  await store.hosts.ensure(hostId);
  const { id: networkId } = await store.networks.ensure(network);
  await store.attachments.add(
    hostId,
    { networkId, nicName: 'eth9', ipConfiguration: { ipv4: { bootProtocol: 'DHCP' }, ipv6: { bootProtocol: 'NONE' } } },
    { requestedBy: 'operator' },
  );
  return store.attachments.listByHost(hostId);
}

/** The activity attempts of a finished execution, by activity type in order: the attempt each start was. */
export async function activityAttempts(handle: WorkflowHandle): Promise<Array<[string, number]>> {
  const events = (await handle.fetchHistory()).events ?? [];
  const types = new Map<string, string>();
  for (const e of events)
    if (e.activityTaskScheduledEventAttributes)
      types.set(String(e.eventId), e.activityTaskScheduledEventAttributes.activityType?.name ?? '');
  return events
    .filter((e) => e.activityTaskStartedEventAttributes)
    .map((e) => [
      types.get(String(e.activityTaskStartedEventAttributes?.scheduledEventId)) ?? '',
      e.activityTaskStartedEventAttributes?.attempt ?? 1,
    ]);
}

/** The local activities an execution recorded, in order: one marker each, naming its activity type. */
export async function localActivityMarkers(handle: WorkflowHandle): Promise<string[]> {
  const events = (await handle.fetchHistory()).events ?? [];
  return events.flatMap((e) => {
    const marker = e.markerRecordedEventAttributes;
    if (marker?.markerName !== 'core_local_activity') return [];
    const data = marker.details?.data?.payloads?.[0]?.data;
    if (!data) return [];
    return [String((JSON.parse(Buffer.from(data).toString('utf8')) as { activity_type?: unknown }).activity_type)];
  });
}

/** Workflow tasks a worker started and never finished (it died): the server timed them out after the start. */
export async function abandonedWorkflowTasks(handle: WorkflowHandle): Promise<number> {
  const events = (await handle.fetchHistory()).events ?? [];
  return events.filter((e) => Number(e.workflowTaskTimedOutEventAttributes?.timeoutType) === TIMEOUT_TYPE_START_TO_CLOSE).length;
}

/** temporal.api.enums.v1.TimeoutType */
const TIMEOUT_TYPE_START_TO_CLOSE = 1;

/** Backend ids of this PostgreSQL database's sessions waiting for a lock right now (a fresh snapshot per query). */
export async function lockWaiters(url: string): Promise<number[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ pid: number }>(
      "select pid from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'",
    );
    return rows.map((r) => Number(r.pid));
  } finally {
    await client.end();
  }
}
