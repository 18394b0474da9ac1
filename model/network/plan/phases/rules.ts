/** Policy rules: owned tables hold exactly the wanted rules, except tables a kept DHCP client fills itself. */
import { PlanOpKind, type PlanOp } from '../../../net-state';
import { sameRule } from '../identity';
import type { MergedState } from '../merge';
import type { PhaseOps } from './phase';

export function rulesPhase(merged: MergedState): PhaseOps {
  const { current, desired } = merged;
  const owned = new Set(desired.ruleTables);
  const dhcpTables = new Set(merged.keptDhcp.filter((c) => c.sourceRouting).map((c) => c.table));
  return {
    teardown: current.rules
      .filter((rule) => owned.has(rule.table) && !dhcpTables.has(rule.table) && !desired.rules.some((r) => sameRule(r, rule)))
      .map((rule): PlanOp => ({ kind: PlanOpKind.RULE_DEL, rule })),
    build: desired.rules.filter((rule) => !current.rules.some((r) => sameRule(r, rule))).map((rule): PlanOp => ({ kind: PlanOpKind.RULE_ADD, rule })),
  };
}
