/**
 * A unit-test double of the kernel: applies PlanOps to a KernelState with the side effects that matter to the
 * planner. It sits beside the real-kernel tests (test/agent/...), never instead of them; it exists because
 * this machine's kernel cannot create bonds or VLANs. What it models (the facts in
 * agent/backend/iproute2/batch.ts):
 * - a deleted link takes its addresses, routes, VLANs and ports' membership along;
 * - a VLAN comes up only on a base that is up, and goes down with it;
 * - deleting a device's last IPv4 address, or taking the device down, flushes its IPv4 routes;
 * - a route needs its device up, and a gateway on-link;
 * - a port joins a bond only while down, and takes the bond's MTU and MAC (its own kept as `permMac`); a
 *   bond's MTU and MAC are its ports'; a port the bond lets go (released, or its bond deleted) is down and
 *   has its own MAC again;
 * - a bond created without a MAC takes its first port's; a VLAN created without one takes its base's (and
 *   follows it);
 * - a VLAN's MTU may not exceed its base's, and lowering the base lowers the VLAN;
 * - enslaving a port resets a bridge's MTU to its smallest port's;
 * - stopping a DHCP client removes what its lease installed (our dhclient script's STOP): the leased
 *   addresses, the learned IPv4 routes (`proto dhcp`) and the source-routing rules of the leased subnet,
 *   with the IPv4 flush that losing the last address brings. Starting one changes nothing until a lease
 *   arrives (test/helpers/plan-steps.ts withLease), unless one of ours runs there already: the manager
 *   stops that one first;
 * - a link made here has the kernel's IPv6 defaults (on, taking advertisements) where the state says how
 *   IPv6 is set on links at all (read by an agent in the host's namespace).
 */
import { subnetOf } from '../../model/ip';
import { MAIN_TABLE, type KernelState, type LinkState, type PlanOp } from '../../model/net-state';
import { SOURCE_ROUTE_RULE_PRIORITY } from '../../model/network/desired-state';
import { sameAddress, sameRoute, sameRule } from '../../model/network/plan';

export class SimulatedKernelError extends Error {
  override readonly name = 'SimulatedKernelError';
}

/**
 * `state` after `ops`. `ourClients`: the devices and families where our DHCP clients run before the plan (a
 * start restarts one of them, see `dhcp-start`).
 */
export function simulatePlan(
  state: KernelState,
  ops: readonly PlanOp[],
  ourClients: ReadonlyArray<{ dev: string; family: 4 | 6 }> = [],
): KernelState {
  const s: KernelState = structuredClone(state);
  const running = new Set(ourClients.map((c) => `${c.dev}/${c.family}`));
  /** Whether the state says how IPv6 is set on links: read where the agent runs in the host's namespace. */
  const readsIpv6 = state.links.some((l) => l.ipv6 !== undefined);
  /** Bonds created here without a MAC: the kernel gives them their first port's. */
  const macFromFirstPort = new Set<string>();
  const link = (name: string, what = 'link'): LinkState => {
    const found = s.links.find((l) => l.name === name);
    if (!found) throw new SimulatedKernelError(`${what} ${name} missing`);
    return found;
  };
  const flushIpv4Routes = (dev: string): void => {
    s.routes = s.routes.filter((r) => r.dev !== dev || r.family !== 4);
  };
  /** What stopping our client removes (our dhclient script's STOP): the leased addresses, learned routes and lease rules. */
  const stopClient = (dev: string, family: 4 | 6): void => {
    const leased = s.addresses.filter((a) => a.dev === dev && a.family === family && a.dynamic);
    const subnets = new Set(leased.map((a) => subnetOf(a.address, a.prefixLen)));
    s.addresses = s.addresses.filter((a) => !leased.includes(a));
    if (family !== 4) return;
    s.routes = s.routes.filter((r) => !(r.dev === dev && r.family === 4 && r.protocol === 'dhcp'));
    s.rules = s.rules.filter((r) => !(r.family === 4 && r.priority === SOURCE_ROUTE_RULE_PRIORITY && subnets.has(r.from ?? r.to ?? '')));
    if (leased.length && !s.addresses.some((a) => a.dev === dev && a.family === 4)) flushIpv4Routes(dev);
  };
  for (const op of ops) {
    switch (op.kind) {
      case 'link-add':
        if (s.links.some((l) => l.name === op.name)) throw new SimulatedKernelError(`link ${op.name} exists`);
        if (op.type === 'vlan') {
          const base = link(op.vlanBase ?? '', 'vlan base');
          if (op.mtu !== undefined && op.mtu > base.mtu)
            throw new SimulatedKernelError(`vlan ${op.name} mtu ${op.mtu} exceeds its base's ${base.mtu}`);
        }
        if (op.type === 'bond' && op.mac === undefined) macFromFirstPort.add(op.name);
        s.links.push({
          name: op.name,
          kind: op.type,
          mtu: op.mtu ?? (op.type === 'vlan' ? link(op.vlanBase ?? '').mtu : 1500),
          up: false,
          mac: op.mac ?? (op.type === 'vlan' ? link(op.vlanBase ?? '').mac : '02:00:00:00:00:99'),
          master: null,
          // Of a bridge's options it knows only those set (the real kernel's defaults: test/agent/backend/bridge-options.test.ts).
          ...(op.type === 'bridge'
            ? { bridge: { stp: op.stp ?? false, ...(op.bridgeOptions ? { options: { ...op.bridgeOptions } } : {}) } }
            : {}),
          ...(op.type === 'bond' ? { bond: { mode: op.bondMode ?? 'balance-rr', options: op.bondOptions ?? {} } } : {}),
          ...(op.type === 'vlan' ? { vlan: { base: op.vlanBase ?? '', id: op.vlanId ?? 0 } } : {}),
          // The kernel's defaults, as an agent that reads IPv6 (its own namespace) reads them on the next read.
          ...(readsIpv6 ? { ipv6: true, ipv6Autoconf: true, ipv6DefaultRouter: true } : {}),
        });
        break;
      case 'link-del': {
        link(op.name);
        const dying = new Set([op.name]);
        for (let grew = true; grew;) {
          grew = false;
          for (const l of s.links) {
            if (l.vlan && dying.has(l.vlan.base) && !dying.has(l.name)) {
              dying.add(l.name);
              grew = true;
            }
          }
        }
        const bonds = new Set(s.links.filter((l) => dying.has(l.name) && l.kind === 'bond').map((l) => l.name));
        s.links = s.links
          .filter((l) => !dying.has(l.name))
          .map((l) => (l.master && dying.has(l.master) ? (bonds.has(l.master) ? letGo(l) : { ...l, master: null }) : l));
        s.addresses = s.addresses.filter((a) => !dying.has(a.dev));
        s.routes = s.routes.filter((r) => !r.dev || !dying.has(r.dev));
        break;
      }
      case 'link-set': {
        const target = link(op.name);
        if (op.mtu !== undefined) setMtu(s, target, op.mtu);
        if (op.mac !== undefined) setMac(s, target, op.mac);
        if (op.master !== undefined) {
          // A new master takes the port from the old one first (rtnetlink's do_set_master), as a release would.
          if (target.master !== null && target.master !== op.master && link(target.master, 'master').kind === 'bond') {
            const free = letGo(target);
            delete target.permMac;
            Object.assign(target, free);
          }
          if (op.master === null) target.master = null;
          else enslave(s, target, link(op.master, 'master'), macFromFirstPort);
        }
        if (op.stp !== undefined && target.bridge) target.bridge.stp = op.stp;
        if (op.bridgeOptions !== undefined) {
          if (!target.bridge) throw new SimulatedKernelError(`${op.name} is not a bridge: it has no bridge options`);
          target.bridge.options = { ...target.bridge.options, ...op.bridgeOptions };
        }
        break;
      }
      case 'link-up': {
        const target = link(op.name);
        const base = target.vlan ? link(target.vlan.base, 'vlan base') : undefined;
        if (base && !base.up) throw new SimulatedKernelError(`vlan ${op.name} cannot come up: its base ${base.name} is down`);
        target.up = true;
        break;
      }
      case 'link-down':
        for (const l of [link(op.name), ...s.links.filter((v) => v.vlan?.base === op.name)]) {
          l.up = false;
          flushIpv4Routes(l.name);
        }
        break;
      case 'addr-add':
        link(op.address.dev, 'dev');
        if (s.addresses.some((a) => sameAddress(a, op.address))) throw new SimulatedKernelError('address exists');
        s.addresses.push({ ...op.address });
        break;
      case 'addr-del':
        if (!s.addresses.some((a) => sameAddress(a, op.address))) throw new SimulatedKernelError('address missing');
        s.addresses = s.addresses.filter((a) => !sameAddress(a, op.address));
        if (op.address.family === 4 && !s.addresses.some((a) => a.dev === op.address.dev && a.family === 4))
          flushIpv4Routes(op.address.dev);
        break;
      case 'route-add':
        if (op.route.dev && !link(op.route.dev, 'route dev').up) throw new SimulatedKernelError(`route dev ${op.route.dev} is down`);
        if (op.route.gateway && !s.addresses.some((a) => a.dev === op.route.dev && a.family === op.route.family)) {
          throw new SimulatedKernelError(`gateway ${op.route.gateway} not on-link on ${op.route.dev}`);
        }
        if (s.routes.some((r) => sameRoute(r, op.route))) throw new SimulatedKernelError('route exists');
        s.routes.push({ ...op.route });
        break;
      case 'route-del':
        if (!s.routes.some((r) => sameRoute(r, op.route))) throw new SimulatedKernelError('route missing');
        s.routes = s.routes.filter((r) => !sameRoute(r, op.route));
        break;
      case 'rule-add':
        if (s.rules.some((r) => sameRule(r, op.rule))) throw new SimulatedKernelError('rule exists');
        s.rules.push({ ...op.rule });
        break;
      case 'rule-del':
        if (!s.rules.some((r) => sameRule(r, op.rule))) throw new SimulatedKernelError('rule missing');
        s.rules = s.rules.filter((r) => !sameRule(r, op.rule));
        break;
      case 'link-ipv6': {
        const target = link(op.name);
        target.ipv6 = op.enabled;
        if (op.autoconf !== undefined) target.ipv6Autoconf = op.autoconf;
        if (op.defaultRouter !== undefined) target.ipv6DefaultRouter = op.defaultRouter;
        if (!target.ipv6Autoconf) delete target.ipv6DefaultRouter;
        if (!op.enabled) {
          // As the agent reads it: whether a link takes advertisements is read only while IPv6 is on.
          delete target.ipv6Autoconf;
          delete target.ipv6DefaultRouter;
          // The kernel drops every IPv6 address and route of a link it turns IPv6 off on.
          s.addresses = s.addresses.filter((a) => a.dev !== op.name || a.family !== 6);
          s.routes = s.routes.filter((r) => r.dev !== op.name || r.family !== 6);
        }
        break;
      }
      case 'dhcp-start':
        // Our manager restarts a client already running there (its device re-created, say): the old one's
        // stop removes what its lease installed, found by its lease file, so even the lease subnet's rules
        // when the device (and with it the address that names the subnet here) is gone.
        if (running.has(`${op.dev}/${op.family}`)) {
          if (op.family === 4 && op.sourceRouting && op.table !== MAIN_TABLE)
            s.rules = s.rules.filter((r) => !(r.family === 4 && r.table === op.table && r.priority === SOURCE_ROUTE_RULE_PRIORITY));
          stopClient(op.dev, op.family);
        }
        running.add(`${op.dev}/${op.family}`);
        break;
      case 'dhcp-stop':
        stopClient(op.dev, op.family);
        running.delete(`${op.dev}/${op.family}`);
        break;
    }
  }
  return s;
}

function setMtu(s: KernelState, target: LinkState, mtu: number): void {
  if (target.vlan) {
    const base = s.links.find((l) => l.name === target.vlan?.base);
    if (base && mtu > base.mtu) throw new SimulatedKernelError(`vlan ${target.name} mtu ${mtu} exceeds its base's ${base.mtu}`);
  }
  target.mtu = mtu;
  for (const l of s.links) {
    if (l.vlan?.base === target.name && l.mtu > mtu) setMtu(s, l, mtu);
    if (target.kind === 'bond' && l.master === target.name) l.mtu = mtu;
  }
}

function setMac(s: KernelState, target: LinkState, mac: string): void {
  for (const l of s.links) {
    if (l.vlan?.base === target.name && l.mac === target.mac) setMac(s, l, mac);
    if (target.kind === 'bond' && l.master === target.name) l.mac = mac;
  }
  target.mac = mac;
}

/** A slave its bond lets go: down, without a master, with its own MAC again. */
function letGo(slave: LinkState): LinkState {
  const { permMac, ...rest } = slave;
  return { ...rest, master: null, up: false, mac: permMac ?? slave.mac };
}

function enslave(s: KernelState, port: LinkState, master: LinkState, macFromFirstPort: Set<string>): void {
  if (master.kind === 'bond') {
    if (port.up) throw new SimulatedKernelError(`bond slave ${port.name} must be down`);
    if (macFromFirstPort.delete(master.name)) setMac(s, master, port.mac);
    port.master = master.name;
    port.mtu = master.mtu;
    port.permMac ??= port.mac;
    port.mac = master.mac;
  } else {
    port.master = master.name;
    master.mtu = Math.min(...s.links.filter((l) => l.master === master.name).map((l) => l.mtu));
  }
}
