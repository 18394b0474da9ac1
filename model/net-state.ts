/**
 * The host's kernel network state, as the agent reads it and as the planner wants it.
 *
 * Desired and current are the same types (nmstate's habit), so diff, verify and rollback compare like with
 * like. The Linux backend fills a {@link KernelState} from `ip -j`; the planner (`plan.ts`) turns a current
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
  /** Link speed in Mb/s when the kernel reports it (read only). */
  speed?: number;
  bridge?: { stp: boolean };
  bond?: { mode: string; options: Record<string, string>; activeSlave?: string | null };
  vlan?: { base: string; id: number };
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

export type PlanOp =
  | { kind: 'link-add'; name: string; type: CreatableLinkType; mac?: string; mtu?: number; stp?: boolean; bondMode?: string; bondOptions?: Record<string, string>; vlanBase?: string; vlanId?: number }
  | { kind: 'link-del'; name: string }
  /** `master: null` = nomaster; absent fields are left alone. */
  | { kind: 'link-set'; name: string; mtu?: number; up?: boolean; master?: string | null; mac?: string; stp?: boolean }
  | { kind: 'addr-add'; address: AddressState }
  | { kind: 'addr-del'; address: AddressState }
  | { kind: 'route-add'; route: RouteState }
  | { kind: 'route-del'; route: RouteState }
  | { kind: 'rule-add'; rule: RuleState }
  | { kind: 'rule-del'; rule: RuleState }
  /** Start a DHCP client on `dev`; learned routes go to `table` (main when the network holds the default route). */
  | { kind: 'dhcp-start'; dev: string; family: Family; table: number; defaultRoute: boolean; sourceRouting: boolean }
  | { kind: 'dhcp-stop'; dev: string; family: Family };

export type PlanOpKind = PlanOp['kind'];

export interface Plan {
  ops: PlanOp[];
}

/** Ops the backend runs as `ip` commands (one `ip -batch` per consecutive run); the rest go to the DHCP manager. */
export function isIpOp(op: PlanOp): op is Exclude<PlanOp, { kind: 'dhcp-start' | 'dhcp-stop' }> {
  return op.kind !== 'dhcp-start' && op.kind !== 'dhcp-stop';
}
