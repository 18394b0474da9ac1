/**
 * The agent's network verbs as one pipeline (vdsm's api.setupNetworks, with the stages as pure model
 * functions): canonicalize → validate → plan → apply → verify → resolv.conf → (DHCP leases, when blocking)
 * → connectivity check → (commit). The default-route network's nameservers go into resolv.conf once the
 * kernel took the change (resolv-conf-plan.ts).
 *
 * - One network verb at a time: a second one gets VDSM code 40 at once (a non-blocking semaphore).
 * - A repeated JSON-RPC id is the same request: it joins the running one or gets its recorded result. That
 *   makes `setupNetworks` safe to resend when the caller's session died mid-change (the management address
 *   moved) or when a new worker takes over — the host applies once.
 * - Any failure after the first kernel change, and a missing confirmation, restore exactly the previous
 *   state: the kernel objects in scope go back to their snapshot, resolv.conf to its previous text, the
 *   running config to its previous value.
 * - What that takes is recorded durably before the first change (the pending transaction), so an agent
 *   killed in the middle of a change finishes or undoes it when it starts again in the same boot
 *   ({@link NetworkService.recoverPendingTransaction}).
 */
import type { Logger } from '../../lib/logger';
import { MAIN_TABLE, type KernelState, type Plan } from '../../model/net-state';
import { canonicalizeRequest } from '../../model/network/canonicalize';
import { mergeRunningConfig, ownEntry, presentPart, type BlockingDhcpWait, type RunningConfig } from '../../model/network/config';
import {
  desiredStateForChange,
  desiredStateFromSnapshot,
  devicesTakenOver,
  restoreScopeOf,
  snapshotInScope,
  type DesiredState,
  type DhcpClientSpec,
} from '../../model/network/desired-state';
import {
  desiredDeviceQos,
  qosAction,
  qosBefore,
  qosDevices,
  sameDeviceQos,
  type DeviceQos,
  type DeviceQosState,
  type QosAction,
} from '../../model/network/host-qos';
import { planChanges } from '../../model/network/plan';
import { validateRequest } from '../../model/network/validate';
import { linksVerified, routeFamiliesVerified, verifyState } from '../../model/network/verify';
import { JsonRpcCode, VdsmCode, VdsmError } from '../../model/vdsm/error-codes';
import { SetupNetworksParams } from '../../model/vdsm/setup-networks';
import type { ForeignDhcpClient, NetworkBackend } from '../backend/backend';
import { DhcpLeaseTimeoutError } from '../backend/errors';
import type { ConfigStore } from '../persistence/config-store';
import {
  TransactionPhase,
  type PendingTransaction,
  type PendingTransactionStore,
  type RestorePoint,
  type TransactionOutcome,
} from '../persistence/pending-transaction';
import type { ConnectivityCheck } from './connectivity';
import type { DhcpRegistry } from './dhcp-registry';
import type { Journal } from './journal';
import { PausePoint, type PauseHook } from './test-pause';
import {
  defaultRouteNameservers,
  followsLeaseNameservers,
  leaseDns,
  planLeaseResolvConf,
  planResolvConf,
  type LeaseDns,
  type ResolvConfPlan,
} from './resolv-conf-plan';

export const SETUP_NETWORKS_DONE = { code: 0, message: 'Done' } as const;

/** dhclient.conf(5): "By default, this timeout is sixty seconds." */
const DEFAULT_BLOCKING_DHCP_TIMEOUT_MS = 60_000;

type RequestId = string | number | null;
type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

export interface NetworkServiceDeps {
  backend: NetworkBackend;
  config: ConfigStore;
  transactions: PendingTransactionStore;
  connectivity: ConnectivityCheck;
  journal: Journal;
  dhcp: DhcpRegistry;
  log: Logger;
  /** How long a `blockingdhcp` request waits for its leases. @default 60000 (dhclient's own default timeout) */
  blockingDhcpTimeoutMs?: number;
  /**
   * Our extension: a request whose JSON-RPC id repeats one that is running joins it, and one that already
   * ran gets its recorded result, so a caller that lost its session never applies twice. Stock VDSM knows no
   * ids: it answers 40 while busy and runs a repeated request again. Off in VDSM compatibility mode.
   * @default true
   */
  joinRepeatedIds?: boolean;
  /** Test-only pause points for the kill-point tests ({@link PauseHook}); never set in production. */
  pause?: PauseHook;
  /**
   * What about this host may explain a confirmation that never came, for the rollback's journal entry and
   * log (the agent: its ARP settings, agent/backend/arp-flux.ts); null when nothing does. @default nothing
   */
  lostConfirmationHint?: () => string | null;
  /**
   * Told when a change under a connectivity check is in the kernel and the wait for a confirmation begins;
   * the agent publishes it so that its caller confirms at once (vdsm/confirmation-signal.ts). Off in VDSM
   * compatibility mode. @default nothing
   */
  onAwaitingConfirmation?: (requestId: string | number) => void;
}

export class NetworkService {
  /** In-memory like VDSM's: set when a change starts or is resumed after a restart, cleared by a commit and by a restart. */
  netConfigDirty = false;
  private busy: { id: RequestId; verb: string; done: Promise<Outcome> } | null = null;
  /** The DHCP leases' DNS settings are to be looked at once the verb in progress is over ({@link followLeaseDns}). */
  private leaseDnsDue = false;
  private readonly results = new Map<string, Outcome>();

  constructor(private readonly deps: NetworkServiceDeps) {}

  async setupNetworks(params: Record<string, unknown>, id: RequestId): Promise<unknown> {
    return this.exclusive('Host.setupNetworks', id, () => this.runSetupNetworks(SetupNetworksParams.parse(params), id));
  }

  async setSafeNetworkConfig(id: RequestId): Promise<unknown> {
    return this.exclusive('Host.setSafeNetworkConfig', id, async () => {
      this.persist(id);
      return true;
    });
  }

  /** Boot-time restore (vdsm restore-nets): the safe config comes back, networks never made safe go. */
  async restoreSafeConfig(): Promise<{ ops: number }> {
    return (await this.exclusive('restore', null, async () => {
      const { backend, config, journal, log } = this.deps;
      const current = await backend.read();
      const safe = withoutMissingNics(config.loadSafe() ?? { networks: {}, bonds: {} }, current, log);
      const previous = presentPart(config.loadRunning(), current);
      const desired = desiredStateForChange(previous, safe, current, { ipv6: backend.controlsIpv6 });
      const plan = planChanges(current, desired, await this.deps.dhcp.running());
      await this.takeOver(foreignDhcpClientsOn(desired, await backend.foreignDhcpClients()));
      await backend.apply(plan);
      await this.deps.dhcp.record(plan);
      let qosFailure: string | null = null;
      try {
        await this.restoreQos(
          qosDevices(previous.networks, safe.networks).map((dev) => ({
            dev,
            qos: desiredDeviceQos(safe.networks, dev),
          })),
        );
      } catch (err) {
        // The links, addresses and DNS are still restored: a network whose device lacks its QoS reports none,
        // so the manager sees it out of sync and can repair it.
        qosFailure = errorText(err);
        log.error({ err }, 'restoring the safe network configuration: the QoS could not be set');
      }
      const dns = this.planDns(defaultRouteNameservers(safe.networks), false, null);
      if (dns.kind === 'write') backend.setResolvConf(dns.after);
      config.saveRunning(safe);
      if (followsLeaseNameservers(safe.networks)) this.leaseDnsDue = true;
      journal.write({
        kind: 'restore',
        ops: plan.ops.length,
        outcome: qosFailure === null ? 'ok' : 'failed',
        detail: `safe networks: ${Object.keys(safe.networks).join(', ') || 'none'}${qosFailure === null ? '' : `; QoS not set: ${qosFailure}`}`,
      });
      log.info({ ops: plan.ops.length, networks: Object.keys(safe.networks) }, 'restored the safe network configuration');
      return { ops: plan.ops.length };
    })) as { ops: number };
  }

  /**
   * First start of a boot, after the safe-config restore (whether it worked or not): a transaction the
   * previous boot left pending is void, because the reboot and the restore decided the host's state, and its
   * kernel snapshot describes a kernel that is gone. It is dropped, never replayed, and the journal says so.
   */
  discardTransactionOfPreviousBoot(): void {
    const { transactions, journal, log } = this.deps;
    let record;
    try {
      record = transactions.load();
    } catch (err) {
      record = { requestId: null, phase: `unreadable: ${errorText(err)}` };
    }
    if (record === null) return;
    transactions.remove();
    if (record.phase === TransactionPhase.FINISHED) return;
    journal.write({
      kind: 'recover-discard',
      requestId: record.requestId,
      outcome: 'ok',
      detail: `left ${record.phase} by the previous boot; the safe-config restore decided the host's state`,
    });
    log.warn({ requestId: record.requestId, phase: record.phase }, 'discarded a network change the previous boot left unfinished');
  }

  /**
   * Same-boot start: finishes the transaction a killed agent left behind (README, "Pending transactions").
   * - Stopped before or during the apply: rolled back at once; the request failed.
   * - Applied, not confirmed: a confirmation may still arrive until the original deadline (the manager's
   *   confirm loop keeps polling over new connections); without one the change is rolled back then, or at once
   *   if the deadline passed while the agent was down, and the request failed with code 10, as in-process.
   * - Confirmed: kept, and made safe if the request asked for `commitOnSuccess`.
   * It runs as that request: a retry of its id joins it and gets its outcome; other network verbs get 40
   * meanwhile. A finished transaction only leaves its outcome, for retries of its id. Call it before serving;
   * it claims the agent at once and resolves when the transaction is over (never rejects: it journals).
   */
  recoverPendingTransaction(): Promise<void> {
    const { transactions, journal, log } = this.deps;
    let record;
    try {
      record = transactions.load();
    } catch (err) {
      journal.write({ kind: 'recover-rollback', outcome: 'failed', detail: errorText(err) });
      log.error({ err }, 'cannot read the pending network transaction: an unfinished change, if any, stays until the next boot');
      return Promise.resolve();
    }
    if (record === null) return Promise.resolve();
    if (record.phase === TransactionPhase.FINISHED) {
      this.remember(record.requestId, outcomeOf(record.outcome));
      return Promise.resolve();
    }
    const pending = record;
    return this.exclusive('Host.setupNetworks', pending.requestId, () => this.resume(pending)).then(
      () => undefined,
      () => undefined,
    );
  }

  private async exclusive(verb: string, id: RequestId, run: () => Promise<unknown>): Promise<unknown> {
    const key = this.keyOf(id);
    if (this.busy) {
      if (key !== null && this.busy.id !== null && JSON.stringify(this.busy.id) === key) return unwrap(await this.busy.done);
      throw new VdsmError(VdsmCode.RESOURCE_UNAVAILABLE, `Resource unavailable: ${this.busy.verb} is in progress`);
    }
    if (key !== null && this.results.has(key)) return unwrap(this.results.get(key) as Outcome);
    const done: Promise<Outcome> = run().then(
      (value) => ({ ok: true as const, value }),
      (error: unknown) => ({ ok: false as const, error }),
    );
    this.busy = { id, verb, done };
    try {
      const outcome = await done;
      this.remember(id, outcome);
      return unwrap(outcome);
    } finally {
      this.busy = null;
      if (this.leaseDnsDue) void this.followLeaseDns();
      this.prepareNextApply();
    }
  }

  /**
   * DNS from DHCP (docs/setup-networks.md#dns-from-dhcp): while the default-route network takes its address
   * by DHCP and names no nameservers itself, the nameservers and search domains its leases offer go into
   * resolv.conf. Called on every lease change and once at start; never fails (it logs).
   *
   * Never while a verb runs: a change's restore point holds resolv.conf as it was before the change, so a
   * write in between would be undone by its rollback, or would undo the change's own write. It waits until
   * the verb is over and then looks at the configuration that is left.
   */
  async followLeaseDns(): Promise<void> {
    const { backend, config, journal, log } = this.deps;
    this.leaseDnsDue = this.busy !== null;
    if (this.leaseDnsDue) return;
    try {
      const leases = await backend.dhcpLeases();
      // A verb may have started while the leases were read.
      this.leaseDnsDue = this.busy !== null;
      if (this.leaseDnsDue || !followsLeaseNameservers(config.loadRunning().networks)) return;
      const offered = leaseDns(leases);
      const plan = planLeaseResolvConf(backend.resolvConf(), offered);
      if (plan.kind === 'managed') {
        log.info(offered, "resolv.conf is a symbolic link (a resolver service owns it): the DHCP lease's DNS settings are not written");
        return;
      }
      if (plan.kind === 'unchanged') return;
      backend.setResolvConf(plan.after);
      journal.write({ kind: 'dns', outcome: 'ok', detail: `from the DHCP lease: ${leaseDnsText(offered)}` });
      log.info(offered, "resolv.conf written from the default-route network's DHCP lease");
    } catch (err) {
      log.error({ err }, "could not write the DHCP lease's DNS settings to resolv.conf");
    }
  }

  /**
   * Starts what the next apply needs (its `ip` process) once this verb has answered: the fork blocks the event
   * loop for a few ms, which must delay neither this verb's answer nor another verb. Two turns of the event
   * loop: the answer is written in this one, and a client in the same process (tests, the bench) reads it in
   * the next one, before the process starts.
   */
  private prepareNextApply(): void {
    setImmediate(() =>
      setImmediate(() => {
        if (!this.busy) this.deps.backend.prepareApply();
      }),
    );
  }

  /** `why` a change is rolled back for want of a confirmation, with what about the host may explain it. */
  private withHint(why: string): string {
    const hint = this.deps.lostConfirmationHint?.() ?? null;
    return hint ? `${why}; ${hint}` : why;
  }

  /** The key a request id is remembered by; `null` when ids are not joined. */
  private keyOf(id: RequestId): string | null {
    return id === null || this.deps.joinRepeatedIds === false ? null : JSON.stringify(id);
  }

  private remember(id: RequestId, outcome: Outcome): void {
    const key = this.keyOf(id);
    if (key === null) return;
    this.results.set(key, outcome);
    if (this.results.size > 64) this.results.delete(this.results.keys().next().value as string);
  }

  private async runSetupNetworks(params: SetupNetworksParams, id: RequestId): Promise<unknown> {
    const { backend, config, connectivity, journal, log } = this.deps;
    // What the stages below read from the host. The kernel read runs in the `ip` processes while this one
    // canonicalizes and merges, which need only the request, the nameservers and the running config.
    const fromHost = Promise.all([backend.read(), this.deps.dhcp.running(), backend.foreignDhcpClients()]);
    // Awaited below; a request refused before then must not leave it unhandled.
    fromHost.catch(() => undefined);
    const running = config.loadRunning();
    const request = canonicalizeRequest(params, { currentNameservers: await backend.nameservers(), running });
    const next = mergeRunningConfig(running, request);
    // Leases the change starts, or a role it moves, decide resolv.conf once it is over.
    if (followsLeaseNameservers(next.networks)) this.leaseDnsDue = true;
    const unsupportedLinkTypes = await this.unsupportedLinkTypes(next);
    // Only devices whose networks have or had a QoS are read: a change without one runs no tc.
    const qosDevs = qosDevices(running.networks, next.networks);
    const [[current, runningDhcp, foreignDhcp], qosNow] = await Promise.all([fromHost, qosDevs.length ? backend.readQos(qosDevs) : NO_QOS]);
    validateRequest(request, { running, next, current, unsupportedLinkTypes });
    const desired = desiredStateForChange(running, next, current, { ipv6: backend.controlsIpv6 });
    const plan = planChanges(current, desired, runningDhcp);
    // Refuses a QoS on a device with another's queueing: still validation, so nothing is marked dirty yet.
    const { actions: qos, before: qosRestore } = qosChange(qosDevs, next, qosNow, plan);

    this.netConfigDirty = true;
    const takenOver = foreignDhcpClientsOn(desired, foreignDhcp);
    const dns = this.planDns(defaultRouteNameservers(request.networks), request.clearsNameservers, id);
    const scope = restoreScopeOf(desired, plan);
    // A rollback gives the devices DHCP again (from our client) if the OS ran one there before.
    const restorePoint: RestorePoint = {
      kernel: snapshotInScope(current, scope),
      dhcp: [...runningDhcp, ...takenOver.map((c) => dhcpSpecOf(c, current))],
      config: running,
      scope,
      ...(dns.kind === 'write' ? { resolvConf: { text: dns.before } } : {}),
      ...(qosRestore.length ? { qos: qosRestore } : {}),
    };
    const { connectivityCheck, connectivityTimeoutSeconds, commitOnSuccess } = request.options;
    // Durable before the first change (taking the devices over is one): a killed agent undoes it at restart.
    const txn = this.begin({
      requestId: id,
      connectivityCheck,
      timeoutMs: connectivityTimeoutSeconds * 1000,
      commitOnSuccess,
      restorePoint,
    });
    await this.pause(PausePoint.BEFORE_APPLY);
    log.info(
      { requestId: id, ops: plan.ops.length, networks: Object.keys(request.networks), bonds: Object.keys(request.bonds) },
      'applying setupNetworks',
    );

    /** The running config's write, when it runs beside the verify's read (settled before any rollback). */
    let savingRunning: Promise<void> | null = null;
    try {
      // Without leases to await, the running config is written and synced while the kernel is changed and read
      // back: the disk and the `ip` processes work at once (docs/setup-networks.md#what-a-change-costs). The
      // pending transaction, already on disk, holds the previous config: a failed apply or verify rolls back,
      // which writes it again once this write is done, and so does an agent restarted after a kill.
      if (!request.blockingDhcp.length) {
        savingRunning = config.saveRunningAsync(next);
        // Awaited below; this only keeps a failure that comes before then from counting as unhandled.
        savingRunning.catch(() => undefined);
      }
      await this.takeOver(takenOver);
      const applyStarted = performance.now();
      await backend.apply(plan, this.deps.pause ? { midBatch: () => this.pause(PausePoint.MID_BATCH) } : undefined);
      const appliedMs = performance.now() - applyStarted;
      await this.deps.dhcp.record(plan);
      // The devices exist now, a bond the change made included.
      await backend.applyQos(qos);
      // Verify looks at the links the change is about and at the routes and rules of the families it wants
      // any of: the read converts no other link and lists no other family.
      const readStarted = performance.now();
      const [verified, qosAfter] = await Promise.all([
        backend.read({
          links: linksVerified(desired),
          absentLinks: new Set(desired.absentLinks),
          routeFamilies: routeFamiliesVerified(desired),
        }),
        qos.length ? backend.readQos(qos.map((a) => a.dev)) : NO_QOS,
      ]);
      // Where a slow change spent its time: the kernel's RTNL lock, which every network change on the host
      // takes, can hold the apply and the read for as long as another process keeps it.
      log.info(
        { requestId: id, applyMs: Math.round(appliedMs), readBackMs: Math.round(performance.now() - readStarted) },
        'setupNetworks in the kernel, read back',
      );
      const problems = [...verifyState(verified, desired), ...qosProblems(qos, qosAfter)];
      if (problems.length)
        throw new VdsmError(JsonRpcCode.INTERNAL_ERROR, `the host did not take the configuration: ${problems.join('; ')}`);
      if (dns.kind === 'write') backend.setResolvConf(dns.after);
      if (request.blockingDhcp.length) {
        await this.pause(PausePoint.AWAITING_LEASES);
        // Still inside the apply: a lease that does not come fails the request and rolls it back like any
        // failed apply, and an agent killed while waiting finds the transaction applying and rolls it back.
        await this.awaitBlockingDhcp(request.blockingDhcp);
        config.saveRunning(next);
      }
      await savingRunning;
    } catch (err) {
      await savingRunning?.catch(() => undefined);
      journal.write({ kind: 'apply', requestId: id, ops: plan.ops.length, outcome: 'failed', detail: errorText(err) });
      await this.rollback(restorePoint, id, `apply failed: ${errorText(err)}`);
      throw this.failed(
        id,
        err instanceof VdsmError
          ? err
          : new VdsmError(JsonRpcCode.INTERNAL_ERROR, `setupNetworks failed and was rolled back: ${errorText(err)}`),
      );
    }

    if (!connectivityCheck) {
      journal.write({ kind: 'apply', requestId: id, ops: plan.ops.length, outcome: 'ok' });
      return this.keep(txn);
    }
    const appliedAt = connectivity.now();
    const awaiting: PendingTransaction = { ...txn, phase: TransactionPhase.AWAITING_CONFIRMATION, deadline: Date.now() + txn.timeoutMs };
    this.deps.transactions.save(awaiting);
    journal.write({ kind: 'apply', requestId: id, ops: plan.ops.length, outcome: 'ok' });
    log.info({ requestId: id, timeoutMs: txn.timeoutMs }, 'waiting for Host.confirmConnectivity');
    await this.pause(PausePoint.AWAITING_CONFIRMATION);
    const confirmed = connectivity.waitForConfirmation(appliedAt, txn.timeoutMs);
    if (id !== null) this.deps.onAwaitingConfirmation?.(id);
    if (!(await confirmed)) {
      await this.rollback(restorePoint, id, this.withHint('connectivity check failed'));
      throw this.failed(id, new VdsmError(VdsmCode.LOST_CONNECTION, 'connectivity check failed'));
    }
    return this.keep(awaiting);
  }

  /** Finishes what a killed agent left pending; see {@link recoverPendingTransaction}. */
  private async resume(txn: PendingTransaction): Promise<unknown> {
    const { journal, log } = this.deps;
    const id = txn.requestId;
    this.netConfigDirty = true;
    log.warn(
      { requestId: id, phase: txn.phase, deadline: txn.deadline === null ? null : new Date(txn.deadline).toISOString() },
      'finishing a network change the previous agent process left unfinished',
    );
    switch (txn.phase) {
      case TransactionPhase.APPLYING:
        await this.rollback(txn.restorePoint, id, 'the agent stopped during the apply', 'recover-rollback');
        throw this.failed(
          id,
          new VdsmError(JsonRpcCode.INTERNAL_ERROR, 'setupNetworks failed and was rolled back: the agent stopped during the apply'),
        );
      case TransactionPhase.AWAITING_CONFIRMATION: {
        const deadline = txn.deadline ?? 0;
        const passed = Date.now() >= deadline;
        if (passed || !(await this.confirmedBefore(deadline))) {
          const why = passed
            ? 'the deadline passed while the agent was down'
            : 'no confirmation before the deadline after an agent restart';
          await this.rollback(txn.restorePoint, id, this.withHint(`connectivity check failed: ${why}`), 'recover-rollback');
          throw this.failed(id, new VdsmError(VdsmCode.LOST_CONNECTION, 'connectivity check failed'));
        }
        journal.write({
          kind: 'recover-keep',
          requestId: id,
          outcome: 'ok',
          detail: 'confirmed after an agent restart, before the deadline',
        });
        return this.keep(txn);
      }
      case TransactionPhase.CONFIRMED:
        journal.write({
          kind: 'recover-keep',
          requestId: id,
          outcome: 'ok',
          detail: `confirmed before the agent stopped${txn.commitOnSuccess ? '; committing now' : ''}`,
        });
        return this.keep(txn);
    }
  }

  /** Whether a confirmation arrives before the wall-clock `deadline` (never answers false before it). */
  private async confirmedBefore(deadline: number): Promise<boolean> {
    // The apply happened before this process started, so every confirmation it receives counts.
    for (let remaining = deadline - Date.now(); remaining > 0; remaining = deadline - Date.now()) {
      if (await this.deps.connectivity.waitForConfirmation(0, remaining)) return true;
    }
    return false;
  }

  private begin(fields: Omit<PendingTransaction, 'version' | 'phase' | 'startedAt' | 'deadline'>): PendingTransaction {
    const txn: PendingTransaction = {
      version: 1,
      phase: TransactionPhase.APPLYING,
      startedAt: new Date().toISOString(),
      deadline: null,
      ...fields,
    };
    this.deps.transactions.save(txn);
    return txn;
  }

  /**
   * The change stays: recorded as confirmed, then the requested commit, then the outcome. Without a commit
   * to do, the outcome is recorded at once: a `confirmed` record would only tell a restarted agent to record
   * that same outcome.
   */
  private async keep(txn: PendingTransaction): Promise<unknown> {
    if (txn.commitOnSuccess) {
      this.deps.transactions.save({ ...txn, phase: TransactionPhase.CONFIRMED });
      await this.pause(PausePoint.BEFORE_COMMIT);
      this.persist(txn.requestId);
    }
    this.finish(txn.requestId, { ok: true, value: SETUP_NETWORKS_DONE });
    return SETUP_NETWORKS_DONE;
  }

  /** `blockingdhcp`: every lease asked for arrives within one shared timeout, or the change fails (29) and rolls back. */
  private async awaitBlockingDhcp(waits: BlockingDhcpWait[]): Promise<void> {
    const timeoutMs = this.deps.blockingDhcpTimeoutMs ?? DEFAULT_BLOCKING_DHCP_TIMEOUT_MS;
    const deadline = Date.now() + timeoutMs;
    for (const { network, dev, family } of waits) {
      try {
        await this.deps.backend.waitForDhcpLease(dev, family, Math.max(0, deadline - Date.now()));
      } catch (err) {
        if (!(err instanceof DhcpLeaseTimeoutError)) throw err;
        throw new VdsmError(
          VdsmCode.FAILED_IFUP,
          `network ${network}: no DHCPv${family} lease on ${dev} within ${timeoutMs / 1000} s (blockingdhcp)`,
        );
      }
    }
  }

  /** Records `error` as the request's outcome and returns it, to throw. */
  private failed(id: RequestId, error: VdsmError): VdsmError {
    this.finish(id, { ok: false, code: error.code, message: error.message });
    return error;
  }

  /** The transaction is over: its outcome replaces it on disk, for retries of its id after a restart. */
  private finish(id: RequestId, outcome: TransactionOutcome): void {
    this.deps.transactions.save({
      version: 1,
      requestId: id,
      phase: TransactionPhase.FINISHED,
      finishedAt: new Date().toISOString(),
      outcome,
    });
  }

  private async pause(point: PausePoint): Promise<void> {
    await this.deps.pause?.(point);
  }

  private persist(id: RequestId): void {
    this.deps.config.persistSafe(this.deps.config.loadRunning());
    this.netConfigDirty = false;
    this.deps.journal.write({ kind: 'persist', requestId: id, outcome: 'ok' });
  }

  /**
   * Puts the scope of `point` back as it was. A failure leaves the pending transaction in place, so the next
   * start of the agent in this boot tries again.
   */
  private async rollback(
    point: RestorePoint,
    id: RequestId,
    why: string,
    kind: 'rollback' | 'recover-rollback' = 'rollback',
  ): Promise<void> {
    const { backend, config, journal, log } = this.deps;
    const now = await backend.read();
    const desired = desiredStateFromSnapshot(point.kernel, point.dhcp, point.scope, now);
    const plan = planChanges(now, desired, await this.deps.dhcp.running());
    try {
      await backend.apply(plan);
      await this.deps.dhcp.record(plan);
      if (point.qos?.length) await this.restoreQos(point.qos);
      if (point.resolvConf) backend.setResolvConf(point.resolvConf.text);
      journal.write({ kind, requestId: id, ops: plan.ops.length, outcome: 'ok', detail: why });
      log.warn({ requestId: id, ops: plan.ops.length, why }, 'rolled back to the previous configuration');
    } catch (err) {
      journal.write({ kind, requestId: id, ops: plan.ops.length, outcome: 'failed', detail: `${why}; rollback: ${errorText(err)}` });
      log.error({ requestId: id, err }, 'ROLLBACK FAILED: the host may be half-configured');
      throw err;
    } finally {
      config.saveRunning(point.config);
    }
  }

  /**
   * Puts each device's QoS tree back. A device the kernel rollback removed (a bond the change made) has
   * nothing to put back; one whose queueing someone else replaced since is left alone, and the log says so.
   */
  private async restoreQos(before: ReadonlyArray<{ dev: string; qos: DeviceQos | null }>): Promise<void> {
    const { backend, log } = this.deps;
    const now = await backend.readQos(before.map((b) => b.dev));
    const actions: QosAction[] = [];
    for (const { dev, qos } of before) {
      const have = now[dev] ?? { kind: 'absent' };
      if (have.kind === 'absent') continue;
      if (have.kind === 'foreign') {
        log.warn({ dev, root: have.root }, 'not restoring QoS: the device has a root queueing discipline hostprov did not set');
        continue;
      }
      const action = qosAction(dev, qos, have);
      if (action) actions.push(action);
    }
    await backend.applyQos(actions);
  }

  /** What the nameservers do to resolv.conf; a file a resolver service owns is left alone, and the log says so. */
  private planDns(servers: string[], clear: boolean, id: RequestId): ResolvConfPlan {
    const dns = planResolvConf(this.deps.backend.resolvConf(), servers, clear);
    if (dns.kind === 'managed')
      this.deps.log.warn(
        { requestId: id, nameservers: servers },
        'resolv.conf is a symbolic link (a resolver service owns it): the nameservers are kept in the configuration, not written',
      );
    return dns;
  }

  /** Stops them, so they cannot put addresses back behind our back. */
  private async takeOver(clients: ForeignDhcpClient[]): Promise<void> {
    for (const client of clients) await this.deps.backend.stopForeignDhcpClient(client);
  }

  private async unsupportedLinkTypes(next: RunningConfig): Promise<Partial<Record<'bond' | 'vlan', string>>> {
    const out: Partial<Record<'bond' | 'vlan', string>> = {};
    if (Object.keys(next.bonds).length) {
      const reason = await this.deps.backend.unsupportedReason('bond');
      if (reason) out.bond = `ip link add type bond: ${reason}`;
    }
    if (Object.values(next.networks).some((n) => n.vlan !== undefined)) {
      const reason = await this.deps.backend.unsupportedReason('vlan');
      if (reason) out.vlan = `ip link add type vlan: ${reason}`;
    }
    return out;
  }
}

/** What a lease offered, for the journal: `nameservers a, b; search x y`. */
function leaseDnsText(dns: LeaseDns): string {
  const parts = [
    ...(dns.nameservers.length ? [`nameservers ${dns.nameservers.join(', ')}`] : []),
    ...(dns.searchDomains.length ? [`search ${dns.searchDomains.join(' ')}`] : []),
  ];
  return parts.join('; ');
}

/** Of the DHCP clients the OS runs, those on devices `desired` owns (bridge ports, configured devices). */
function foreignDhcpClientsOn(desired: DesiredState, clients: readonly ForeignDhcpClient[]): ForeignDhcpClient[] {
  const owned = devicesTakenOver(desired);
  return clients.filter((client) => owned.has(client.dev));
}

/** How a rollback restarts a DHCP client the OS ran on a device the change took over. */
function dhcpSpecOf(client: ForeignDhcpClient, current: KernelState): DhcpClientSpec {
  const defaultRoute = current.routes.some(
    (r) => r.dev === client.dev && r.family === client.family && r.table === MAIN_TABLE && r.dst === 'default',
  );
  return { dev: client.dev, family: client.family, table: MAIN_TABLE, defaultRoute, sourceRouting: false };
}

/** VDSM's restore drops persisted entries whose NICs are gone (a replaced card, a removed VF). */
function withoutMissingNics(safe: RunningConfig, current: KernelState, log: Logger): RunningConfig {
  const nic = (name: string) => current.links.some((l) => l.name === name && l.kind === 'nic');
  const bonds = Object.fromEntries(
    Object.entries(safe.bonds).filter(([name, bond]) => {
      const ok = bond.nics.every(nic);
      if (!ok) log.warn({ bond: name, nics: bond.nics }, 'not restoring bond: a slave NIC is missing');
      return ok;
    }),
  );
  const networks = Object.fromEntries(
    Object.entries(safe.networks).filter(([name, net]) => {
      const ok =
        (net.nic === undefined || nic(net.nic)) &&
        (net.bonding === undefined || ownEntry(bonds, net.bonding) !== undefined || current.links.some((l) => l.name === net.bonding));
      if (!ok) log.warn({ network: name, nic: net.nic, bonding: net.bonding }, 'not restoring network: its device is missing');
      return ok;
    }),
  );
  // Released NICs stay in: one missing from the kernel is not rendered (model/network/desired-state.ts).
  return { networks, bonds, ...(safe.releasedDevices ? { releasedDevices: safe.releasedDevices } : {}) };
}

function outcomeOf(recorded: TransactionOutcome): Outcome {
  return recorded.ok ? recorded : { ok: false, error: new VdsmError(recorded.code, recorded.message) };
}

function unwrap(outcome: Outcome): unknown {
  if (outcome.ok) return outcome.value;
  throw outcome.error;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

const NO_QOS: Readonly<Record<string, DeviceQosState>> = {};

/**
 * What a change does to the QoS devices' queueing, and what a rollback puts back: each device it gives
 * another tree, and each it deletes with a tree on it (a bond it makes again, whose tree the kernel's
 * rollback does not make).
 */
function qosChange(
  devices: readonly string[],
  next: RunningConfig,
  now: Readonly<Record<string, DeviceQosState>>,
  plan: Plan,
): { actions: QosAction[]; before: Array<{ dev: string; qos: DeviceQos | null }> } {
  const deleted = new Set(plan.ops.flatMap((op) => (op.kind === 'link-del' ? [op.name] : [])));
  const actions: QosAction[] = [];
  const before: Array<{ dev: string; qos: DeviceQos | null }> = [];
  for (const dev of devices) {
    const have = now[dev] ?? { kind: 'absent' };
    const action = qosAction(dev, desiredDeviceQos(next.networks, dev), have, deleted.has(dev));
    if (action) actions.push(action);
    if (action || (deleted.has(dev) && have.kind === 'hostprov')) before.push({ dev, qos: qosBefore(have) });
  }
  return { actions, before };
}

/** What the verify's read of the changed devices' queueing shows that differs from what was set. */
function qosProblems(actions: readonly QosAction[], after: Readonly<Record<string, DeviceQosState>>): string[] {
  return actions.flatMap(({ dev, set }) => {
    const have = after[dev] ?? { kind: 'absent' };
    if (set === null ? have.kind === 'none' : have.kind === 'hostprov' && have.intact && sameDeviceQos(set, have.qos)) return [];
    return [
      `device ${dev} has ${have.kind === 'hostprov' ? `QoS ${JSON.stringify(have.qos)}${have.intact ? '' : ' (incomplete)'}` : have.kind === 'foreign' ? have.root : have.kind} queueing, expected ${set === null ? 'the default' : `QoS ${JSON.stringify(set)}`}`,
    ];
  });
}
