/**
 * Routes: delete the unwanted ones on owned devices, before their addresses (which would flush them); add
 * the missing ones once addresses are in (a gateway must be on-link). A route counts as missing when its
 * device goes, or loses its last IPv4 address in the teardown, since the kernel takes the route along then.
 * Routes a kept DHCP client learned are the client's; those a stopped client took along are gone already.
 */
import { PlanOpKind, type PlanOp, type RouteState } from '../../../net-state';
import type { DhcpClientSpec } from '../../desired-state';
import { sameRoute } from '../identity';
import type { MergedState } from '../merge';
import type { PhaseOps } from './phase';

export function routesPhase(merged: MergedState): PhaseOps {
  const { current, desired, goneLinks, ipv4FlushedDevices, releasedByDhcpStop: released } = merged;
  const owners = new Set(desired.routeOwners);
  const goneWithDhcp = (route: RouteState): boolean =>
    (route.family === 4 && route.dev !== undefined && released.ipv4FlushedDevices.has(route.dev)) ||
    released.routes.some((r) => sameRoute(r, route));
  const teardown = current.routes.filter(
    (route) =>
      route.dev !== undefined &&
      owners.has(route.dev) &&
      !goneLinks.has(route.dev) &&
      !learnedByDhcp(route, merged.keptDhcp) &&
      !goneWithDhcp(route) &&
      !desired.routes.some((r) => sameRoute(r, route)),
  );
  const flushed = (route: RouteState): boolean =>
    route.dev !== undefined && (goneLinks.has(route.dev) || (route.family === 4 && ipv4FlushedDevices.has(route.dev)));
  const build = desired.routes.filter((route) => flushed(route) || goneWithDhcp(route) || !current.routes.some((r) => sameRoute(r, route)));
  return {
    teardown: teardown.map((route): PlanOp => ({ kind: PlanOpKind.ROUTE_DEL, route })),
    build: build.map((route): PlanOp => ({ kind: PlanOpKind.ROUTE_ADD, route })),
  };
}

function learnedByDhcp(route: RouteState, keptClients: readonly DhcpClientSpec[]): boolean {
  return route.protocol === 'dhcp' && keptClients.some((c) => c.dev === route.dev && c.family === route.family);
}
