/**
 * The agent's network verbs as one pipeline (vdsm's api.setupNetworks, with the stages as pure model
 * functions): canonicalize → validate → plan → apply → verify → (DHCP leases, when blocking) →
 * connectivity check → (commit).
 *
 * - One network verb at a time: a second one gets VDSM code 40 at once (a non-blocking semaphore).
 * - A repeated JSON-RPC id is the same request: it joins the running one or gets its recorded result. That
 *   makes `setupNetworks` safe to resend when the caller's session died mid-change (the management address
 *   moved) or when a new worker takes over — the host applies once.
 * - Any failure after the first kernel change, and a missing confirmation, restore exactly the previous
 *   state: the kernel objects in scope go back to their snapshot, the running config to its previous value.
 */
import type { Logger } from '../../lib/logger';
import { MAIN_TABLE, type KernelState, type Plan } from '../../model/net-state';
import { canonicalizeRequest } from '../../model/network/canonicalize';
import { mergeRunningConfig, southboundOf, type BlockingDhcpWait, type RunningConfig } from '../../model/network/config';
import { desiredStateForChange, desiredStateFromSnapshot, type DesiredState, type DhcpClientSpec } from '../../model/network/desired-state';
import { planChanges } from '../../model/network/plan';
import { validateRequest } from '../../model/network/validate';
import { verifyState } from '../../model/network/verify';
import { JsonRpcCode, VdsmCode, VdsmError } from '../../model/vdsm/error-codes';
import { SetupNetworksParams } from '../../model/vdsm/setup-networks';
import type { NetworkBackend } from '../backend/backend';
import { DhcpLeaseTimeoutError } from '../backend/errors';
import type { ConfigStore } from '../persistence/config-store';
import type { ConnectivityCheck } from './connectivity';
import type { DhcpRegistry } from './dhcp-registry';
import type { Journal } from './journal';

export const SETUP_NETWORKS_DONE = { code: 0, message: 'Done' } as const;

/** dhclient.conf(5): "By default, this timeout is sixty seconds." */
const DEFAULT_BLOCKING_DHCP_TIMEOUT_MS = 60_000;

type RequestId = string | number | null;
type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

export interface NetworkServiceDeps {
  backend: NetworkBackend;
  config: ConfigStore;
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
}

export class NetworkService {
  /** In-memory like VDSM's: set when a change starts, cleared by a commit and by an agent restart. */
  netConfigDirty = false;
  private busy: { id: RequestId; verb: string; done: Promise<Outcome> } | null = null;
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
      const desired = desiredStateForChange(previous, safe, current);
      const plan = planChanges(current, desired, await this.deps.dhcp.running());
      await this.takeOverDevices(desired, current);
      await backend.apply(plan);
      await this.deps.dhcp.record(plan);
      config.saveRunning(safe);
      journal.write({ kind: 'restore', ops: plan.ops.length, outcome: 'ok', detail: `safe networks: ${Object.keys(safe.networks).join(', ') || 'none'}` });
      log.info({ ops: plan.ops.length, networks: Object.keys(safe.networks) }, 'restored the safe network configuration');
      return { ops: plan.ops.length };
    })) as { ops: number };
  }

  private async exclusive(verb: string, id: RequestId, run: () => Promise<unknown>): Promise<unknown> {
    const key = id === null || this.deps.joinRepeatedIds === false ? null : JSON.stringify(id);
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
      if (key !== null) {
        this.results.set(key, outcome);
        if (this.results.size > 64) this.results.delete(this.results.keys().next().value as string);
      }
      return unwrap(outcome);
    } finally {
      this.busy = null;
    }
  }

  private async runSetupNetworks(params: SetupNetworksParams, id: RequestId): Promise<unknown> {
    const { backend, config, connectivity, journal, log } = this.deps;
    const current = await backend.read();
    const running = config.loadRunning();
    const request = canonicalizeRequest(params, { currentNameservers: await backend.nameservers(), running });
    const next = mergeRunningConfig(running, request);
    validateRequest(request, { running, next, current, unsupportedLinkTypes: await this.unsupportedLinkTypes(next) });

    this.netConfigDirty = true;
    const desired = desiredStateForChange(running, next, current);
    const runningDhcp = await this.deps.dhcp.running();
    const plan = planChanges(current, desired, runningDhcp);
    const takenOver = await this.takeOverDevices(desired, current);
    // A rollback gives the devices DHCP again (from our client) if the OS ran one there before.
    const restorePoint: RestorePoint = { kernel: current, dhcp: [...runningDhcp, ...takenOver], config: running, scope: scopeOf(desired, plan) };
    log.info({ requestId: id, ops: plan.ops.length, networks: Object.keys(request.networks), bonds: Object.keys(request.bonds) }, 'applying setupNetworks');

    try {
      await backend.apply(plan);
      await this.deps.dhcp.record(plan);
      const problems = verifyState(await backend.read(), desired);
      if (problems.length) throw new VdsmError(JsonRpcCode.INTERNAL_ERROR, `the host did not take the configuration: ${problems.join('; ')}`);
      await this.awaitBlockingDhcp(request.blockingDhcp);
      config.saveRunning(next);
    } catch (err) {
      journal.write({ kind: 'apply', requestId: id, ops: plan.ops.length, outcome: 'failed', detail: errorText(err) });
      await this.rollback(restorePoint, id, `apply failed: ${errorText(err)}`);
      if (err instanceof VdsmError) throw err;
      throw new VdsmError(JsonRpcCode.INTERNAL_ERROR, `setupNetworks failed and was rolled back: ${errorText(err)}`);
    }
    journal.write({ kind: 'apply', requestId: id, ops: plan.ops.length, outcome: 'ok' });

    if (request.options.connectivityCheck) {
      const appliedAt = connectivity.now();
      const timeoutMs = request.options.connectivityTimeoutSeconds * 1000;
      log.info({ requestId: id, timeoutMs }, 'waiting for Host.confirmConnectivity');
      if (!(await connectivity.waitForConfirmation(appliedAt, timeoutMs))) {
        await this.rollback(restorePoint, id, 'connectivity check failed');
        throw new VdsmError(VdsmCode.LOST_CONNECTION, 'connectivity check failed');
      }
    }
    if (request.options.commitOnSuccess) this.persist(id);
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
        throw new VdsmError(VdsmCode.FAILED_IFUP, `network ${network}: no DHCPv${family} lease on ${dev} within ${timeoutMs / 1000} s (blockingdhcp)`);
      }
    }
  }

  private persist(id: RequestId): void {
    this.deps.config.persistSafe(this.deps.config.loadRunning());
    this.netConfigDirty = false;
    this.deps.journal.write({ kind: 'persist', requestId: id, outcome: 'ok' });
  }

  private async rollback(point: RestorePoint, id: RequestId, why: string): Promise<void> {
    const { backend, config, journal, log } = this.deps;
    const now = await backend.read();
    const desired = desiredStateFromSnapshot(point.kernel, point.dhcp, point.scope, now);
    const plan = planChanges(now, desired, await this.deps.dhcp.running());
    try {
      await backend.apply(plan);
      await this.deps.dhcp.record(plan);
      journal.write({ kind: 'rollback', requestId: id, ops: plan.ops.length, outcome: 'ok', detail: why });
      log.warn({ requestId: id, ops: plan.ops.length, why }, 'rolled back to the previous configuration');
    } catch (err) {
      journal.write({ kind: 'rollback', requestId: id, ops: plan.ops.length, outcome: 'failed', detail: `${why}; rollback: ${errorText(err)}` });
      log.error({ requestId: id, err }, 'ROLLBACK FAILED: the host may be half-configured');
      throw err;
    } finally {
      config.saveRunning(point.config);
    }
  }

  /**
   * Stops DHCP clients the OS runs on devices this configuration now owns (bridge ports, configured
   * devices), so they cannot put addresses back behind our back. Returns them as specs for the rollback.
   */
  private async takeOverDevices(desired: DesiredState, current: KernelState): Promise<DhcpClientSpec[]> {
    const owned = new Set([...desired.dhcpOwners, ...desired.addressOwners]);
    const specs: DhcpClientSpec[] = [];
    for (const client of await this.deps.backend.foreignDhcpClients()) {
      if (!owned.has(client.dev)) continue;
      await this.deps.backend.stopForeignDhcpClient(client);
      const defaultRoute = current.routes.some((r) => r.dev === client.dev && r.family === client.family && r.table === MAIN_TABLE && r.dst === 'default');
      specs.push({ dev: client.dev, family: client.family, table: MAIN_TABLE, defaultRoute, sourceRouting: false });
    }
    return specs;
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

interface RestorePoint {
  kernel: KernelState;
  dhcp: DhcpClientSpec[];
  config: RunningConfig;
  scope: { links: string[]; tables: number[] };
}

/** Everything a plan may touch: desired links and owners, links it creates or deletes, tables it edits. */
function scopeOf(desired: DesiredState, plan: Plan): { links: string[]; tables: number[] } {
  const links = new Set<string>([...desired.links.map((l) => l.name), ...desired.absentLinks, ...desired.addressOwners, ...desired.routeOwners, ...desired.dhcpOwners]);
  const tables = new Set<number>(desired.ruleTables);
  for (const op of plan.ops) {
    if ('name' in op) links.add(op.name);
    if (op.kind === 'route-add' || op.kind === 'route-del') tables.add(op.route.table);
    if (op.kind === 'rule-add' || op.kind === 'rule-del') tables.add(op.rule.table);
  }
  return { links: [...links].sort(), tables: [...tables].sort((a, b) => a - b) };
}

/** VDSM's restore drops persisted entries whose NICs are gone (a replaced card, a removed VF). */
function withoutMissingNics(safe: RunningConfig, current: KernelState, log: Logger): RunningConfig {
  const nic = (name: string) => current.links.some((l) => l.name === name && l.kind === 'nic');
  const bonds = Object.fromEntries(Object.entries(safe.bonds).filter(([name, bond]) => {
    const ok = bond.nics.every(nic);
    if (!ok) log.warn({ bond: name, nics: bond.nics }, 'not restoring bond: a slave NIC is missing');
    return ok;
  }));
  const networks = Object.fromEntries(Object.entries(safe.networks).filter(([name, net]) => {
    const ok = (net.nic === undefined || nic(net.nic)) && (net.bonding === undefined || bonds[net.bonding] !== undefined || current.links.some((l) => l.name === net.bonding));
    if (!ok) log.warn({ network: name, nic: net.nic, bonding: net.bonding }, 'not restoring network: its device is missing');
    return ok;
  }));
  return { networks, bonds };
}

/**
 * The part of a (possibly unsafe) running config that exists in the kernel after a boot: networks whose
 * bridge or VLAN device is there. Releasing the others would strip addresses the OS gave the NICs.
 */
function presentPart(running: RunningConfig, current: KernelState): RunningConfig {
  const exists = (name: string) => current.links.some((l) => l.name === name);
  const networks = Object.fromEntries(
    Object.entries(running.networks).filter(([name, net]) => (net.bridged ? exists(name) : net.vlan !== undefined ? exists(southboundOf(net) ?? '') : false)),
  );
  const bonds = Object.fromEntries(Object.entries(running.bonds).filter(([name]) => exists(name)));
  return { networks, bonds };
}

function unwrap(outcome: Outcome): unknown {
  if (outcome.ok) return outcome.value;
  throw outcome.error;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

