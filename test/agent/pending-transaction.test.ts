/**
 * Kill points: a real `hostprov agent` process in a namespace is killed with `kill -9` at each point of a
 * connectivity-checked `setupNetworks` (a bridge over the NIC that holds the address and the default route),
 * and while a `blockingdhcp` one waits for its lease, and started again on the same state and runtime
 * directories, i.e. in the same boot. After the restart the
 * kernel state (links, addresses, routes, rules, in full) must be what the pending-transaction policy
 * promises (README, "Pending transactions"), the journal must say what the restarted agent did, and a retry
 * of the same request id must get the truthful outcome without a second apply.
 *
 * The points are reached through the agent's test-only pause hook (agent/network/test-pause.ts), or, for
 * "applied, not confirmed yet", by the journal's apply entry: never by sleeping and hoping.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PausePoint } from '../../agent/network/test-pause';
import { ConfigStore } from '../../agent/persistence/config-store';
import { BOOT_MARKER } from '../../agent/agent-service';
import {
  legacyPendingTransactionFile,
  pendingTransactionFile,
  TransactionPhase,
  type PendingTransaction,
} from '../../agent/persistence/pending-transaction';
import { AgentRpcError } from '../../vdsm/client/errors';
import { Capabilities } from '../../model/vdsm/capabilities';
import { JsonRpcCode, VdsmCode } from '../../model/vdsm/error-codes';
import { netnsUnavailableReason } from '../../testbed/netns';
import { comparable, BRIDGED_MGMT, MGMT_SUBNET, setFactoryNetwork } from '../helpers/agent-host';
import { createAgentProcessHost, type AgentProcessHost } from '../helpers/agent-process';
import { skipBecause } from '../helpers/skip';

const unavailable = await netnsUnavailableReason();

const DONE = { code: 0, message: 'Done' };
const ovirtmgmt = BRIDGED_MGMT;

function bridgeRequest(options: Record<string, unknown>) {
  return { networks: { ovirtmgmt }, bondings: {}, options };
}

/** The RPC's outcome: its result, or its error code and message. */
async function outcome(promise: Promise<unknown>): Promise<{ result: unknown } | { code: number; message: string }> {
  try {
    return { result: await promise };
  } catch (err) {
    if (err instanceof AgentRpcError) return { code: err.code, message: err.rpcMessage };
    throw err;
  }
}

async function until(what: string, ready: () => boolean, h: AgentProcessHost, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ready()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; agent log:\n${h.log().split('\n').slice(-20).join('\n')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Whether a process with this pid exists (signal 0 only checks). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function pendingOf(h: AgentProcessHost): PendingTransaction {
  const record = h.transaction();
  if (!record || record.phase === TransactionPhase.FINISHED) throw new Error(`no pending transaction on disk: ${JSON.stringify(record)}`);
  return record;
}

describe.skipIf(skipBecause(unavailable, 'kill-point tests'))('a pending transaction outlives the agent (kill -9, same boot)', () => {
  let h: AgentProcessHost | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  /** Sends the request and lets the caller kill the agent under it: the call then fails, as a worker would see. */
  function send(host: AgentProcessHost, id: string, options: Record<string, unknown>): Promise<unknown> {
    return outcome(host.call('Host.setupNetworks', bridgeRequest(options), { id })).catch((err: unknown) => err);
  }

  const applies = (host: AgentProcessHost, id: string) => host.journal().filter((e) => e.kind === 'apply' && e.requestId === id);
  const entries = (host: AgentProcessHost, kind: string, id: string) => host.journal().filter((e) => e.kind === kind && e.requestId === id);

  /** The kernel side of a reboot: the host comes back as the OS configures it, without anything the agent built. */
  async function reboot(host: AgentProcessHost): Promise<void> {
    for (const link of ['ovirtmgmt', 'vmnet']) await host.host.ip(['link', 'del', 'dev', link], { allowFailure: true });
    await host.host.ip(['addr', 'flush', 'dev', 'eth0']);
    for (const rule of (await host.kernel()).rules)
      await host.host.ip(['rule', 'del', 'priority', String(rule.priority), 'table', String(rule.table)]);
    await setFactoryNetwork(host.host);
    expect((await host.kernel()).rules).toEqual([]);
  }

  /**
   * A new host whose agent is killed at the pause before the apply of request `id`, then started again in the
   * same boot (`whileDown` runs in between): the change is rolled back at once and a retry learns it failed.
   */
  async function killBeforeApplyAndRestart(id: string, whileDown: (host: AgentProcessHost) => void): Promise<AgentProcessHost> {
    const host = await createAgentProcessHost();
    h = host;
    await host.start({ pauseAt: PausePoint.BEFORE_APPLY });
    const before = comparable(await host.kernel());
    const first = send(host, id, { connectivityTimeout: 30 });
    await host.waitForPause(PausePoint.BEFORE_APPLY);
    await host.kill();
    await first;
    whileDown(host);

    await host.start();
    expect(await outcome(host.call('Host.setupNetworks', bridgeRequest({ connectivityTimeout: 30 }), { id }))).toEqual({
      code: JsonRpcCode.INTERNAL_ERROR,
      message: 'setupNetworks failed and was rolled back: the agent stopped during the apply',
    });
    expect(comparable(await host.kernel())).toEqual(before);
    expect(entries(host, 'recover-rollback', id)).toEqual([expect.objectContaining({ outcome: 'ok', ops: 0 })]);
    return host;
  }

  /** The agent of `host` applies request `id` (not confirmed within 60 s) and is killed while it waits. */
  async function killAwaitingConfirmation(host: AgentProcessHost, id: string): Promise<void> {
    const first = send(host, id, { connectivityTimeout: 60 });
    await until('the apply', () => applies(host, id).length === 1, host);
    expect(pendingOf(host).phase).toBe(TransactionPhase.AWAITING_CONFIRMATION);
    await host.kill();
    await first;
  }

  it('killed before the apply: nothing changed; the restarted agent rolls back at once and the retry learns it failed', async () => {
    const id = 'kill-before-apply';
    const host = await killBeforeApplyAndRestart(id, (down) =>
      expect(pendingOf(down)).toMatchObject({ requestId: id, phase: TransactionPhase.APPLYING, deadline: null }),
    );
    expect(applies(host, id)).toEqual([]);
    expect(host.transaction()).toMatchObject({
      requestId: id,
      phase: TransactionPhase.FINISHED,
      outcome: { ok: false, code: JsonRpcCode.INTERNAL_ERROR },
    });
  });

  it('killed in the middle of the ip -batch: the half-made change is rolled back at once, exactly', async () => {
    h = await createAgentProcessHost();
    await h.start({ pauseAt: PausePoint.MID_BATCH });
    const before = comparable(await h.kernel());
    const id = 'kill-mid-batch';
    const first = send(h, id, { connectivityTimeout: 30 });
    await h.waitForPause(PausePoint.MID_BATCH);
    // The first half of the batch really ran: the host is neither before nor after.
    expect(comparable(await h.kernel())).not.toEqual(before);
    expect(pendingOf(h).phase).toBe(TransactionPhase.APPLYING);
    await h.kill();
    await first;

    await h.start();
    expect(await outcome(h.call('Host.setupNetworks', bridgeRequest({ connectivityTimeout: 30 }), { id }))).toMatchObject({
      code: JsonRpcCode.INTERNAL_ERROR,
    });
    expect(comparable(await h.kernel())).toEqual(before);
    expect(entries(h, 'recover-rollback', id)).toEqual([expect.objectContaining({ outcome: 'ok', ops: expect.any(Number) })]);
    expect(entries(h, 'recover-rollback', id)[0]?.ops).toBeGreaterThan(0);
    expect(applies(h, id)).toEqual([]);
    const caps = Capabilities.parse(await h.call('Host.getCapabilities', {}));
    expect(caps.networks).toEqual({});
  });

  it('killed while a blockingdhcp request waits for its lease: rolled back at once, its DHCP client stopped', async () => {
    h = await createAgentProcessHost();
    await h.start({ pauseAt: PausePoint.AWAITING_LEASES });
    const before = comparable(await h.kernel());
    const id = 'kill-awaiting-lease';
    // eth1 leads to the manager namespace, where no DHCP server runs: the lease would never come.
    const request = {
      networks: { leased: { nic: 'eth1', bridged: 'true', bootproto: 'dhcp', blockingdhcp: 'true' } },
      bondings: {},
      options: { connectivityCheck: 'false' },
    };
    const first = outcome(h.call('Host.setupNetworks', request, { id })).catch((err: unknown) => err);
    await h.waitForPause(PausePoint.AWAITING_LEASES);
    // Applied and verified, yet the request is still in its apply: that is what a restart must undo.
    expect(pendingOf(h)).toMatchObject({ requestId: id, phase: TransactionPhase.APPLYING, deadline: null });
    expect(comparable(await h.kernel())).not.toEqual(before);
    const pidFile = join(h.runtimeDir, 'dhcp', 'leased.4.pid');
    const dhclient = Number(readFileSync(pidFile, 'utf8').trim());
    expect(alive(dhclient)).toBe(true);
    await h.kill();
    await first;

    await h.start();
    expect(await outcome(h.call('Host.setupNetworks', request, { id }))).toEqual({
      code: JsonRpcCode.INTERNAL_ERROR,
      message: 'setupNetworks failed and was rolled back: the agent stopped during the apply',
    });
    expect(comparable(await h.kernel())).toEqual(before);
    expect(existsSync(pidFile)).toBe(false);
    await until('the orphaned dhclient to be gone', () => !alive(dhclient), h, 10_000);
    expect(entries(h, 'recover-rollback', id)).toEqual([expect.objectContaining({ outcome: 'ok', ops: expect.any(Number) })]);
    expect(applies(h, id)).toEqual([]);
    expect(h.transaction()).toMatchObject({
      requestId: id,
      phase: TransactionPhase.FINISHED,
      outcome: { ok: false, code: JsonRpcCode.INTERNAL_ERROR },
    });
  });

  it('killed after the apply, never confirmed: the change stays until the original deadline, then is rolled back (code 10)', async () => {
    h = await createAgentProcessHost();
    await h.start();
    const before = comparable(await h.kernel());
    const id = 'kill-after-apply-unconfirmed';
    // The restart must come before the deadline for this path (a restart after it is the next test's); an
    // agent starting from source on a loaded machine can take well over 10 s.
    const first = send(h, id, { connectivityTimeout: 30 });
    await until('the apply', () => applies(h!, id).length === 1, h);
    const { deadline, restorePoint } = pendingOf(h);
    expect(pendingOf(h).phase).toBe(TransactionPhase.AWAITING_CONFIRMATION);
    // The record keeps only the links the change may touch; the rollback below still puts back all it changed.
    const recorded = restorePoint.kernel.links.map((l) => l.name);
    expect(recorded.length).toBeGreaterThan(0);
    expect(recorded.every((name) => restorePoint.scope.links.includes(name))).toBe(true);
    expect(recorded).not.toContain('lo');
    expect(comparable(await h.kernel())).not.toEqual(before);
    await h.kill();
    await first;

    await h.start();
    // The retry joins the restarted agent's wait and gets VDSM's answer for an unconfirmed change.
    expect(await outcome(h.call('Host.setupNetworks', bridgeRequest({ connectivityTimeout: 30 }), { id }))).toEqual({
      code: VdsmCode.LOST_CONNECTION,
      message: 'connectivity check failed',
    });
    expect(comparable(await h.kernel())).toEqual(before);
    const [rollback] = entries(h, 'recover-rollback', id);
    expect(rollback).toMatchObject({ outcome: 'ok', detail: expect.stringMatching(/no confirmation before the deadline/) });
    expect(Date.parse(rollback?.at ?? '')).toBeGreaterThanOrEqual(deadline ?? Infinity);
    expect(applies(h, id)).toHaveLength(1);
  });

  it('killed after the confirmation, before the commit: kept and committed at restart, even after the deadline', async () => {
    h = await createAgentProcessHost();
    await h.start({ pauseAt: PausePoint.BEFORE_COMMIT });
    const id = 'kill-before-commit';
    const stopConfirming = h.confirmContinuously();
    const first = send(h, id, { connectivityTimeout: 5, commitOnSuccess: true });
    await h.waitForPause(PausePoint.BEFORE_COMMIT);
    await stopConfirming();
    const pending = pendingOf(h);
    expect(pending.phase).toBe(TransactionPhase.CONFIRMED);
    const after = comparable(await h.kernel());
    await h.kill();
    await first;
    // No confirmation can come to the rescue: the restart happens after the deadline.
    await until('the deadline to pass', () => Date.now() > (pending.deadline ?? Infinity), h);

    await h.start();
    expect(await outcome(h.call('Host.setupNetworks', bridgeRequest({ connectivityTimeout: 5, commitOnSuccess: true }), { id }))).toEqual({
      result: DONE,
    });
    expect(comparable(await h.kernel())).toEqual(after);
    expect(entries(h, 'recover-keep', id)).toHaveLength(1);
    expect(entries(h, 'persist', id)).toHaveLength(1);
    expect(applies(h, id)).toHaveLength(1);
    expect(Object.keys(new ConfigStore(h.stateDir).loadSafe()?.networks ?? {})).toEqual(['ovirtmgmt']);
    expect(Capabilities.parse(await h.call('Host.getCapabilities', {})).netConfigDirty).toBe('False');
  });

  it('restarted before the deadline: a confirmation that arrives then keeps the change', async () => {
    h = await createAgentProcessHost();
    await h.start();
    const id = 'kill-after-apply-confirmed-later';
    const first = send(h, id, { connectivityTimeout: 60 });
    await until('the apply', () => applies(h!, id).length === 1, h);
    const { deadline } = pendingOf(h);
    const after = comparable(await h.kernel());
    await h.kill();
    await first;

    await h.start();
    // Until the pending change is settled, no other network change is taken.
    expect(await outcome(h.call('Host.setSafeNetworkConfig', {}))).toMatchObject({ code: VdsmCode.RESOURCE_UNAVAILABLE });
    const stopConfirming = h.confirmContinuously();
    try {
      expect(await outcome(h.call('Host.setupNetworks', bridgeRequest({ connectivityTimeout: 60 }), { id }))).toEqual({ result: DONE });
    } finally {
      await stopConfirming();
    }
    expect(comparable(await h.kernel())).toEqual(after);
    const [keep] = entries(h, 'recover-keep', id);
    expect(Date.parse(keep?.at ?? '')).toBeLessThan(deadline ?? -Infinity);
    expect(entries(h, 'recover-rollback', id)).toEqual([]);
    expect(applies(h, id)).toHaveLength(1);
    const caps = Capabilities.parse(await h.call('Host.getCapabilities', {}));
    expect(caps.networks.ovirtmgmt).toMatchObject({ bridged: true, southbound: 'eth0', addr: MGMT_SUBNET.host });
    expect(caps.netConfigDirty).toBe('True');
  });

  it('restarted after the deadline passed: rolled back at once; late confirmations do not keep it', async () => {
    h = await createAgentProcessHost();
    await h.start();
    const before = comparable(await h.kernel());
    const id = 'kill-after-apply-deadline-passed';
    const first = send(h, id, { connectivityTimeout: 3 });
    await until('the apply', () => applies(h!, id).length === 1, h);
    const { deadline } = pendingOf(h);
    await h.kill();
    await first;
    await until('the deadline to pass', () => Date.now() > (deadline ?? Infinity), h);

    await h.start();
    const stopConfirming = h.confirmContinuously();
    try {
      expect(await outcome(h.call('Host.setupNetworks', bridgeRequest({ connectivityTimeout: 3 }), { id }))).toEqual({
        code: VdsmCode.LOST_CONNECTION,
        message: 'connectivity check failed',
      });
    } finally {
      await stopConfirming();
    }
    expect(comparable(await h.kernel())).toEqual(before);
    expect(entries(h, 'recover-rollback', id)).toEqual([
      expect.objectContaining({ outcome: 'ok', detail: expect.stringMatching(/deadline passed while the agent was down/) }),
    ]);
    expect(applies(h, id)).toHaveLength(1);
  });

  it('killed after an apply that wrote resolv.conf, restarted after the deadline: resolv.conf gets its exact text back too', async () => {
    h = await createAgentProcessHost();
    await h.start();
    // The agent runs under `ip netns exec`, which bind-mounts the namespace's own file over /etc/resolv.conf.
    const resolvConf = join(h.host.etcDir, 'resolv.conf');
    const before = readFileSync(resolvConf, 'utf8');
    const id = 'kill-after-dns-apply';
    const request = {
      networks: { ovirtmgmt: { ...ovirtmgmt, nameservers: ['192.0.2.53'] } },
      bondings: {},
      options: { connectivityTimeout: 3 },
    };
    const first = outcome(h.call('Host.setupNetworks', request, { id })).catch((err: unknown) => err);
    await until('the apply', () => applies(h!, id).length === 1, h);
    expect(readFileSync(resolvConf, 'utf8')).toContain('nameserver 192.0.2.53\n');
    expect(pendingOf(h).restorePoint.resolvConf).toEqual({ text: before });
    const { deadline } = pendingOf(h);
    await h.kill();
    await first;
    await until('the deadline to pass', () => Date.now() > (deadline ?? Infinity), h);

    await h.start();
    expect(await outcome(h.call('Host.setupNetworks', request, { id }))).toEqual({
      code: VdsmCode.LOST_CONNECTION,
      message: 'connectivity check failed',
    });
    expect(readFileSync(resolvConf, 'utf8')).toBe(before);
    expect(applies(h, id)).toHaveLength(1);
  });

  it('a retry after a second restart still gets the recorded outcome, and applies nothing', async () => {
    h = await createAgentProcessHost();
    await h.start();
    const before = comparable(await h.kernel());
    const id = 'outcome-survives-restarts';
    const first = send(h, id, { connectivityTimeout: 3 });
    await until('the apply', () => applies(h!, id).length === 1, h);
    await h.kill();
    await first;
    await h.start();
    await until('the recovery to finish', () => h!.transaction()?.phase === TransactionPhase.FINISHED, h);
    await h.kill();

    await h.start();
    expect(await outcome(h.call('Host.setupNetworks', bridgeRequest({ connectivityTimeout: 3 }), { id }))).toMatchObject({
      code: VdsmCode.LOST_CONNECTION,
    });
    expect(comparable(await h.kernel())).toEqual(before);
    expect(applies(h, id)).toHaveLength(1);
  });

  it('a new boot restores the safe config first; the pending transaction went with the runtime directory', async () => {
    const id = 'pending-across-reboot';
    const host = await createAgentProcessHost();
    h = host;
    await host.start();
    const safeRequest = {
      networks: { vmnet: { nic: 'eth1', bridged: 'true' } },
      bondings: {},
      options: { connectivityCheck: false, commitOnSuccess: true },
    };
    expect(await host.call('Host.setupNetworks', safeRequest)).toEqual(DONE);
    const safe = comparable(await host.kernel());
    await killAwaitingConfirmation(host, id);

    await reboot(host);
    await host.start({ newBoot: true });
    expect(comparable(await host.kernel())).toEqual(safe);
    const kinds = host.journal().map((e) => e.kind);
    expect(kinds.slice(kinds.lastIndexOf('restore'))).toEqual(['restore']);
    expect(host.journal().filter((e) => e.requestId === id && e.kind !== 'apply')).toEqual([]);
    expect(host.transaction()).toBeNull();
  });

  it('a record the first start of a boot finds anyway (a runtime directory that lost its marker) is discarded unread', async () => {
    const id = 'pending-without-marker';
    const host = await createAgentProcessHost();
    h = host;
    await host.start();
    await killAwaitingConfirmation(host, id);

    await reboot(host);
    rmSync(join(host.runtimeDir, BOOT_MARKER));
    await host.start();
    const kinds = host.journal().map((e) => e.kind);
    expect(kinds.slice(kinds.lastIndexOf('restore'))).toEqual(['restore', 'recover-discard']);
    expect(entries(host, 'recover-discard', id)).toEqual([
      expect.objectContaining({ detail: expect.stringMatching(/left awaiting-confirmation by the previous boot/) }),
    ]);
    expect(entries(host, 'recover-rollback', id)).toEqual([]);
    expect(host.transaction()).toBeNull();
  });

  it('an agent upgraded in the middle of a change settles the record the earlier agent left in the state directory', async () => {
    const id = 'pending-in-the-old-place';
    let legacy = '';
    const host = await killBeforeApplyAndRestart(id, (down) => {
      // Where agents before the move kept it: on disk, in the state directory.
      legacy = legacyPendingTransactionFile(down.stateDir);
      mkdirSync(dirname(legacy), { recursive: true });
      renameSync(pendingTransactionFile(down.runtimeDir), legacy);
    });
    expect(existsSync(legacy)).toBe(false);
    expect(host.transaction()).toMatchObject({ requestId: id, phase: TransactionPhase.FINISHED });
    expect(host.log()).toMatch(/moved a network transaction record from the state directory/);
  });
});
