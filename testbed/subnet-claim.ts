/**
 * Claiming a testbed subnet index N safely between concurrent processes (parallel test files, a demo):
 * the claim *is* the testbed's switch namespace, named after the subnet (`hp-sw-198.18.N`). `ip netns add`
 * creates `/run/netns/<name>` with O_EXCL, so exactly one process gets each name, and the claim lasts
 * exactly as long as the testbed (teardown deletes the switch last). No lock files, nothing stale to
 * clean: a crashed run's leftover switch is visible in `ip netns list` and only costs its index.
 *
 * The root namespace is checked too, so a subnet someone else uses there (an address or a route) is
 * skipped rather than shadowed.
 */
import { randomInt } from 'node:crypto';
import { run } from '../lib/process';
import { overlapsTestbedSubnets, subnetPlan, SUBNET_INDEX_MAX, SUBNET_INDEX_MIN, type SubnetPlan } from './addressing';
import { Netns } from './netns';

export function switchNamespaceName(index: number): string {
  return `hp-sw-198.18.${index}`;
}

export class NoFreeSubnetError extends Error {
  override readonly name = 'NoFreeSubnetError';
  constructor(readonly tried: number) {
    super(
      `no free testbed subnet: all ${tried} indexes of 198.18.N.0/24 are claimed by hp-sw-198.18.N namespaces or used in the root namespace; ` +
        'tear down leftover testbeds (hostprov testbed down --state-dir …, or ip netns list)',
    );
  }
}

interface RootAddress {
  addr_info?: Array<{ local?: string; prefixlen?: number; family?: string }>;
}
interface RootRoute {
  dst?: string;
}

/** True when the root namespace already has an address or route in the subnet pair of `plan`. */
export async function rootNamespaceUses(plan: SubnetPlan): Promise<boolean> {
  const [addresses, routes] = await Promise.all([
    run(['ip', '-j', '-4', 'addr', 'show'], { allowFailure: true }),
    run(['ip', '-j', '-4', 'route', 'show', 'table', 'all'], { allowFailure: true }),
  ]);
  const parse = <T>(text: string): T[] => (text.trim() ? (JSON.parse(text) as T[]) : []);
  for (const link of parse<RootAddress>(addresses.stdout)) {
    for (const info of link.addr_info ?? []) {
      if (info.local && overlapsTestbedSubnets(plan, `${info.local}/32`)) return true;
    }
  }
  return parse<RootRoute>(routes.stdout).some(
    (r) => r.dst !== undefined && r.dst !== 'default' && overlapsTestbedSubnets(plan, r.dst.includes('/') ? r.dst : `${r.dst}/32`),
  );
}

/** Claims a free subnet index (random start, so concurrent claimers rarely even collide). */
export async function claimSubnet(): Promise<{ plan: SubnetPlan; switchNs: Netns }> {
  const count = SUBNET_INDEX_MAX - SUBNET_INDEX_MIN + 1;
  const start = randomInt(count);
  for (let k = 0; k < count; k++) {
    const plan = subnetPlan(SUBNET_INDEX_MIN + ((start + k) % count));
    if (await rootNamespaceUses(plan)) continue;
    const switchNs = await Netns.tryCreate(switchNamespaceName(plan.index));
    if (!switchNs) continue;
    // Someone outside hostprov may have started using it between the check and the claim.
    if (await rootNamespaceUses(plan)) {
      await switchNs.destroy();
      continue;
    }
    return { plan, switchNs };
  }
  throw new NoFreeSubnetError(count);
}
