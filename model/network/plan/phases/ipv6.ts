/**
 * IPv6 on or off on the links that say (a bridge, by its network's IPv6 configuration; a rollback, as the
 * snapshot had it), and whether a link with IPv6 on takes router advertisements and their default routers.
 * Two phases, at the two ends of the build:
 * - on: after the masters and before the ups, so that IPv6 is on before any IPv6 address is added, and a
 *   link that must not take advertisements takes none from the moment it is up;
 * - off: last of all. Turning it off drops every IPv6 address and route the link had, those it learned in
 *   the moment since it came up included, so nothing it should not have outlives the plan; and a plan that
 *   only turns IPv6 off (a new VM network) stays one `ip -batch` run with the sysctl after it.
 */
import { PlanOpKind, type Ipv6Forget, type LinkState, type PlanOp } from '../../../net-state';
import type { MergedState } from '../merge';
import type { PhaseOps } from './phase';

function ipv6Ops(merged: MergedState, enabled: boolean): PlanOp[] {
  return merged.desiredLinks.flatMap((want): PlanOp[] => {
    if (want.ipv6 !== enabled) return [];
    const autoconf = enabled ? want.ipv6Autoconf : undefined;
    const defaultRouter = autoconf ? want.ipv6DefaultRouter : undefined;
    const have = merged.survivingLinks.get(want.name);
    // A link the plan creates starts as the kernel's defaults say, so it is set; one whose state was not read
    // is left alone.
    if (have && have.ipv6 === undefined) return [];
    const holds =
      have?.ipv6 === want.ipv6 &&
      (autoconf === undefined || have.ipv6Autoconf === autoconf) &&
      (defaultRouter === undefined || have.ipv6DefaultRouter === defaultRouter);
    if (holds) return [];
    const forget = enabled ? forgotten(have, autoconf, defaultRouter) : undefined;
    return [
      {
        kind: PlanOpKind.LINK_IPV6,
        name: want.name,
        enabled,
        ...(autoconf !== undefined ? { autoconf } : {}),
        ...(defaultRouter !== undefined ? { defaultRouter } : {}),
        ...(forget ? { forget } : {}),
      },
    ];
  });
}

/**
 * What a link that had IPv6 on, and took advertisements (or was not read to say otherwise), learned and
 * must forget now that it stops taking them or their default routers. A link turned on learned nothing yet.
 */
function forgotten(have: LinkState | undefined, autoconf: boolean | undefined, defaultRouter: boolean | undefined): Ipv6Forget | undefined {
  if (have?.ipv6 !== true || have.ipv6Autoconf === false) return undefined;
  if (autoconf === false) return 'everything';
  return defaultRouter === false && have.ipv6DefaultRouter !== false ? 'default-route' : undefined;
}

export function ipv6OnPhase(merged: MergedState): PhaseOps {
  return { teardown: [], build: ipv6Ops(merged, true) };
}

export function ipv6OffPhase(merged: MergedState): PhaseOps {
  return { teardown: [], build: ipv6Ops(merged, false) };
}
