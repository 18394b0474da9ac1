/**
 * The ups: admin state, once every link exists and has its master. A link comes up when it is new, down, or
 * was taken down to join a bond; a link the desired state wants down (a rollback to a snapshot) goes down.
 * Lowest level first: a VLAN comes up only on a base that is up. This runs before addresses and routes:
 * the kernel refuses a route on a link that is down.
 */
import { PlanOpKind, type PlanOp } from '../../../net-state';
import type { MergedState } from '../merge';
import type { PhaseOps } from './phase';

export function upsPhase(merged: MergedState): PhaseOps {
  const downedForBond = new Set(merged.enslavements.filter((e) => e.downFirst).map((e) => e.port));
  const build = merged.desiredLinks.flatMap((want): PlanOp[] => {
    const have = merged.survivingLinks.get(want.name);
    if (want.up === false && have?.up) return [{ kind: PlanOpKind.LINK_DOWN, name: want.name }];
    if (want.up === true && (!have?.up || downedForBond.has(want.name))) return [{ kind: PlanOpKind.LINK_UP, name: want.name }];
    return [];
  });
  return { teardown: [], build };
}
