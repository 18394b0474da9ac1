/**
 * The one place that diffs a desired state against the current kernel state (nmstate's habit). Its output,
 * an ordered {@link Plan}, is the only thing a backend receives. The same function plans a change, its
 * rollback (desired = the snapshot) and the boot-time restore.
 *
 * Order matters to the kernel, so ops come in phases:
 *   stop DHCP → delete rules → delete routes → delete addresses → release ports → delete links →
 *   per level (NICs, bonds, VLANs, bridges): create / adjust links, enslave their ports, bring them up →
 *   add addresses → add routes (their gateways are on-link only now) → add rules → start DHCP.
 */
import { canonicalIP } from '../ip';
import type { AddressState, KernelState, LinkState, Plan, PlanOp, RouteState, RuleState } from '../net-state';
import { linkLevel, type DesiredLink, type DesiredState, type DhcpClientSpec } from './desired-state';

export function sameAddress(a: AddressState, b: AddressState): boolean {
  return a.dev === b.dev && a.family === b.family && a.prefixLen === b.prefixLen && canonicalIP(a.address) === canonicalIP(b.address);
}

/** Routes are the same when they send the same destination the same way; metrics and protocols don't count. */
export function sameRoute(a: RouteState, b: RouteState): boolean {
  return (
    a.family === b.family &&
    a.table === b.table &&
    a.dst === b.dst &&
    canonicalIP(a.gateway ?? '') === canonicalIP(b.gateway ?? '') &&
    (a.dev ?? '') === (b.dev ?? '')
  );
}

export function sameRule(a: RuleState, b: RuleState): boolean {
  return a.family === b.family && a.priority === b.priority && a.table === b.table && (a.from ?? '') === (b.from ?? '') && (a.to ?? '') === (b.to ?? '');
}

export function sameDhcp(a: DhcpClientSpec, b: DhcpClientSpec): boolean {
  return a.dev === b.dev && a.family === b.family && a.table === b.table && a.defaultRoute === b.defaultRoute && a.sourceRouting === b.sourceRouting;
}

/** Routes a running DHCP client installed itself; the planner leaves them to it. */
function learnedByDhcp(route: RouteState, keptClients: DhcpClientSpec[]): boolean {
  return route.protocol === 'dhcp' && keptClients.some((c) => c.dev === route.dev && c.family === route.family);
}

export function planChanges(current: KernelState, desired: DesiredState, runningDhcp: DhcpClientSpec[]): Plan {
  const ops: PlanOp[] = [];
  const currentLink = new Map(current.links.map((l) => [l.name, l]));
  const absent = new Set(desired.absentLinks.filter((n) => currentLink.has(n)));

  // 1. DHCP clients that must stop (also before their device disappears).
  const dhcpOwners = new Set(desired.dhcpOwners);
  const keptClients: DhcpClientSpec[] = [];
  for (const client of runningDhcp) {
    const wanted = desired.dhcp.some((d) => sameDhcp(d, client));
    if (wanted) keptClients.push(client);
    else if (dhcpOwners.has(client.dev) || absent.has(client.dev)) ops.push({ kind: 'dhcp-stop', dev: client.dev, family: client.family });
    else keptClients.push(client);
  }
  const dhcpTables = new Set(keptClients.filter((c) => c.sourceRouting).map((c) => c.table));

  // 2. Rules of owned tables that are not wanted (a kept DHCP client owns its table's rules).
  const ruleTables = new Set(desired.ruleTables);
  for (const rule of current.rules) {
    if (ruleTables.has(rule.table) && !dhcpTables.has(rule.table) && !desired.rules.some((r) => sameRule(r, rule))) ops.push({ kind: 'rule-del', rule });
  }
  // 3. Routes on owned devices that are not wanted (devices about to be deleted take theirs along).
  const routeOwners = new Set(desired.routeOwners);
  for (const route of current.routes) {
    if (!route.dev || !routeOwners.has(route.dev) || absent.has(route.dev)) continue;
    if (learnedByDhcp(route, keptClients)) continue;
    if (!desired.routes.some((r) => sameRoute(r, route))) ops.push({ kind: 'route-del', route });
  }
  // 4. Addresses on owned devices that are not wanted (a kept DHCP client owns its dynamic addresses).
  const addressOwners = new Set(desired.addressOwners);
  for (const address of current.addresses) {
    if (!addressOwners.has(address.dev) || absent.has(address.dev)) continue;
    if (address.dynamic && keptClients.some((c) => c.dev === address.dev && c.family === address.family)) continue;
    if (!desired.addresses.some((a) => sameAddress(a, address))) ops.push({ kind: 'addr-del', address });
  }
  // 5. Ports that must leave their master, then links that must go (dependents first: bridges, VLANs, bonds).
  for (const want of desired.links) {
    const have = currentLink.get(want.name);
    if (have && want.master === null && have.master && !absent.has(have.master)) ops.push({ kind: 'link-set', name: want.name, master: null });
  }
  const recreate = desired.links.filter((l) => l.create && currentLink.has(l.name) && currentLink.get(l.name)?.kind !== l.create).map((l) => l.name);
  const deletions = [...absent, ...recreate.filter((n) => !absent.has(n))];
  const levelOfCurrent = (name: string): number => ({ bridge: 3, vlan: 2, bond: 1 })[currentLink.get(name)?.kind as string] ?? 0;
  deletions.sort((a, b) => levelOfCurrent(b) - levelOfCurrent(a) || a.localeCompare(b));
  for (const name of deletions) ops.push({ kind: 'link-del', name });
  const gone = new Set(deletions);

  // 6. Links, level by level.
  const exists = (name: string): LinkState | undefined => (gone.has(name) ? undefined : currentLink.get(name));
  const byName = new Map(desired.links.map((l) => [l.name, l]));
  for (const level of [0, 1, 2, 3]) {
    const here = desired.links.filter((l) => linkLevel(l) === level);
    for (const want of here) {
      const have = exists(want.name);
      if (!have && want.create) ops.push(linkAdd(want));
      else if (have) {
        const change = attributeChanges(want, have);
        if (change) ops.push(change);
      }
    }
    // Enslave ports to masters of this level; a bond takes its slaves only while they are down.
    const enslaved: string[] = [];
    for (const port of desired.links) {
      if (!port.master || linkLevel(byName.get(port.master) ?? { name: '', create: 'bridge' }) !== level) continue;
      if (exists(port.name)?.master === port.master) continue;
      if (byName.get(port.master)?.create === 'bond' && exists(port.name)?.up) ops.push({ kind: 'link-set', name: port.name, up: false });
      ops.push({ kind: 'link-set', name: port.name, master: port.master });
      enslaved.push(port.name);
    }
    // A bridge's MTU follows its ports; assert the wanted one once they are in.
    for (const want of here) {
      if (want.create === 'bridge' && want.mtu !== undefined && desired.links.some((p) => p.master === want.name && enslaved.includes(p.name))) {
        ops.push({ kind: 'link-set', name: want.name, mtu: want.mtu });
      }
    }
    for (const want of [...desired.links.filter((l) => enslaved.includes(l.name)), ...here]) {
      const have = exists(want.name);
      const downed = ops.some((o) => o.kind === 'link-set' && o.name === want.name && o.up === false);
      if (want.up === true && (!have || !have.up || downed)) ops.push({ kind: 'link-set', name: want.name, up: true });
    }
  }

  // 7. Addresses, routes, rules, DHCP.
  for (const address of desired.addresses) {
    if (!current.addresses.some((a) => sameAddress(a, address)) || gone.has(address.dev) || !currentLink.has(address.dev)) ops.push({ kind: 'addr-add', address });
  }
  for (const route of desired.routes) {
    const stale = route.dev !== undefined && (gone.has(route.dev) || !currentLink.has(route.dev));
    const deleted = ops.some((o) => o.kind === 'route-del' && sameRoute(o.route, route));
    if (stale || deleted || !current.routes.some((r) => sameRoute(r, route))) ops.push({ kind: 'route-add', route });
  }
  for (const rule of desired.rules) {
    const deleted = ops.some((o) => o.kind === 'rule-del' && sameRule(o.rule, rule));
    if (deleted || !current.rules.some((r) => sameRule(r, rule))) ops.push({ kind: 'rule-add', rule });
  }
  for (const client of desired.dhcp) {
    if (!keptClients.some((c) => sameDhcp(c, client)) || gone.has(client.dev)) {
      ops.push({ kind: 'dhcp-start', dev: client.dev, family: client.family, table: client.table, defaultRoute: client.defaultRoute, sourceRouting: client.sourceRouting });
    }
  }
  return { ops: dropRedundantUps(ops) };
}

/** Keeps only the last `up` per link that comes after its last master/down change. */
function dropRedundantUps(ops: PlanOp[]): PlanOp[] {
  return ops.filter((op, i) => {
    if (op.kind !== 'link-set' || op.up !== true || Object.keys(op).length !== 3) return true;
    return !ops.slice(i + 1).some((later) => later.kind === 'link-set' && later.name === op.name && later.up === true);
  });
}

function linkAdd(want: DesiredLink): PlanOp {
  const op: PlanOp = { kind: 'link-add', name: want.name, type: want.create ?? 'bridge' };
  if (want.mac !== undefined) op.mac = want.mac;
  if (want.mtu !== undefined && want.create !== 'bridge') op.mtu = want.mtu;
  if (want.create === 'bridge') {
    op.stp = want.stp ?? false;
    if (want.mtu !== undefined) op.mtu = want.mtu;
  }
  if (want.create === 'bond') {
    op.bondMode = want.bondMode ?? 'balance-rr';
    op.bondOptions = want.bondOptions ?? {};
  }
  if (want.create === 'vlan') {
    op.vlanBase = want.vlanBase ?? '';
    op.vlanId = want.vlanId ?? 0;
  }
  return op;
}

function attributeChanges(want: DesiredLink, have: LinkState): PlanOp | null {
  const op: Extract<PlanOp, { kind: 'link-set' }> = { kind: 'link-set', name: want.name };
  let changed = false;
  if (want.mtu !== undefined && want.mtu !== have.mtu) {
    op.mtu = want.mtu;
    changed = true;
  }
  if (want.mac !== undefined && want.mac.toLowerCase() !== have.mac.toLowerCase()) {
    op.mac = want.mac;
    changed = true;
  }
  if (want.stp !== undefined && have.bridge && want.stp !== have.bridge.stp) {
    op.stp = want.stp;
    changed = true;
  }
  if (want.up === false && have.up) {
    op.up = false;
    changed = true;
  }
  return changed ? op : null;
}
