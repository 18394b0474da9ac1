/**
 * After an apply, the re-read kernel state must show what was desired (nmstate's verify step). Returns the
 * differences in words; an empty list means verified. DHCP-learned addresses are not awaited here.
 */
import type { Family, KernelState, LinkState } from '../net-state';
import { nonDefaultBondOptions, sameBondConfiguration } from './bond-options';
import { bridgeOptionsToChange } from './bridge-options';
import type { DesiredLink, DesiredState } from './desired-state';
import { addressMeets, sameAddress, sameRoute, sameRule } from './plan';

/**
 * The links {@link verifyState} looks at (by name, with their addresses): a state read for verification needs
 * these links and every route and rule, nothing else.
 */
export function linksVerified(desired: DesiredState): Set<string> {
  return new Set([
    ...desired.links.map((l) => l.name),
    ...desired.absentLinks,
    ...desired.addressOwners,
    ...desired.addresses.map((a) => a.dev),
  ]);
}

/**
 * The families whose routes and rules {@link verifyState} looks at: those of the desired routes and rules. A
 * verify read need not list the others (on a host with IPv6 enabled, its link-local routes alone are one per
 * link).
 */
export function routeFamiliesVerified(desired: DesiredState): Set<Family> {
  return new Set([...desired.routes.map((r) => r.family), ...desired.rules.map((r) => r.family)]);
}

/** Where a link's IPv6 switches (model/network/plan/phases/ipv6.ts) differ from what was wanted, when read. */
function ipv6Problems(want: DesiredLink, have: LinkState): string[] {
  const differs = (wanted: boolean | undefined, read: boolean | undefined) => wanted !== undefined && read !== undefined && wanted !== read;
  const takes = (what: string, read: boolean | undefined, wanted: boolean | undefined) =>
    `link ${want.name} ${read ? 'takes' : 'ignores'} ${what}, expected it to ${wanted ? 'take' : 'ignore'} them`;
  const problems: string[] = [];
  if (differs(want.ipv6, have.ipv6))
    problems.push(`link ${want.name} has IPv6 ${have.ipv6 ? 'on' : 'off'}, expected ${want.ipv6 ? 'on' : 'off'}`);
  // Each switch below counts only while the one above it is on, wanted and read.
  if (want.ipv6 && have.ipv6 && differs(want.ipv6Autoconf, have.ipv6Autoconf))
    problems.push(takes('router advertisements', have.ipv6Autoconf, want.ipv6Autoconf));
  if (want.ipv6Autoconf && have.ipv6Autoconf && differs(want.ipv6DefaultRouter, have.ipv6DefaultRouter))
    problems.push(takes('advertised default routers', have.ipv6DefaultRouter, want.ipv6DefaultRouter));
  return problems;
}

export function verifyState(current: KernelState, desired: DesiredState): string[] {
  const problems: string[] = [];
  const links = new Map(current.links.map((l) => [l.name, l]));
  for (const name of desired.absentLinks) if (links.has(name)) problems.push(`link ${name} still exists`);
  for (const want of desired.links) {
    const have = links.get(want.name);
    if (!have) {
      problems.push(`link ${want.name} is missing`);
      continue;
    }
    if (want.create && have.kind !== want.create) problems.push(`link ${want.name} is a ${have.kind}, expected a ${want.create}`);
    if (want.mtu !== undefined && have.mtu !== want.mtu) problems.push(`link ${want.name} has mtu ${have.mtu}, expected ${want.mtu}`);
    if (want.up !== undefined && have.up !== want.up)
      problems.push(`link ${want.name} is ${have.up ? 'up' : 'down'}, expected ${want.up ? 'up' : 'down'}`);
    if (want.master !== undefined && have.master !== want.master)
      problems.push(`link ${want.name} has master ${have.master ?? 'none'}, expected ${want.master ?? 'none'}`);
    if (want.mac !== undefined && have.mac.toLowerCase() !== want.mac.toLowerCase())
      problems.push(`link ${want.name} has mac ${have.mac}, expected ${want.mac}`);
    problems.push(...ipv6Problems(want, have));
    if (
      want.create === 'bond' &&
      want.bondMode !== undefined &&
      have.bond &&
      !sameBondConfiguration({ mode: want.bondMode, options: want.bondOptions ?? {} }, have.bond)
    ) {
      problems.push(
        `bond ${want.name} has mode ${have.bond.mode} ${JSON.stringify(nonDefaultBondOptions(have.bond.options))}, expected ${want.bondMode} ${JSON.stringify(nonDefaultBondOptions(want.bondOptions ?? {}))}`,
      );
    }
    if (want.stp !== undefined && have.bridge && have.bridge.stp !== want.stp)
      problems.push(`bridge ${want.name} has stp ${have.bridge.stp ? 'on' : 'off'}, expected ${want.stp ? 'on' : 'off'}`);
    if (want.bridgeOptions && have.bridge) {
      for (const [option, value] of Object.entries(bridgeOptionsToChange(want.bridgeOptions, have.bridge.options)))
        problems.push(`bridge ${want.name} has ${option} ${have.bridge.options?.[option] ?? 'unset'}, expected ${value}`);
    }
  }
  for (const want of desired.addresses) {
    if (!current.addresses.some((have) => addressMeets(have, want))) {
      problems.push(`address ${want.address}/${want.prefixLen} is missing on ${want.dev}${want.dynamic ? '' : ' (as a static address)'}`);
    }
  }
  const owners = new Set(desired.addressOwners);
  const dhcpDevs = new Set(desired.dhcp.map((d) => `${d.dev}/${d.family}`));
  for (const have of current.addresses) {
    if (!owners.has(have.dev) || (have.dynamic && dhcpDevs.has(`${have.dev}/${have.family}`))) continue;
    if (!desired.addresses.some((a) => sameAddress(a, have)))
      problems.push(`unexpected address ${have.address}/${have.prefixLen} on ${have.dev}`);
  }
  for (const want of desired.routes) {
    if (!current.routes.some((r) => sameRoute(r, want))) {
      problems.push(`route ${want.dst}${want.gateway ? ` via ${want.gateway}` : ''} dev ${want.dev ?? '?'} table ${want.table} is missing`);
    }
  }
  for (const want of desired.rules) {
    if (!current.rules.some((r) => sameRule(r, want)))
      problems.push(`rule ${want.from ? `from ${want.from}` : `to ${want.to}`} table ${want.table} is missing`);
  }
  return problems;
}
