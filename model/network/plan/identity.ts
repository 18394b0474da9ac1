/**
 * When two kernel objects are the same one: the planner diffs with these, the verifier checks with them.
 */
import { canonicalIP } from '../../ip';
import type { AddressState, RouteState, RuleState } from '../../net-state';
import type { DhcpClientSpec } from '../desired-state';

export function sameAddress(a: AddressState, b: AddressState): boolean {
  return a.dev === b.dev && a.family === b.family && a.prefixLen === b.prefixLen && canonicalIP(a.address) === canonicalIP(b.address);
}

/**
 * Whether the address the kernel has is the one wanted. A wanted static address is not met by a leased one
 * of the same value: the lease's lifetime runs out once its DHCP client is gone, and the kernel removes it.
 */
export function addressMeets(have: AddressState, want: AddressState): boolean {
  return sameAddress(have, want) && (want.dynamic || !have.dynamic);
}

/** Routes are the same when they send the same destination the same way; metrics and protocols don't count. */
export function sameRoute(a: RouteState, b: RouteState): boolean {
  return (
    a.family === b.family &&
    a.table === b.table &&
    a.dst === b.dst &&
    canonicalIP(a.gateway ?? '') === canonicalIP(b.gateway ?? '') &&
    (a.dev ?? '') === (b.dev ?? '')
  );
}

export function sameRule(a: RuleState, b: RuleState): boolean {
  return (
    a.family === b.family &&
    a.priority === b.priority &&
    a.table === b.table &&
    (a.from ?? '') === (b.from ?? '') &&
    (a.to ?? '') === (b.to ?? '')
  );
}

export function sameDhcp(a: DhcpClientSpec, b: DhcpClientSpec): boolean {
  return (
    a.dev === b.dev &&
    a.family === b.family &&
    a.table === b.table &&
    a.defaultRoute === b.defaultRoute &&
    a.sourceRouting === b.sourceRouting
  );
}
