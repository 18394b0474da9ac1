/**
 * Which ops of one `ip -batch` may run in another `ip` process at the same time: ops that touch nothing in
 * common. The kernel serializes the changes themselves (RTNL), but ip's parsing, the netlink round trips and
 * the kernel's waits of one process overlap the other's work, and a large change takes less time on two
 * cores (docs/performance.md#applying-independent-stacks-at-once).
 *
 * Two ops are tied, and keep the plan's order, when they name the same link, address or routing table
 * (rules and routes by their table, a route's preferred source as an address; a route without a device ties
 * every op), or links the kernel ties together, a port and its master or a VLAN and
 * its base, whether tied when the plan was made or by an op of the plan ({@link planTies}: deleting a bond
 * also takes its VLANs, which no op names). Everything else is independent, so any interleaving of the
 * groups leaves the kernel as the plan in its order does (test/model/plan-sequences.test.ts checks that on
 * the kernel simulator, for every plan it makes).
 */
import { PlanOpKind, type IpPlanOp, type KernelState, type PlanOp } from '../../net-state';

/**
 * Links the kernel ties together before or during the plan: each port with its master and each VLAN with
 * its base, in `state` and as `ops` make them. A step of the plan (apply.ts) is tied by what an earlier step
 * made: a VLAN comes up only once its base is up, both in a later batch than the one that made the VLAN.
 */
export function planTies(state: KernelState, ops: readonly PlanOp[]): Array<[string, string]> {
  const ties: Array<[string, string]> = [];
  for (const link of state.links) {
    if (link.master) ties.push([link.name, link.master]);
    if (link.vlan) ties.push([link.name, link.vlan.base]);
  }
  for (const op of ops) {
    if (op.kind === PlanOpKind.LINK_ADD && op.vlanBase !== undefined) ties.push([op.name, op.vlanBase]);
    if (op.kind === PlanOpKind.LINK_SET && typeof op.master === 'string') ties.push([op.name, op.master]);
  }
  return ties;
}

/**
 * What an op touches, as keys: ops sharing a key keep their order. The other link a VLAN or a port is made
 * with (its base, its master) is not here: {@link planTies} ties the two for the whole plan.
 */
function touched(op: IpPlanOp): string[] {
  switch (op.kind) {
    case PlanOpKind.LINK_ADD:
    case PlanOpKind.LINK_SET:
    case PlanOpKind.LINK_DEL:
    case PlanOpKind.LINK_UP:
    case PlanOpKind.LINK_DOWN:
      return [`link ${op.name}`];
    case PlanOpKind.ADDR_ADD:
    case PlanOpKind.ADDR_DEL:
      return [`link ${op.address.dev}`, `address ${op.address.family} ${op.address.address}`];
    case PlanOpKind.ROUTE_ADD:
    case PlanOpKind.ROUTE_DEL:
      // A preferred source must be an address of the host when the route is added.
      return [
        `table ${op.route.table}`,
        `link ${op.route.dev ?? ''}`,
        ...(op.route.src === undefined ? [] : [`address ${op.route.family} ${op.route.src}`]),
      ];
    case PlanOpKind.RULE_ADD:
    case PlanOpKind.RULE_DEL:
      // A rule is added and deleted with every selector it has, its table included (batch.ts): rules of two
      // tables never match each other.
      return [`table ${op.rule.table}`];
  }
}

/**
 * The ops split into groups no two of which touch anything in common, links tied by `ties` ({@link planTies})
 * counting as one (as indices into `ops`, each group in the ops' order, groups by their first op). One
 * group: nothing can run at once.
 */
export function independentOpGroups(ops: readonly IpPlanOp[], ties: ReadonlyArray<readonly [string, string]>): number[][] {
  // A route without a device goes through whichever link reaches its gateway: any op may decide that one.
  if (ops.some((op) => (op.kind === PlanOpKind.ROUTE_ADD || op.kind === PlanOpKind.ROUTE_DEL) && op.route.dev === undefined))
    return [ops.map((_, index) => index)];
  const parent = new Map<string, string>();
  const root = (key: string): string => {
    let at = key;
    for (let up = parent.get(at); up !== undefined && up !== at; up = parent.get(at)) at = up;
    // Path compression: every key on the way now points at the root.
    for (let next = key; next !== at;) {
      const up = parent.get(next) as string;
      parent.set(next, at);
      next = up;
    }
    return at;
  };
  const join = (a: string, b: string): void => {
    const ra = root(a);
    const rb = root(b);
    if (ra !== rb) parent.set(rb, ra);
  };
  for (const [a, b] of ties) join(`link ${a}`, `link ${b}`);
  const keysOf = ops.map(touched);
  for (const keys of keysOf) for (const key of keys.slice(1)) join(keys[0] as string, key);
  const groups = new Map<string, number[]>();
  keysOf.forEach((keys, index) => {
    const group = root(keys[0] as string);
    const members = groups.get(group);
    if (members) members.push(index);
    else groups.set(group, [index]);
  });
  return [...groups.values()];
}

/**
 * `groups` packed into at most `count` batches of about the same number of ops (the largest group first,
 * into the smallest batch so far); each batch keeps the ops' order. Empty batches are left out.
 */
export function balancedBatches(groups: readonly (readonly number[])[], count: number): number[][] {
  const batches: number[][] = Array.from({ length: Math.max(1, count) }, () => []);
  const bySize = [...groups].sort((a, b) => b.length - a.length || (a[0] ?? 0) - (b[0] ?? 0));
  for (const group of bySize) {
    const smallest = batches.reduce((min, batch) => (batch.length < min.length ? batch : min));
    smallest.push(...group);
  }
  return batches.filter((batch) => batch.length > 0).map((batch) => batch.sort((a, b) => a - b));
}
