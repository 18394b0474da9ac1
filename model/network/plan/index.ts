/**
 * The one place that diffs a desired state against the current kernel state (nmstate's habit). Its output,
 * an ordered {@link Plan}, is the only thing a backend receives. The same function plans a change, its
 * rollback (desired = the snapshot) and the boot-time restore.
 *
 * The plan is a stack taken down from the top and built up from the bottom. Each phase below is a pure
 * function of the merged record ({@link mergeStates}: current and desired, and the decisions several phases
 * share) and returns its teardown and its build ops; no phase looks at another's ops. The plan is every
 * teardown in reverse phase order, then every build in phase order:
 *
 *   stop DHCP → delete rules → delete routes → delete addresses → release ports → delete links →
 *   create / adjust links (level by level) → enslave ports → IPv6 on → links up (or down) → add addresses →
 *   add routes (their gateways are on-link only now) → add rules → start DHCP → IPv6 off.
 *
 * The kernel facts behind this order are listed in agent/backend/iproute2/batch.ts. Golden plans for every
 * case live in test/fixtures/plans/.
 */
import type { KernelState, Plan } from '../../net-state';
import type { DesiredState, DhcpClientSpec } from '../desired-state';
import { planTies } from './concurrent-batches';
import { mergeStates } from './merge';
import { addressesPhase } from './phases/addresses';
import { dhcpPhase } from './phases/dhcp';
import { ipv6OffPhase, ipv6OnPhase } from './phases/ipv6';
import { linksPhase } from './phases/links';
import { mastersPhase } from './phases/masters';
import type { Phase } from './phases/phase';
import { routesPhase } from './phases/routes';
import { rulesPhase } from './phases/rules';
import { upsPhase } from './phases/ups';

export { addressMeets, sameAddress, sameDhcp, sameRoute, sameRule } from './identity';

/** Bottom of the stack first. */
const PHASES: readonly Phase[] = [
  linksPhase,
  mastersPhase,
  ipv6OnPhase,
  upsPhase,
  addressesPhase,
  routesPhase,
  rulesPhase,
  dhcpPhase,
  ipv6OffPhase,
];

export function planChanges(current: KernelState, desired: DesiredState, runningDhcp: readonly DhcpClientSpec[]): Plan {
  const merged = mergeStates(current, desired, runningDhcp);
  const parts = PHASES.map((phase) => phase(merged));
  const ops = [...[...parts].reverse().flatMap((p) => p.teardown), ...parts.flatMap((p) => p.build)];
  return { ops, ties: planTies(current, ops) };
}
