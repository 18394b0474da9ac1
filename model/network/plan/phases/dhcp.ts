/**
 * DHCP clients: stop the unwanted ones first (before their device goes), start the wanted ones last (on a
 * link that is up and enslaved where it belongs). A client whose device was re-created starts again.
 */
import { PlanOpKind, type PlanOp } from '../../../net-state';
import { sameDhcp } from '../identity';
import type { MergedState } from '../merge';
import type { PhaseOps } from './phase';

export function dhcpPhase(merged: MergedState): PhaseOps {
  return {
    teardown: merged.stoppedDhcp.map((c): PlanOp => ({ kind: PlanOpKind.DHCP_STOP, dev: c.dev, family: c.family })),
    build: merged.desired.dhcp
      .filter((client) => merged.goneLinks.has(client.dev) || !merged.keptDhcp.some((c) => sameDhcp(c, client)))
      .map((c): PlanOp => ({
        kind: PlanOpKind.DHCP_START,
        dev: c.dev,
        family: c.family,
        table: c.table,
        defaultRoute: c.defaultRoute,
        sourceRouting: c.sourceRouting,
      })),
  };
}
