/**
 * A unit-test double of the kernel: applies PlanOps to a KernelState with the side effects that matter to the
 * planner (a deleted link takes its addresses, routes and ports along; a route needs its device). It sits
 * beside the real-kernel tests (test/agent/...), never instead of them.
 */
import type { KernelState, PlanOp } from '../../model/net-state';
import { sameAddress, sameRoute, sameRule } from '../../model/network/plan';

export class SimulatedKernelError extends Error {
  override readonly name = 'SimulatedKernelError';
}

export function simulatePlan(state: KernelState, ops: readonly PlanOp[]): KernelState {
  const s: KernelState = structuredClone(state);
  for (const op of ops) {
    switch (op.kind) {
      case 'link-add':
        if (s.links.some((l) => l.name === op.name)) throw new SimulatedKernelError(`link ${op.name} exists`);
        if (op.type === 'vlan' && !s.links.some((l) => l.name === op.vlanBase)) throw new SimulatedKernelError(`vlan base ${op.vlanBase} missing`);
        s.links.push({
          name: op.name,
          kind: op.type,
          mtu: op.mtu ?? 1500,
          up: false,
          mac: op.mac ?? '02:00:00:00:00:99',
          master: null,
          ...(op.type === 'bridge' ? { bridge: { stp: op.stp ?? false } } : {}),
          ...(op.type === 'bond' ? { bond: { mode: op.bondMode ?? 'balance-rr', options: op.bondOptions ?? {} } } : {}),
          ...(op.type === 'vlan' ? { vlan: { base: op.vlanBase ?? '', id: op.vlanId ?? 0 } } : {}),
        });
        break;
      case 'link-del': {
        if (!s.links.some((l) => l.name === op.name)) throw new SimulatedKernelError(`link ${op.name} missing`);
        const dying = new Set([op.name, ...s.links.filter((l) => l.vlan?.base === op.name).map((l) => l.name)]);
        s.links = s.links.filter((l) => !dying.has(l.name)).map((l) => (l.master && dying.has(l.master) ? { ...l, master: null } : l));
        s.addresses = s.addresses.filter((a) => !dying.has(a.dev));
        s.routes = s.routes.filter((r) => !r.dev || !dying.has(r.dev));
        break;
      }
      case 'link-set': {
        const link = s.links.find((l) => l.name === op.name);
        if (!link) throw new SimulatedKernelError(`link ${op.name} missing`);
        if (op.master !== undefined) {
          if (op.master !== null) {
            const master = s.links.find((l) => l.name === op.master);
            if (!master) throw new SimulatedKernelError(`master ${op.master} missing`);
            if (master.kind === 'bond' && link.up) throw new SimulatedKernelError(`bond slave ${op.name} must be down`);
          }
          link.master = op.master;
        }
        if (op.mtu !== undefined) link.mtu = op.mtu;
        if (op.mac !== undefined) link.mac = op.mac;
        if (op.stp !== undefined && link.bridge) link.bridge.stp = op.stp;
        if (op.up !== undefined) link.up = op.up;
        break;
      }
      case 'addr-add':
        if (!s.links.some((l) => l.name === op.address.dev)) throw new SimulatedKernelError(`dev ${op.address.dev} missing`);
        if (s.addresses.some((a) => sameAddress(a, op.address))) throw new SimulatedKernelError('address exists');
        s.addresses.push({ ...op.address });
        break;
      case 'addr-del':
        if (!s.addresses.some((a) => sameAddress(a, op.address))) throw new SimulatedKernelError('address missing');
        s.addresses = s.addresses.filter((a) => !sameAddress(a, op.address));
        break;
      case 'route-add':
        if (op.route.dev && !s.links.some((l) => l.name === op.route.dev)) throw new SimulatedKernelError(`route dev ${op.route.dev} missing`);
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
      case 'dhcp-start':
      case 'dhcp-stop':
        break;
    }
  }
  return s;
}
