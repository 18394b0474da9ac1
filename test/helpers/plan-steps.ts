/**
 * Planner inputs the way the agent makes them (agent/network/network-service.ts): a request canonicalized,
 * validated and merged into the running config, the desired state of the change, the rollback's desired
 * state from a snapshot, and a host that moves from step to step through the kernel simulator.
 */
import { subnetOf } from '../../model/ip';
import { MAIN_TABLE, type KernelState, type Plan } from '../../model/net-state';
import { canonicalizeRequest } from '../../model/network/canonicalize';
import { EMPTY_CONFIG, mergeRunningConfig, presentPart, type RunningConfig } from '../../model/network/config';
import {
  desiredStateForChange,
  desiredStateFromSnapshot,
  devicesTakenOver,
  restoreScopeOf,
  snapshotInScope,
  SOURCE_ROUTE_RULE_PRIORITY,
  type DesiredState,
  type DhcpClientSpec,
} from '../../model/network/desired-state';
import { planChanges } from '../../model/network/plan';
import { validateRequest } from '../../model/network/validate';
import type { BondAttributes, NetworkAttributes } from '../../model/vdsm/setup-networks';
import { simulatePlan } from './kernel-simulator';

/** The planner's inputs. */
export interface PlanInputs {
  current: KernelState;
  runningDhcp: DhcpClientSpec[];
  desired: DesiredState;
}

/** A host between two changes: its kernel, the agent's running config and the DHCP clients it runs. */
export interface HostStep {
  kernel: KernelState;
  running: RunningConfig;
  dhcp: DhcpClientSpec[];
  /**
   * DHCP clients the host's OS runs (not ours): not stopped by a plan (the agent kills them when it takes
   * their device over), but part of the restore point, so a rollback starts ours in their place.
   */
  foreignDhcp?: DhcpClientSpec[];
  /** The agent turns IPv6 on or off per bridge here (NetworkBackend.controlsIpv6). @default false */
  controlsIpv6?: boolean;
}

export interface SetupRequest {
  networks?: Record<string, NetworkAttributes>;
  bondings?: Record<string, BondAttributes>;
}

export function freshHost(kernel: KernelState, dhcp: DhcpClientSpec[] = []): HostStep {
  return { kernel, running: EMPTY_CONFIG, dhcp };
}

/** The running config after `request`, refused as the agent would refuse it. */
export function nextConfig(step: HostStep, { networks = {}, bondings = {} }: SetupRequest): RunningConfig {
  const request = canonicalizeRequest({ networks, bondings, options: {} }, { currentNameservers: ['198.18.1.1'], running: step.running });
  const next = mergeRunningConfig(step.running, request);
  validateRequest(request, { running: step.running, next, current: step.kernel, unsupportedLinkTypes: {} });
  return next;
}

/** What the agent plans for `request` on `step` (runSetupNetworks). */
export function changeInputs(step: HostStep, request: SetupRequest): PlanInputs & { next: RunningConfig } {
  const next = nextConfig(step, request);
  const desired = desiredStateForChange(step.running, next, step.kernel, { ipv6: step.controlsIpv6 ?? false });
  return { current: step.kernel, runningDhcp: step.dhcp, desired, next };
}

/** The DHCP clients running after `plan`: the stopped ones gone, the started ones (re)started. */
export function dhcpAfter(running: readonly DhcpClientSpec[], plan: Plan): DhcpClientSpec[] {
  let clients = [...running];
  for (const op of plan.ops) {
    if (op.kind === 'dhcp-stop' || op.kind === 'dhcp-start') clients = clients.filter((c) => c.dev !== op.dev || c.family !== op.family);
    if (op.kind === 'dhcp-start')
      clients.push({ dev: op.dev, family: op.family, table: op.table, defaultRoute: op.defaultRoute, sourceRouting: op.sourceRouting });
  }
  return clients;
}

/** Plans and applies (in the simulator) what `inputs` ask for. */
export function applyInputs(inputs: PlanInputs): { plan: Plan; kernel: KernelState; dhcp: DhcpClientSpec[] } {
  const plan = planChanges(inputs.current, inputs.desired, inputs.runningDhcp);
  return { plan, kernel: simulatePlan(inputs.current, plan.ops, inputs.runningDhcp), dhcp: dhcpAfter(inputs.runningDhcp, plan) };
}

/** The host after the agent applied `request`. */
export function afterChange(step: HostStep, request: SetupRequest): HostStep {
  const inputs = changeInputs(step, request);
  const { kernel, dhcp } = applyInputs(inputs);
  return { kernel, running: inputs.next, dhcp, ...(step.controlsIpv6 ? { controlsIpv6: true } : {}) };
}

/**
 * The rollback of `request` on `step` after it was applied: back to the snapshot the agent took before.
 * `meanwhile` changes the host between the apply and the rollback (leases arriving while the change waits
 * for its confirmation).
 */
export function rollbackInputs(step: HostStep, request: SetupRequest, meanwhile: (applied: HostStep) => HostStep = (h) => h): PlanInputs {
  const change = changeInputs(step, request);
  const applied = applyInputs(change);
  const { kernel, dhcp } = meanwhile({ ...step, kernel: applied.kernel, running: change.next, dhcp: applied.dhcp });
  const scope = restoreScopeOf(change.desired, applied.plan);
  // What the agent keeps in its restore point: the golden fixtures, made from the whole snapshot, show it is
  // enough. Its DHCP clients: ours, and the OS's that the change stopped (network-service.ts, takeOver).
  const takenOver = devicesTakenOver(change.desired);
  const clients = [...step.dhcp, ...(step.foreignDhcp ?? []).filter((c) => takenOver.has(c.dev))];
  const desired = desiredStateFromSnapshot(snapshotInScope(step.kernel, scope), clients, scope, kernel);
  return { current: kernel, runningDhcp: dhcp, desired };
}

/**
 * The boot-time restore (network-service.ts restoreSafeConfig) on `booted`, a host fresh from a boot where
 * none of our DHCP clients runs: the safe config comes back over what of `running` the boot left.
 */
export function restoreInputs(booted: HostStep, running: RunningConfig, safe: RunningConfig): PlanInputs {
  const previous = presentPart(running, booted.kernel);
  const desired = desiredStateForChange(previous, safe, booted.kernel, { ipv6: booted.controlsIpv6 ?? false });
  return { current: booted.kernel, runningDhcp: [], desired };
}

/**
 * A DHCP lease arrived, installed as our dhclient script does: the dynamic address and the learned default
 * route (in the client's table); for a source-routed client also the subnet's route in its table and the
 * two rules of the subnet.
 */
export function withLease(step: HostStep, dev: string, cidr: string, gateway: string | undefined): HostStep {
  const client = [...step.dhcp, ...(step.foreignDhcp ?? [])].find((c) => c.dev === dev && c.family === 4);
  if (!client) throw new Error(`no DHCP client runs on ${dev}`);
  const [address = '', prefixLen = '24'] = cidr.split('/');
  const kernel = structuredClone(step.kernel);
  kernel.addresses.push({ dev, family: 4, address, prefixLen: Number(prefixLen), dynamic: true });
  // A lease without a router installs no default route.
  if (gateway !== undefined) kernel.routes.push({ family: 4, table: client.table, dst: 'default', gateway, dev, protocol: 'dhcp' });
  if (client.sourceRouting && client.table !== MAIN_TABLE) {
    const subnet = subnetOf(address, Number(prefixLen));
    kernel.routes.push({ family: 4, table: client.table, dst: subnet, dev, protocol: 'dhcp' });
    kernel.rules.push({ family: 4, priority: SOURCE_ROUTE_RULE_PRIORITY, from: subnet, table: client.table });
    kernel.rules.push({ family: 4, priority: SOURCE_ROUTE_RULE_PRIORITY, to: subnet, table: client.table });
  }
  return { ...step, kernel };
}
