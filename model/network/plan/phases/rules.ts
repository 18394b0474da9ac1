/**
 * Policy rules: owned tables hold exactly the wanted rules, except tables a kept DHCP client fills itself.
 * Rules a stopped DHCP client took along are gone before this teardown, and are added again if wanted.
 */
import { PlanOpKind, type PlanOp } from '../../../net-state';
import { sameRule } from '../identity';
import type { MergedState } from '../merge';
import type { PhaseOps } from './phase';

export function rulesPhase(merged: MergedState): PhaseOps {
  const { current, desired } = merged;
  const owned = new Set(desired.ruleTables);
  const dhcpTables = new Set(merged.keptDhcp.filter((c) => c.sourceRouting).map((c) => c.table));
  const released = merged.releasedByDhcpStop.rules;
  const remaining = current.rules.filter((rule) => !released.some((r) => sameRule(r, rule)));
  return {
    teardown: remaining
      .filter((rule) => owned.has(rule.table) && !dhcpTables.has(rule.table) && !desired.rules.some((r) => sameRule(r, rule)))
      .map((rule): PlanOp => ({ kind: PlanOpKind.RULE_DEL, rule })),
    build: desired.rules
      .filter((rule) => !remaining.some((r) => sameRule(r, rule)))
      .map((rule): PlanOp => ({ kind: PlanOpKind.RULE_ADD, rule })),
  };
}
