/**
 * IPv6 on or off on the links that say (a bridge, by its network's IPv6 configuration; a rollback, as the
 * snapshot had it). After the masters and before the ups: a new bridge never comes up with IPv6 it should not
 * have (no link-local address, no router solicitation), and IPv6 is on before any IPv6 address is added.
 * Turning it off drops the link's IPv6 addresses and routes, which the teardown has already removed where
 * the desired state says so.
 */
import { PlanOpKind, type PlanOp } from '../../../net-state';
import type { MergedState } from '../merge';
import type { PhaseOps } from './phase';

export function ipv6Phase(merged: MergedState): PhaseOps {
  const build = merged.desiredLinks.flatMap((want): PlanOp[] => {
    if (want.ipv6 === undefined) return [];
    const have = merged.survivingLinks.get(want.name);
    // A link the plan creates starts as the kernel's default says; one whose state was not read is left alone.
    if (have && (have.ipv6 === undefined || have.ipv6 === want.ipv6)) return [];
    return [{ kind: PlanOpKind.LINK_IPV6, name: want.name, enabled: want.ipv6 }];
  });
  return { teardown: [], build };
}
