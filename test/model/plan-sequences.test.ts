/**
 * Properties of the planner over sequences of changes, each planned as the agent plans it
 * (test/helpers/plan-steps.ts) and applied in the kernel simulator, with and without IPv6 set per device:
 * - after every change, each link's master is exactly the one the running config gives it (a bond's slave
 *   in its bond, a bridged network's device in its bridge, nothing else in any master), so no device a
 *   change moved away stays behind (a NIC left in a bridge beside the network's new one is a bridging loop
 *   on a shared segment), each bridge has its port's MAC, no bond the MAC of a NIC that left it, and devices
 *   share a MAC only along one stack (bridge and port, bond and slaves, VLAN and base);
 * - the result is what the desired state asked for (the agent's verify finds nothing), and planning the
 *   same change again makes no op;
 * - a DHCP client runs exactly on the device of each DHCP network;
 * - leases arrive after some changes (as our dhclient script installs them, test/helpers/plan-steps.ts
 *   withLease), so later changes plan on a kernel that holds them: no leased address, learned route or
 *   lease rule outlives its client, a client the change leaves running keeps its lease, and planning the
 *   change again once leases came makes no op;
 * - its rollback puts the kernel back exactly as it was: links (masters, MACs, MTUs, up or down), addresses,
 *   routes and rules, and the DHCP clients that ran; what a lease installed comes back when the restarted
 *   client has its lease again (the rollback leaves it to the client, as the agent does);
 * - on some NICs the OS runs a DHCP client of its own: the change stops those on devices it configures (the
 *   agent's take-over), the others run on with their leases, and a rollback starts ours in their place;
 * - after a reboot, the boot's restore gives back what the safe configuration owns as it was when it was
 *   made safe (MACs and what the configuration does not decide aside);
 * - every plan (change, rollback, restore) leaves the kernel as it does in its order when the agent runs its
 *   independent stacks in two `ip` processes at once (agent/backend/iproute2/apply.ts), whatever way the
 *   kernel interleaves the two.
 * Requests the agent refuses (validation) are skipped, as the agent leaves the host unchanged then.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyStepsFromPlan, concurrentBatchesOf } from '../../agent/backend/iproute2/apply';
import { subnetOf } from '../../model/ip';
import { MAIN_TABLE, type AddressState, type KernelState, type Plan, type PlanOp } from '../../model/net-state';
import { ownEntry, southboundOf, topDeviceOf, type RunningConfig } from '../../model/network/config';
import { nonDefaultBondOptions } from '../../model/network/bond-options';
import { devicesTakenOver, type DhcpClientSpec } from '../../model/network/desired-state';
import { planChanges } from '../../model/network/plan';
import { verifyState } from '../../model/network/verify';
import { VdsmError } from '../../model/vdsm/error-codes';
import type { BondAttributes, NetworkAttributes } from '../../model/vdsm/setup-networks';
import { addr, defaultVia, nic } from '../helpers/host-state';
import { simulatePlan } from '../helpers/kernel-simulator';
import {
  applyInputs,
  changeInputs,
  freshHost,
  restoreInputs,
  rollbackInputs,
  withLease,
  type HostStep,
  type PlanInputs,
  type SetupRequest,
} from '../helpers/plan-steps';
import { propertyParameters, REPLAY_HINT } from '../helpers/property';

const NICS = ['eth1', 'eth2', 'eth3'];
const NETWORKS = ['net1', 'net2', 'net3'];

/**
 * eth0 keeps the host reachable and is never used; eth1..eth3 are idle, IPv6 on as the kernel leaves it.
 * The OS runs a DHCP client of its own on each of `osDhcp`, which has its lease (an address; its segment
 * has no router): a change that configures such a NIC stops that client first, and a rollback starts one
 * of ours in its place.
 */
function host(controlsIpv6: boolean, osDhcp: readonly string[], leases: Leases): HostStep {
  const ipv6 = controlsIpv6 ? { ipv6: true, ipv6Autoconf: true, ipv6DefaultRouter: true } : {};
  const kernel: KernelState = {
    links: [
      nic('lo', '00:00:00:00:00:00', { kind: 'loopback', mtu: 65536 }),
      nic('eth0', '52:54:00:00:00:10'),
      ...NICS.map((name, i) => nic(name, `52:54:00:00:00:1${i + 1}`, ipv6)),
    ],
    addresses: [addr('eth0', '198.18.1.10/24'), ...osDhcp.map((dev) => addr(dev, leases.of(dev).cidr, true))],
    routes: [defaultVia('198.18.1.1', 'eth0')],
    rules: [],
  };
  // As the agent describes an OS client it took over (network-service.ts dhcpSpecOf): main table, no default route here.
  const foreignDhcp = osDhcp.map((dev): DhcpClientSpec => ({
    dev,
    family: 4,
    table: MAIN_TABLE,
    defaultRoute: false,
    sourceRouting: false,
  }));
  return { ...freshHost(kernel), foreignDhcp, ...(controlsIpv6 ? { controlsIpv6: true } : {}) };
}

/**
 * Network `index`'s attributes: on a NIC or the bond, tagged or not, bridged or not, a static address (with
 * a gateway) or DHCP or none, DHCPv6 or a static IPv6 address (maybe with its gateway) or neither, router
 * advertisements taken or not, maybe an MTU, STP on some bridges, sometimes the default route.
 */
const network = (index: number): fc.Arbitrary<NetworkAttributes> =>
  fc
    .record({
      device: fc.constantFrom(...NICS, 'bond0', 'bond0'),
      vlan: fc.option(fc.constantFrom('100', '200'), { nil: undefined }),
      bridged: fc.constantFrom('true', 'false'),
      // DHCP twice as often: its leases are what later changes and rollbacks most often get wrong.
      addressing: fc.constantFrom('none', 'static', 'dhcp', 'dhcp'),
      mtu: fc.option(fc.constantFrom(1500, 9000), { nil: undefined }),
      // The default route's role, now and then: moving it restarts a DHCP client with the main table.
      defaultRoute: fc.constantFrom(false, false, false, true),
      // IPv6: DHCPv6 (addresses only), a static address, or nothing.
      ipv6: fc.constantFrom('none', 'none', 'dhcpv6', 'static', 'static+gateway'),
      ipv6autoconf: fc.constantFrom(false, false, false, true),
      stp: fc.constantFrom(false, false, false, true),
    })
    .map(({ device, vlan, bridged, addressing, mtu, defaultRoute, ipv6, ipv6autoconf, stp }) => ({
      ...(device === 'bond0' ? { bonding: device } : { nic: device }),
      ...(vlan ? { vlan } : {}),
      bridged,
      bootproto: addressing === 'dhcp' ? 'dhcp' : 'none',
      // Each network its own subnet and gateway: its own routing table and source rules.
      ...(addressing === 'static' ? { ipaddr: `198.18.${11 + index}.10`, prefix: 24, gateway: `198.18.${11 + index}.1` } : {}),
      ...(mtu ? { mtu } : {}),
      ...(defaultRoute ? { defaultRoute } : {}),
      ...(stp && bridged === 'true' ? { stp: 'true' } : {}),
      ...(ipv6autoconf ? { ipv6autoconf: 'true' } : {}),
      ...(ipv6 === 'dhcpv6' ? { dhcpv6: 'true' } : {}),
      // A static IPv6 address, with its gateway half the time (the default route's, when the network has the role).
      ...(ipv6 === 'static' ? { ipv6addr: `2001:db8:${11 + index}::10/64` } : {}),
      ...(ipv6 === 'static+gateway' ? { ipv6addr: `2001:db8:${11 + index}::10/64`, ipv6gateway: `2001:db8:${11 + index}::1` } : {}),
    }));

const request: fc.Arbitrary<SetupRequest> = fc.record({
  // Each network left alone, changed or removed; at most two in one request.
  networks: fc
    .tuple(
      ...NETWORKS.map((_, i) =>
        fc.option(fc.oneof(network(i), fc.constant<NetworkAttributes>({ remove: 'true' })), { nil: undefined, freq: 2 }),
      ),
    )
    .map((entries) => Object.fromEntries(entries.flatMap((entry, i) => (entry ? [[NETWORKS[i] ?? '', entry]] : [])).slice(0, 2))),
  bondings: fc
    .option(
      fc.oneof(
        // Sometimes with a mode: a mode that changes re-creates the bond, and what is on it.
        fc
          .tuple(
            fc.subarray(NICS, { minLength: 1 }),
            fc.constantFrom(undefined, undefined, 'mode=1 miimon=100', 'mode=4 miimon=100'),
            // Now and then a MAC of its own.
            fc.constantFrom(undefined, undefined, undefined, '02:00:00:00:00:b0'),
          )
          .map(([nics, options, hwaddr]): BondAttributes => ({ nics, ...(options ? { options } : {}), ...(hwaddr ? { hwaddr } : {}) })),
        fc.constant<BondAttributes>({ remove: 'true' }),
      ),
      // Half the requests leave the bond alone, as most changes do.
      { nil: undefined, freq: 2 },
    )
    .map((bond): Record<string, BondAttributes> => (bond ? { bond0: bond } : {})),
});

/** Whether the leases come before the next change: mostly, so that later changes meet them. */
const leasesArrive = fc.oneof({ arbitrary: fc.constant(true), weight: 3 }, { arbitrary: fc.constant(false), weight: 1 });

/** The master the running config gives each device it enslaves. */
function mastersOf(config: RunningConfig): Map<string, string> {
  const masters = new Map<string, string>();
  for (const [bond, { nics }] of Object.entries(config.bonds)) for (const slave of nics) masters.set(slave, bond);
  for (const [name, net] of Object.entries(config.networks)) {
    const port = southboundOf(net);
    if (net.bridged && port) masters.set(port, name);
  }
  return masters;
}

const clientsOf = (dhcp: readonly DhcpClientSpec[]) => dhcp.map((c) => `${c.dev}/${c.family}`).sort();

/**
 * A kernel state in an order of its own, whole entries with their nested fields (a bridge's STP, a bond's
 * options): a rollback restores what there was, not the order it was made in. A bond's options count as the
 * agent compares them (sameBondConfiguration): those that differ from the kernel's defaults, since a bond
 * made with `miimon=100` and one made without it are the same bond.
 */
const comparable = (kernel: KernelState) => {
  const sorted = <T>(items: readonly T[]) =>
    items
      .map((i) =>
        JSON.stringify(i, (_k, v: unknown) =>
          v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort()) : v,
        ),
      )
      .sort();
  const links = kernel.links.map((l) => (l.bond ? { ...l, bond: { ...l.bond, options: nonDefaultBondOptions(l.bond.options) } } : l));
  return { links: sorted(links), addresses: sorted(kernel.addresses), routes: sorted(kernel.routes), rules: sorted(kernel.rules) };
};

/**
 * Each device's lease, the same whenever it comes: a subnet of its own, so rules and routes never collide.
 * A device whose segment has no router (`routerless`) gets no gateway.
 */
class Leases {
  private readonly subnets = new Map<string, number>();

  constructor(private readonly routerless: ReadonlySet<string> = new Set()) {}

  of(dev: string): { cidr: string; gateway: string | undefined } {
    let n = this.subnets.get(dev);
    if (n === undefined) this.subnets.set(dev, (n = 40 + this.subnets.size));
    return { cidr: `198.18.${n}.50/24`, gateway: this.routerless.has(dev) ? undefined : `198.18.${n}.1` };
  }

  /** Each device's DHCPv6 lease: an address only (routes come from router advertisements). */
  of6(dev: string): string {
    this.of(dev);
    return `2001:db8:${(this.subnets.get(dev) ?? 0).toString(16)}::50`;
  }

  /** `step` once every client of `clients` that has no lease yet got its own. */
  deliver(step: HostStep, clients: readonly DhcpClientSpec[]): HostStep {
    let leased = step;
    for (const client of clients) {
      if (leased.kernel.addresses.some((a) => a.dev === client.dev && a.family === client.family && a.dynamic)) continue;
      if (client.family === 6) {
        const kernel = structuredClone(leased.kernel);
        kernel.addresses.push({ dev: client.dev, family: 6, address: this.of6(client.dev), prefixLen: 128, dynamic: true });
        leased = { ...leased, kernel };
        continue;
      }
      const { cidr, gateway } = this.of(client.dev);
      leased = withLease(leased, client.dev, cidr, gateway);
    }
    return leased;
  }
}

/** What `client`'s lease installed in `kernel`: its address, learned routes and its subnet's rules. */
function leaseOf(kernel: KernelState, client: DhcpClientSpec) {
  const leased = kernel.addresses.filter((a) => a.dev === client.dev && a.family === client.family && a.dynamic);
  const subnets = new Set(leased.map((a) => subnetOf(a.address, a.prefixLen)));
  return comparable({
    links: [],
    addresses: leased,
    routes: kernel.routes.filter((r) => r.dev === client.dev && r.family === client.family && r.protocol === 'dhcp'),
    rules: kernel.rules.filter((r) => r.table === client.table && subnets.has(r.from ?? r.to ?? '')),
  });
}

/** Each MAC, and the device stacks (a device with its masters, ports, slaves, VLANs) that have it. */
function macsByStack(kernel: KernelState): Map<string, string[]> {
  const links = kernel.links.filter((l) => l.kind !== 'loopback');
  const root = new Map(links.map((l) => [l.name, l.name]));
  const find = (name: string): string => {
    let at = name;
    while (root.get(at) !== at) at = root.get(at) ?? at;
    return at;
  };
  const join = (a: string, b: string | undefined | null) => {
    if (b && root.has(b)) root.set(find(a), find(b));
  };
  for (const l of links) {
    join(l.name, l.master);
    join(l.name, l.vlan?.base);
  }
  const stacks = new Map<string, Map<string, string[]>>();
  for (const l of links) {
    const byStack = stacks.get(l.mac) ?? new Map<string, string[]>();
    byStack.set(find(l.name), [...(byStack.get(find(l.name)) ?? []), l.name]);
    stacks.set(l.mac, byStack);
  }
  return new Map([...stacks].map(([mac, byStack]) => [mac, [...byStack.values()].map((names) => names.join(','))]));
}

/**
 * The plan's ops in an order the agent may run them: each `ip -batch` step as the batches it runs at once
 * on two CPUs, their lines interleaved as `draw` picks (the kernel takes one netlink request at a time).
 */
function runConcurrently(plan: Plan, draw: (n: number) => number): { ops: PlanOp[]; split: boolean } {
  let split = false;
  const ops = applyStepsFromPlan(plan).flatMap((step) => {
    if (step.kind !== 'ip-batch') return [plan.ops[step.opIndex] as PlanOp];
    const queues = concurrentBatchesOf(step, plan, 2).map((batch) => [...batch.opIndices]);
    if (queues.length > 1) split = true;
    const order: number[] = [];
    for (let open = queues; open.length; open = open.filter((q) => q.length)) order.push(open[draw(open.length)]?.shift() as number);
    return order.map((i) => plan.ops[i] as PlanOp);
  });
  return { ops, split };
}

/** Plans the property saw split into batches that run at once (it must see some). */
let plansRunConcurrently = 0;
/** Sequences the property ran (one, when a failure is replayed by its path). */
let sequencesRun = 0;

/** `plan`, applied as the agent's two `ip` processes may interleave it, leaves the kernel as in its order. */
function expectSameRunConcurrently(inputs: PlanInputs, applied: { plan: Plan; kernel: KernelState }, draw: (n: number) => number): void {
  const { ops, split } = runConcurrently(applied.plan, draw);
  if (!split) return;
  plansRunConcurrently += 1;
  expect(comparable(simulatePlan(inputs.current, ops, inputs.runningDhcp)), 'the plan run as concurrent batches').toEqual(
    comparable(applied.kernel),
  );
}

/** A small deterministic draw (the property's seed decides every interleaving). */
function drawFrom(seed: number): (n: number) => number {
  let state = seed >>> 0 || 1;
  return (n) => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return (state >>> 16) % n;
  };
}

/** Clients the plan stops or starts (a restart is both). */
const touchedClients = (plan: Plan) =>
  new Set(plan.ops.flatMap((op) => (op.kind === 'dhcp-start' || op.kind === 'dhcp-stop' ? [`${op.dev}/${op.family}`] : [])));

/** What the agent plans for `req` on `step`, or `null` when it refuses the request (validation). */
function planned(step: HostStep, req: SetupRequest): ReturnType<typeof changeInputs> | null {
  try {
    return changeInputs(step, req);
  } catch (err) {
    if (err instanceof VdsmError) return null;
    throw err;
  }
}

describe('planning sequences of changes', () => {
  it(`leaves every device in exactly the master its config gives it, reaches the desired state, and rolls back (${REPLAY_HINT})`, () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.subarray(NICS),
        fc.array(fc.tuple(request, leasesArrive, fc.boolean()), { minLength: 1, maxLength: 6 }),
        fc.integer(),
        (controlsIpv6, osDhcp, changes, seed) => {
          sequencesRun += 1;
          const draw = drawFrom(seed);
          const leases = new Leases(new Set(osDhcp));
          let step = host(controlsIpv6, osDhcp, leases);
          /** The safe config and the host as it was when it was made safe. */
          let committed = { config: step.running, host: step };
          for (const [req, leasesCome, commit] of changes) {
            const inputs = planned(step, req);
            if (!inputs) continue;
            const applied = applyInputs(inputs);
            expectSameRunConcurrently(inputs, applied, draw);
            // The OS's clients on the devices the change configures were stopped; the others run on.
            const takenOver = devicesTakenOver(inputs.desired);
            const osClients = (step.foreignDhcp ?? []).filter((c) => !takenOver.has(c.dev));
            const next: HostStep = {
              kernel: applied.kernel,
              running: inputs.next,
              dhcp: applied.dhcp,
              foreignDhcp: osClients,
              ...(step.controlsIpv6 ? { controlsIpv6: true } : {}),
            };
            const expected = mastersOf(next.running);
            for (const link of next.kernel.links)
              expect(link.master, `master of ${link.name}`).toBe(ownEntry(Object.fromEntries(expected), link.name) ?? null);
            // A bridge answers with its port's MAC, never with another device's (a bond's, which a NIC it let go had).
            const macs = new Map(next.kernel.links.map((l) => [l.name, l.mac]));
            for (const [port, bridge] of expected)
              if (next.running.networks[bridge]?.bridged) expect(macs.get(bridge), `MAC of ${bridge}`).toBe(macs.get(port));

            // Nor does a bond keep the MAC of a NIC that left it, which has it again.
            for (const bond of next.kernel.links.filter((l) => l.kind === 'bond'))
              for (const other of next.kernel.links.filter((l) => l.kind === 'nic' && l.master !== bond.name))
                expect(other.permMac ?? other.mac, `MAC of ${bond.name} and of ${other.name}`).not.toBe(bond.mac);

            // Devices share a MAC only along one stack (a bridge and its port, a bond and its slaves, a VLAN and
            // its base): two stacks with one MAC are two devices on the segment that answer with it.
            for (const [mac, stacks] of macsByStack(next.kernel))
              expect(stacks.length, `stacks with MAC ${mac}: ${stacks.join(' | ')}`).toBe(1);

            // A DHCP client runs exactly on the device of each DHCP network.
            const clients = clientsOf(next.dhcp);
            const wanted = Object.entries(next.running.networks)
              .flatMap(([name, net]) => [
                ...(net.bootproto === 'dhcp' ? [`${topDeviceOf(name, net) ?? ''}/4`] : []),
                ...(net.dhcpv6 ? [`${topDeviceOf(name, net) ?? ''}/6`] : []),
              ])
              .sort();
            expect(clients).toEqual(wanted);

            // What a lease installed lives only as long as its client (ours, or the OS's).
            const running = new Set([...clients, ...clientsOf(osClients)]);
            for (const a of next.kernel.addresses.filter((a) => a.dynamic))
              expect(running.has(`${a.dev}/${a.family}`), `leased ${a.address} on ${a.dev} without its client`).toBe(true);
            for (const r of next.kernel.routes.filter((r) => r.protocol === 'dhcp'))
              expect(running.has(`${r.dev ?? ''}/${r.family}`), `learned route ${r.dst} on ${r.dev} without its client`).toBe(true);
            // A client the change neither stopped nor restarted keeps its lease: address, routes and rules.
            const touched = touchedClients(applied.plan);
            for (const client of [...step.dhcp.filter((c) => !touched.has(`${c.dev}/${c.family}`)), ...osClients])
              expect(leaseOf(next.kernel, client), `lease of ${client.dev}`).toEqual(leaseOf(step.kernel, client));
            expect(verifyState(next.kernel, inputs.desired)).toEqual([]);
            expect(planChanges(next.kernel, inputs.desired, next.dhcp).ops).toEqual([]);

            // Undone, at once or after the clients it started got their leases while it waited for its
            // confirmation, the host is as it was once the clients the rollback restarted have their leases again.
            const startedLeasing = (applied: HostStep) =>
              leases.deliver(
                applied,
                applied.dhcp.filter((c) => touched.has(`${c.dev}/${c.family}`)),
              );
            for (const meanwhile of [undefined, startedLeasing]) {
              const rollback = rollbackInputs(step, req, meanwhile);
              const rolledBack = applyInputs(rollback);
              expectSameRunConcurrently(rollback, rolledBack, draw);
              const restarted = touchedClients(rolledBack.plan);
              const released = leases.deliver(
                { ...step, kernel: rolledBack.kernel, dhcp: rolledBack.dhcp },
                rolledBack.dhcp.filter(
                  (c) =>
                    restarted.has(`${c.dev}/${c.family}`) &&
                    step.kernel.addresses.some((a) => a.dev === c.dev && a.family === c.family && a.dynamic),
                ),
              );
              expect(comparable(released.kernel)).toEqual(comparable(step.kernel));
              // Ours ran where they ran, and one of ours where the change stopped the OS's.
              expect(clientsOf(rolledBack.dhcp)).toEqual(
                clientsOf([...step.dhcp, ...(step.foreignDhcp ?? []).filter((c) => takenOver.has(c.dev))]),
              );
            }

            if (leasesCome) {
              const leased = leases.deliver(next, next.dhcp);
              // The agent's next plan of the same change leaves the leases alone.
              expect(planChanges(leased.kernel, inputs.desired, leased.dhcp).ops).toEqual([]);
              step = leased;
            } else step = next;
            if (commit) committed = { config: step.running, host: step };
          }

          // A reboot: the host as it booted (the OS's DHCP clients with their leases, none of ours), and the
          // agent restores the safe config. Once our clients have their leases, what the config owns is as it
          // was when it was made safe, but for MACs (a bond made anew takes its first slave's) and what the
          // config does not decide: MTUs no network sets (a device keeps the MTU of a network removed from it
          // until the boot, as VDSM's does), the IPv6 of bond slaves and VLAN bases
          // (docs/setup-networks.md#ipv6-per-device), and whether a link no network uses is up (a NIC a removed
          // bond let go is down until the boot, which brings it up as the OS says).
          const booted = host(controlsIpv6, osDhcp, leases);
          const restore = restoreInputs(booted, step.running, committed.config);
          const restored = applyInputs(restore);
          expectSameRunConcurrently(restore, restored, draw);
          const takenOver = devicesTakenOver(restore.desired);
          const after = leases.deliver({ ...booted, kernel: restored.kernel, dhcp: restored.dhcp }, restored.dhcp);
          const before = leases.deliver(committed.host, committed.host.dhcp);
          expect(clientsOf(restored.dhcp)).toEqual(clientsOf(before.dhcp));
          const osLease = (a: AddressState) => a.dynamic && osDhcp.includes(a.dev) && !takenOver.has(a.dev);
          const wanted = new Map(restore.desired.links.map((l) => [l.name, l]));
          const restoredPart = (kernel: KernelState) =>
            comparable({
              links: kernel.links
                .filter((l) => wanted.has(l.name))
                .map(({ mac: _mac, permMac: _permMac, ipv6, ipv6Autoconf, ipv6DefaultRouter, ...l }) => ({
                  ...l,
                  mac: '',
                  mtu: wanted.get(l.name)?.mtu === undefined ? 0 : l.mtu,
                  up: wanted.get(l.name)?.up === undefined ? false : l.up,
                  ...(wanted.get(l.name)?.ipv6 === undefined ? {} : { ipv6, ipv6Autoconf, ipv6DefaultRouter }),
                })),
              addresses: kernel.addresses.filter((a) => !osLease(a)),
              routes: kernel.routes,
              rules: kernel.rules,
            });
          expect(restoredPart(after.kernel)).toEqual(restoredPart(before.kernel));
        },
      ),
      propertyParameters(2000),
    );
    // About one split plan per two sequences (2000 runs split some 1100): checked on full runs, not on the
    // few cases a replay of a failure's path runs.
    if (sequencesRun >= 100) expect(plansRunConcurrently, 'plans split into batches that run at once').toBeGreaterThan(sequencesRun / 20);
  });
});
