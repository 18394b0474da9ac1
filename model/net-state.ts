/**
 * The host's kernel network state, as the agent reads it and as the planner wants it.
 *
 * Desired and current are the same types (nmstate's habit), so diff, verify and rollback compare like with
 * like. The Linux backend fills a {@link KernelState} from `ip -j`; the planner (`network/plan/`) turns a current
 * state plus a desired one into an ordered {@link Plan}; the backend only executes plans.
 *
 * Only what hostprov manages is modelled: links, scope-global addresses, non-kernel routes in every table,
 * and policy rules. Kernel-generated routes (`proto kernel`, the `local` table) follow addresses by themselves.
 */

export const LinkKind = {
  NIC: 'nic',
  BRIDGE: 'bridge',
  BOND: 'bond',
  VLAN: 'vlan',
  LOOPBACK: 'loopback',
  OTHER: 'other',
} as const;
export type LinkKind = (typeof LinkKind)[keyof typeof LinkKind];

/** Link types the planner can create; the kernel may lack some (no bond/vlan modules on some machines). */
export const CreatableLinkType = { BRIDGE: 'bridge', BOND: 'bond', VLAN: 'vlan' } as const;
export type CreatableLinkType = (typeof CreatableLinkType)[keyof typeof CreatableLinkType];

export type Family = 4 | 6;

export interface LinkState {
  name: string;
  /** Physical NICs and veth/macvlan stand-ins both read as `nic` (VDSM's "fake NICs"). */
  kind: LinkKind;
  mtu: number;
  /** Administratively up (`IFF_UP`). */
  up: boolean;
  /** Carrier/oper state, read only; never planned. */
  operUp?: boolean;
  /** Current MAC, lower-case `aa:bb:cc:dd:ee:ff`. */
  mac: string;
  /** Bridge or bond this link is enslaved to, `null` if none. */
  master: string | null;
  /**
   * A bond slave's own MAC (the bond's `perm_hwaddr`): the bond gives its slaves its MAC, and a slave it
   * lets go has this one again. Read only; absent for links that are no bond's slave.
   */
  permMac?: string;
  /** Link speed in Mb/s when the kernel reports it (read only). */
  speed?: number;
  /** `options`: the bridge's own options by sysfs name (model/network/bridge-options.ts), as decimal strings. */
  bridge?: { stp: boolean; options?: Record<string, string> };
  bond?: { mode: string; options: Record<string, string>; activeSlave?: string | null };
  vlan?: { base: string; id: number };
  /**
   * IPv6 enabled on the link (`net.ipv6.conf.<link>.disable_ipv6` is 0). Read for NICs, bonds, VLANs and
   * bridges, and only where the agent acts in its own namespace (/proc/sys/net follows the reader's
   * namespace); absent: not known.
   */
  ipv6?: boolean;
  /**
   * The link takes router advertisements: addresses from them (SLAAC, `autoconf`), routes (`accept_ra`) and
   * redirects (`accept_redirects`), all three on; VDSM's "IPv6 local auto". Read where {@link ipv6} is, and
   * only while IPv6 is on; absent: not known.
   */
  ipv6Autoconf?: boolean;
  /**
   * With {@link ipv6Autoconf} on: whether an advertised default router becomes a default route
   * (`accept_ra_defrtr`). Read only then; absent: not known.
   */
  ipv6DefaultRouter?: boolean;
}

export interface AddressState {
  dev: string;
  family: Family;
  /** Address without prefix, IPv6 in compressed lower-case form. */
  address: string;
  prefixLen: number;
  /** Has a finite lifetime, i.e. was handed out by DHCP/autoconf; the planner never removes these itself. */
  dynamic: boolean;
}

export interface RouteState {
  family: Family;
  /** Routing table id; main = 254. */
  table: number;
  /** `default` or a CIDR (`10.1.0.0/24`, `2001:db8::/64`). */
  dst: string;
  gateway?: string;
  dev?: string;
  src?: string;
  metric?: number;
  /** `static`, `boot`, `dhcp`, `ra`, ... (`kernel` routes are not part of the modelled state). */
  protocol?: string;
}

export interface RuleState {
  family: Family;
  priority: number;
  /** CIDR, or absent for "all". */
  from?: string;
  to?: string;
  table: number;
}

export interface KernelState {
  links: LinkState[];
  addresses: AddressState[];
  routes: RouteState[];
  rules: RuleState[];
}

export const MAIN_TABLE = 254;

// ---------------------------------------------------------------------------------------------------
// Plans: what the backend executes, in order. Every op is plain data (logged, journalled, tested golden).

export const PlanOpKind = {
  LINK_ADD: 'link-add',
  LINK_DEL: 'link-del',
  /** Attributes and master of an existing link; never its admin state (that is LINK_UP / LINK_DOWN). */
  LINK_SET: 'link-set',
  LINK_UP: 'link-up',
  LINK_DOWN: 'link-down',
  ADDR_ADD: 'addr-add',
  ADDR_DEL: 'addr-del',
  ROUTE_ADD: 'route-add',
  ROUTE_DEL: 'route-del',
  RULE_ADD: 'rule-add',
  RULE_DEL: 'rule-del',
  DHCP_START: 'dhcp-start',
  DHCP_STOP: 'dhcp-stop',
  LINK_IPV6: 'link-ipv6',
} as const;
export type PlanOpKind = (typeof PlanOpKind)[keyof typeof PlanOpKind];

export type PlanOp =
  | {
      kind: typeof PlanOpKind.LINK_ADD;
      name: string;
      type: CreatableLinkType;
      mac?: string;
      mtu?: number;
      stp?: boolean;
      /** Bridge options by sysfs name (model/network/bridge-options.ts). */
      bridgeOptions?: Record<string, string>;
      bondMode?: string;
      bondOptions?: Record<string, string>;
      vlanBase?: string;
      vlanId?: number;
    }
  | { kind: typeof PlanOpKind.LINK_DEL; name: string }
  /** `master: null` = nomaster; absent fields are left alone. */
  | {
      kind: typeof PlanOpKind.LINK_SET;
      name: string;
      mtu?: number;
      master?: string | null;
      mac?: string;
      stp?: boolean;
      bridgeOptions?: Record<string, string>;
    }
  | { kind: typeof PlanOpKind.LINK_UP; name: string }
  | { kind: typeof PlanOpKind.LINK_DOWN; name: string }
  | { kind: typeof PlanOpKind.ADDR_ADD; address: AddressState }
  | { kind: typeof PlanOpKind.ADDR_DEL; address: AddressState }
  | { kind: typeof PlanOpKind.ROUTE_ADD; route: RouteState }
  | { kind: typeof PlanOpKind.ROUTE_DEL; route: RouteState }
  | { kind: typeof PlanOpKind.RULE_ADD; rule: RuleState }
  | { kind: typeof PlanOpKind.RULE_DEL; rule: RuleState }
  /** Start a DHCP client on `dev`; learned routes go to `table` (main when the network holds the default route). */
  | { kind: typeof PlanOpKind.DHCP_START; dev: string; family: Family; table: number; defaultRoute: boolean; sourceRouting: boolean }
  | { kind: typeof PlanOpKind.DHCP_STOP; dev: string; family: Family }
  /**
   * IPv6 on or off on a link (`disable_ipv6`); off also drops every IPv6 address and route the link had.
   * `autoconf` (with `enabled` only): whether it takes router advertisements ({@link LinkState.ipv6Autoconf}),
   * and `defaultRouter` whether an advertised router becomes a default route ({@link LinkState.ipv6DefaultRouter}),
   * both set before IPv6 goes on; absent, left as they are. `forget`: what the link learned from
   * advertisements it stops taking, removed once the switches are written ({@link Ipv6Forget}).
   */
  | {
      kind: typeof PlanOpKind.LINK_IPV6;
      name: string;
      enabled: boolean;
      autoconf?: boolean;
      defaultRouter?: boolean;
      forget?: Ipv6Forget;
    };

/**
 * What a link that keeps IPv6 on forgets when it stops taking something from router advertisements: everything
 * it learned from them (it stops taking them), or only its learned default route (it stops making default
 * routes of advertised routers). The kernel would keep them until their lifetimes end.
 */
export type Ipv6Forget = 'everything' | 'default-route';

/** The op of one kind, e.g. `PlanOpOf<'link-set'>`. */
export type PlanOpOf<K extends PlanOpKind> = Extract<PlanOp, { kind: K }>;

export interface Plan {
  ops: PlanOp[];
  /**
   * Links the kernel ties together before or during the plan (each port with its master, each VLAN with its
   * base; model/network/plan/concurrent-batches.ts): ops on links tied so, or named together by an op, keep
   * their order; the others may run in two `ip` processes at once. Absent: every op runs in order.
   */
  ties?: Array<[string, string]>;
}

/**
 * Ops the backend runs as `ip` commands (one `ip -batch` per consecutive run); the rest go to the DHCP manager,
 * or are sysctl writes (`link-ipv6`).
 */
export type IpPlanOp = Exclude<PlanOp, { kind: 'dhcp-start' | 'dhcp-stop' | 'link-ipv6' }>;

export function isIpOp(op: PlanOp): op is IpPlanOp {
  return op.kind !== PlanOpKind.DHCP_START && op.kind !== PlanOpKind.DHCP_STOP && op.kind !== PlanOpKind.LINK_IPV6;
}
