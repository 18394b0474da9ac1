/**
 * What a running config means for the kernel: the links, addresses, routes, rules and DHCP clients it owns
 * (nmstate's "desired state", restricted to what hostprov manages). `planChanges` diffs this against the
 * current kernel state. Everything here is pure and deterministic.
 */
import { inSubnet, parseCidr, sourceRouteTableId, subnetOf } from '../ip';
import {
  LinkKind,
  MAIN_TABLE,
  type AddressState,
  type CreatableLinkType,
  type Family,
  type KernelState,
  type LinkState,
  type Plan,
  type RouteState,
  type RuleState,
} from '../net-state';
import { bondMadeAgain, bondModeName, bondOptionsRecord, nonDefaultBondOptions } from './bond-options';
import { parseBridgeOpts } from './bridge-options';
import { creationOrder } from './plan/levels';
import { BootProto, ownEntry, southboundOf, topDeviceOf, type NetworkConfig, type RunningConfig } from './config';

/** VDSM's rule priority for per-network source routing (docs/setup-networks.md#static-networks). */
export const SOURCE_ROUTE_RULE_PRIORITY = 3200;

export interface DesiredLink {
  name: string;
  /** Set when hostprov creates the link; absent for links that must already exist (NICs). */
  create?: CreatableLinkType;
  mtu?: number;
  up?: boolean;
  /** Bridge/bond to enslave to; `null` = must not be enslaved; absent = don't care. */
  master?: string | null;
  mac?: string;
  stp?: boolean;
  /** Bridge options to hold, by sysfs name; options not named keep their values. */
  bridgeOptions?: Record<string, string>;
  bondMode?: string;
  bondOptions?: Record<string, string>;
  vlanBase?: string;
  vlanId?: number;
  /** IPv6 on or off (`disable_ipv6`); absent = left as the kernel has it. */
  ipv6?: boolean;
  /** With `ipv6` on: whether the link takes router advertisements (LinkState.ipv6Autoconf); absent = left alone. */
  ipv6Autoconf?: boolean;
  /** With `ipv6Autoconf` on: whether an advertised router becomes a default route; absent = left alone. */
  ipv6DefaultRouter?: boolean;
}

/** What the backend can do beyond iproute2 (NetworkBackend.controlsIpv6). */
export interface RenderOptions {
  /**
   * Decide IPv6 on the devices networks use, as VDSM does (docs/setup-networks.md#ipv6-per-device): on the
   * network's top device (its bridge, or the device of a bridgeless network) by the network's IPv6
   * configuration, off on bridge ports and on devices a network left. @default false
   */
  ipv6?: boolean;
}

/** Whether a network has any IPv6 configuration: an address, DHCPv6 or autoconfiguration. */
export function hasIpv6Configuration(net: NetworkConfig): boolean {
  return net.ipv6addr !== undefined || net.dhcpv6 || net.ipv6autoconf;
}

/**
 * IPv6 on the top device (bridge, or the device of a bridgeless network) of a network with IPv6
 * configuration, off otherwise; on, it takes router advertisements only with `ipv6autoconf`, as VDSM has it
 * (docs/setup-networks.md#ipv6-per-device): a static address or DHCPv6 alone learns nothing from whatever
 * advertises on the segment, a guest included. An advertised router becomes a default route only on the
 * default route's network, so another network's router cannot take the host's IPv6 traffic.
 */
function ipv6SwitchesOf(net: NetworkConfig): Pick<DesiredLink, 'ipv6' | 'ipv6Autoconf' | 'ipv6DefaultRouter'> {
  if (!hasIpv6Configuration(net)) return { ipv6: false };
  return net.ipv6autoconf ? { ipv6: true, ipv6Autoconf: true, ipv6DefaultRouter: net.defaultRoute } : { ipv6: true, ipv6Autoconf: false };
}

export interface DhcpClientSpec {
  dev: string;
  family: Family;
  /** Table the learned routes go to: main when the network holds the default route, else its own table. */
  table: number;
  defaultRoute: boolean;
  /** Also install the learned subnet's source-routing rules (networks without the default route). */
  sourceRouting: boolean;
}

export interface DesiredState {
  links: DesiredLink[];
  /** Links that must not exist (created by a previous config, no longer wanted). */
  absentLinks: string[];
  /** Devices whose static global addresses must be exactly those listed in `addresses`. */
  addressOwners: string[];
  addresses: AddressState[];
  /** Devices whose routes (all tables, except those a kept DHCP client learned) must be exactly `routes`. */
  routeOwners: string[];
  routes: RouteState[];
  /** Routing tables whose rules must be exactly `rules`. */
  ruleTables: number[];
  rules: RuleState[];
  /** DHCP clients that must run. */
  dhcp: DhcpClientSpec[];
  /** Devices whose DHCP clients are owned: any client on them not in `dhcp` is stopped. */
  dhcpOwners: string[];
}

/** A link's own MAC: a bond's slave has the bond's until the bond lets it go. */
const ownMac = (link: LinkState): string => link.permMac ?? link.mac;

/**
 * The MAC `name` has once the change made it a bridge's port or a bond's first slave: a bond's slave is never
 * one then (a network may not use a slave), so a current slave is let go first, and has its own MAC again.
 */
function macOf(current: KernelState, name: string): string | undefined {
  const link = current.links.find((l) => l.name === name);
  return link && ownMac(link);
}

/** Renders the kernel objects a running config owns, given the current state (for MACs of existing devices). */
export function renderDesiredState(config: RunningConfig, current: KernelState, options: RenderOptions = {}): DesiredState {
  const links = new Map<string, DesiredLink>();
  const upsert = (l: DesiredLink): void => {
    const prev = links.get(l.name);
    links.set(l.name, prev ? { ...prev, ...l, mtu: Math.max(prev.mtu ?? 0, l.mtu ?? 0) || undefined } : l);
  };
  const state: DesiredState = {
    links: [],
    absentLinks: [],
    addressOwners: [],
    addresses: [],
    routeOwners: [],
    routes: [],
    ruleTables: [],
    rules: [],
    dhcp: [],
    dhcpOwners: [],
  };
  const owners = new Set<string>();

  // Bonds exist with their slaves whether or not a network uses them; MTU is raised by networks below.
  for (const [name, bond] of Object.entries(config.bonds)) {
    const options = bondOptionsRecord(bond.options);
    const { mode = '0', ...rest } = options;
    const bondMode = bondModeName(mode) ?? mode;
    const mac = bond.hwaddr ?? macOfBondWhoseSlaveLeft(current, name, bond.nics) ?? macOfBondMadeAgain(current, name, bondMode, rest);
    upsert({
      name,
      create: 'bond',
      up: true,
      bondMode,
      bondOptions: rest,
      ...(mac ? { mac } : {}),
    });
    for (const nic of bond.nics) {
      upsert({ name: nic, master: name, up: true });
      owners.add(nic);
    }
  }

  for (const [name, net] of Object.entries(config.networks)) {
    const base = net.nic ?? net.bonding;
    const southbound = southboundOf(net);
    if (base) {
      // A base device carries the largest MTU of the networks on it (VDSM habit); bond slaves follow the bond.
      upsert({ name: base, up: true, mtu: net.mtu });
      if (net.bonding) for (const slave of ownEntry(config.bonds, net.bonding)?.nics ?? []) upsert({ name: slave, mtu: net.mtu });
    }
    if (base && southbound && net.vlan !== undefined) {
      upsert({ name: southbound, create: 'vlan', vlanBase: base, vlanId: net.vlan, mtu: net.mtu, up: true });
    }
    if (net.bridged) {
      // A bond this change gives a MAC passes it to a VLAN on it, which has its base's.
      const changedMac = southbound
        ? (links.get(southbound)?.mac ?? (net.vlan !== undefined ? links.get(base ?? '')?.mac : undefined))
        : undefined;
      const uplinkMac = southbound
        ? (changedMac ?? macOf(current, southbound) ?? macOf(current, base ?? '') ?? bondMacGuess(config, current, net))
        : undefined;
      const bridgeOpts = net.custom?.bridge_opts;
      upsert({
        name,
        create: 'bridge',
        mtu: net.mtu,
        stp: net.stp,
        up: true,
        ...(uplinkMac ? { mac: uplinkMac } : {}),
        ...(bridgeOpts ? { bridgeOptions: parseBridgeOpts(`network ${name}`, bridgeOpts) } : {}),
      });
      if (southbound) {
        // A bridge port has no IP stack of its own, as VDSM's linux_bridge.py leaves it: with IPv6 on, it
        // would keep what it had learned before it was enslaved (addresses, a default route) for their lifetimes.
        upsert({ name: southbound, master: name, up: true, ...(options.ipv6 ? { ipv6: false } : {}) });
        owners.add(southbound);
      }
    }
    const top = topDeviceOf(name, net);
    if (!top) continue;
    if (options.ipv6) upsert({ name: top, ...ipv6SwitchesOf(net) });
    owners.add(top);
    renderIp(net, top, state);
  }

  // A NIC a network left keeps its IPv6 off (from the change that released it, and from every boot after).
  if (options.ipv6) {
    for (const nic of config.releasedDevices ?? []) {
      if (links.get(nic)?.ipv6 === undefined && current.links.some((l) => l.name === nic)) upsert({ name: nic, ipv6: false });
    }
  }

  state.links = [...links.values()].sort(creationOrder);
  state.addressOwners = [...owners].sort();
  state.routeOwners = [...owners].sort();
  state.dhcpOwners = [...owners].sort();
  return state;
}

/**
 * A bond keeps its MAC when the slave it took it from leaves, and the slave has it again: two devices on the
 * segment would share it. Such a bond takes the MAC a new one would, its first slave's (creation order).
 */
function macOfBondWhoseSlaveLeft(current: KernelState, bond: string, slaves: readonly string[]): string | undefined {
  const have = current.links.find((l) => l.name === bond && l.kind === LinkKind.BOND);
  if (!have) return undefined;
  const leftWithIt = current.links.some((l) => l.kind === LinkKind.NIC && !slaves.includes(l.name) && ownMac(l) === have.mac);
  if (!leftWithIt) return undefined;
  const first = [...slaves].sort((a, b) => creationOrder({ name: a }, { name: b }))[0];
  return first ? macOf(current, first) : undefined;
}

/**
 * A bond whose mode or options change is deleted and made again ({@link bondMadeAgain}). Made again, it keeps
 * the MAC it had: the bridge or VLAN above it, which stays, has that MAC, and peers need not learn a new one.
 * (Where that MAC's slave leaves, see {@link macOfBondWhoseSlaveLeft}.)
 */
function macOfBondMadeAgain(current: KernelState, bond: string, mode: string, options: Record<string, string>): string | undefined {
  const have = current.links.find((l) => l.name === bond && l.kind === LinkKind.BOND);
  return have && bondMadeAgain({ mode, options }, have.bond) ? have.mac : undefined;
}

/**
 * A bond that does not exist yet takes the MAC of the slave enslaved first (kernel default) unless `hwaddr`
 * is set. The planner enslaves in creation order, i.e. by name, whatever order `nics` lists them in.
 */
function bondMacGuess(config: RunningConfig, current: KernelState, net: NetworkConfig): string | undefined {
  if (!net.bonding) return undefined;
  const bond = ownEntry(config.bonds, net.bonding);
  if (bond?.hwaddr) return bond.hwaddr;
  const first = [...(bond?.nics ?? [])].sort((a, b) => creationOrder({ name: a }, { name: b }))[0];
  return first ? macOf(current, first) : undefined;
}

function renderIp(net: NetworkConfig, top: string, state: DesiredState): void {
  const table = sourceRouteTableId(top);
  state.ruleTables.push(table);
  if (net.ipaddr !== undefined && net.prefix !== undefined) {
    state.addresses.push({ dev: top, family: 4, address: net.ipaddr, prefixLen: net.prefix, dynamic: false });
    if (net.gateway !== undefined) {
      const subnet = subnetOf(net.ipaddr, net.prefix);
      if (net.defaultRoute) state.routes.push({ family: 4, table: MAIN_TABLE, dst: 'default', gateway: net.gateway, dev: top });
      // Every static network with a gateway gets its own table, so replies leave through the network
      // they arrived on (docs/setup-networks.md#multiple-gateways-and-source-routing). The on-link check keeps `ip` from refusing.
      if (inSubnet(net.gateway, net.ipaddr, net.prefix)) {
        state.routes.push({ family: 4, table, dst: 'default', gateway: net.gateway, dev: top });
      }
      state.routes.push({ family: 4, table, dst: subnet, dev: top });
      state.rules.push({ family: 4, priority: SOURCE_ROUTE_RULE_PRIORITY, from: subnet, table });
      state.rules.push({ family: 4, priority: SOURCE_ROUTE_RULE_PRIORITY, to: subnet, table });
    }
  }
  if (net.bootproto === BootProto.DHCP) {
    state.dhcp.push({
      dev: top,
      family: 4,
      table: net.defaultRoute ? MAIN_TABLE : table,
      defaultRoute: net.defaultRoute,
      sourceRouting: !net.defaultRoute,
    });
  }
  if (net.ipv6addr !== undefined) {
    const cidr = parseCidr(net.ipv6addr);
    if (cidr) state.addresses.push({ dev: top, family: 6, address: cidr.address, prefixLen: cidr.prefixLen, dynamic: false });
  }
  if (net.ipv6gateway !== undefined && net.defaultRoute) {
    state.routes.push({ family: 6, table: MAIN_TABLE, dst: 'default', gateway: net.ipv6gateway, dev: top });
  }
  if (net.dhcpv6) {
    state.dhcp.push({ dev: top, family: 6, table: MAIN_TABLE, defaultRoute: net.defaultRoute, sourceRouting: false });
  }
}

/**
 * The desired state of a change from `previous` to `next`: what `next` owns, plus the release of what only
 * `previous` owned (its created links must go; its devices lose the addresses, routes and DHCP clients it
 * gave them; its tables lose their rules).
 */
export function desiredStateForChange(
  previous: RunningConfig,
  next: RunningConfig,
  current: KernelState,
  options: RenderOptions = {},
): DesiredState {
  const before = renderDesiredState(previous, current, options);
  const after = renderDesiredState(next, current, options);
  const created = new Map(after.links.filter((l) => l.create).map((l) => [l.name, l.create]));
  const absentLinks = before.links.filter((l) => l.create && created.get(l.name) !== l.create).map((l) => l.name);
  // Ports of a previous bridge/bond that stay but lose their master are explicitly released: NICs, and the
  // bonds and VLANs this configuration keeps (a bond outlives the network that had it in its bridge).
  const released = before.links
    .filter((l) => l.master && !after.links.some((a) => a.name === l.name && a.master === l.master) && !absentLinks.includes(l.name))
    .map((l) => ({ name: l.name, master: null as string | null }));
  const links = [...after.links];
  for (const r of released) {
    // `next` may name the port already, for another reason (a NIC a network left keeps its IPv6 off): its
    // master must still go, or the port stays in the bridge beside the network's new one.
    const at = links.findIndex((l) => l.name === r.name);
    const listed = links[at];
    if (!listed) links.push(r);
    else if (listed.master === undefined) links[at] = { ...listed, master: null };
  }
  // A device whose IPv6 a network decided, and none decides now, has its IP stack off, as VDSM leaves a
  // device a network leaves (linux_bridge.py): with autoconfiguration on, it would go on learning addresses
  // and routes from its segment that nothing owns.
  for (const freed of before.links) {
    if (freed.ipv6 === undefined || freed.create || absentLinks.includes(freed.name)) continue;
    const at = links.findIndex((l) => l.name === freed.name);
    const kept = links[at];
    if (!kept) links.push({ name: freed.name, ipv6: false });
    else if (kept.ipv6 === undefined) links[at] = { ...kept, ipv6: false };
  }
  const union = (a: Array<string | number>, b: Array<string | number>) => [...new Set([...a, ...b])];
  return {
    ...after,
    links,
    absentLinks,
    addressOwners: (union(after.addressOwners, before.addressOwners) as string[]).filter((d) => !absentLinks.includes(d)).sort(),
    routeOwners: (union(after.routeOwners, before.routeOwners) as string[]).filter((d) => !absentLinks.includes(d)).sort(),
    dhcpOwners: (union(after.dhcpOwners, before.dhcpOwners) as string[]).sort(),
    ruleTables: (union(after.ruleTables, before.ruleTables) as number[]).sort((x, y) => x - y),
  };
}

/**
 * A route on a DHCP-served device that only its lease can bring back: learned by the client (protocol
 * dhcp), or through a gateway that no static address of the device makes on-link. Stock dhclient scripts
 * (and the testbed's factory one) add their default route without `proto dhcp`; put back by hand before
 * the client has its lease again, the kernel would refuse it ("Nexthop has invalid gateway").
 */
function leaseRoute(route: RouteState, snapshot: KernelState): boolean {
  if (route.protocol === 'dhcp') return true;
  if (route.gateway === undefined) return false;
  const gateway = route.gateway;
  return !snapshot.addresses.some(
    (a) => a.dev === route.dev && a.family === route.family && !a.dynamic && inSubnet(gateway, a.address, a.prefixLen),
  );
}

/**
 * The devices a change configures, whose DHCP clients of the operating system it stops before it applies
 * (the agent's take-over; a rollback starts one of ours in their place).
 */
export function devicesTakenOver(desired: DesiredState): Set<string> {
  return new Set([...desired.dhcpOwners, ...desired.addressOwners]);
}

/** What a rollback of `plan` restores: the desired links and owners, the links it creates or deletes, the tables it edits. */
export function restoreScopeOf(desired: DesiredState, plan: Plan): { links: string[]; tables: number[] } {
  const links = new Set<string>([
    ...desired.links.map((l) => l.name),
    ...desired.absentLinks,
    ...desired.addressOwners,
    ...desired.routeOwners,
    ...desired.dhcpOwners,
  ]);
  const tables = new Set<number>(desired.ruleTables);
  for (const op of plan.ops) {
    if ('name' in op) links.add(op.name);
    if (op.kind === 'route-add' || op.kind === 'route-del') tables.add(op.route.table);
    if (op.kind === 'rule-add' || op.kind === 'rule-del') tables.add(op.rule.table);
  }
  return { links: [...links].sort(), tables: [...tables].sort((a, b) => a - b) };
}

/**
 * The part of `state` that {@link desiredStateFromSnapshot} reads for `scope`: its links, their addresses and
 * routes, and the rules of its tables. A restore point keeps only this: the whole state of a hypervisor, with
 * a tap device per VM NIC, would be written with every change for nothing.
 */
export function snapshotInScope(state: KernelState, scope: { links: readonly string[]; tables: readonly number[] }): KernelState {
  const links = new Set(scope.links);
  const tables = new Set(scope.tables);
  return {
    links: state.links.filter((l) => links.has(l.name)),
    addresses: state.addresses.filter((a) => links.has(a.dev)),
    routes: state.routes.filter((r) => r.dev !== undefined && links.has(r.dev)),
    rules: state.rules.filter((r) => tables.has(r.table)),
  };
}

/**
 * The desired state that puts `scope` back exactly as `snapshot` had it: the rollback of a failed or
 * unconfirmed change. Links created since are removed; addresses, routes and rules of the scoped devices
 * and tables return to their snapshot values; DHCP clients that ran before run again.
 */
export function desiredStateFromSnapshot(
  snapshot: KernelState,
  snapshotDhcp: DhcpClientSpec[],
  scope: { links: string[]; tables: number[] },
  current: KernelState,
): DesiredState {
  const inScope = new Set(scope.links);
  const before = new Map(snapshot.links.map((l) => [l.name, l]));
  const links: DesiredLink[] = [];
  for (const name of scope.links) {
    const l = before.get(name);
    if (!l) continue;
    const create = l.kind === 'bridge' || l.kind === 'bond' || l.kind === 'vlan' ? l.kind : undefined;
    // A bond's slave has the bond's MAC, which the bond gives it again: set by hand, it would be the MAC the
    // slave gets back when it is let go (the bond keeps the one a slave had when it joined).
    const bondSlave = l.master !== null && before.get(l.master)?.kind === 'bond';
    links.push({
      name,
      ...(create ? { create } : {}),
      mtu: l.mtu,
      up: l.up,
      master: l.master,
      ...(bondSlave ? {} : { mac: l.mac }),
      ...(l.bridge ? { stp: l.bridge.stp, ...(l.bridge.options ? { bridgeOptions: l.bridge.options } : {}) } : {}),
      // Only what differs from a fresh bond: re-created with exactly that, it is the bond it was.
      ...(l.bond ? { bondMode: l.bond.mode, bondOptions: nonDefaultBondOptions(l.bond.options) } : {}),
      ...(l.vlan ? { vlanBase: l.vlan.base, vlanId: l.vlan.id } : {}),
      ...(l.ipv6 !== undefined ? { ipv6: l.ipv6 } : {}),
      ...(l.ipv6 && l.ipv6Autoconf !== undefined ? { ipv6Autoconf: l.ipv6Autoconf } : {}),
      ...(l.ipv6 && l.ipv6Autoconf && l.ipv6DefaultRouter !== undefined ? { ipv6DefaultRouter: l.ipv6DefaultRouter } : {}),
    });
  }
  links.sort(creationOrder);
  const absentLinks = current.links.filter((l) => inScope.has(l.name) && !before.has(l.name)).map((l) => l.name);
  const owners = scope.links.filter((n) => before.has(n)).sort();
  const tables = new Set(scope.tables);
  const dhcp = snapshotDhcp.filter((d) => inScope.has(d.dev));
  const dhcpDevs = new Set(dhcp.map((d) => `${d.dev}/${d.family}`));
  const dhcpRuleTables = new Set(dhcp.filter((d) => d.sourceRouting && d.table !== MAIN_TABLE).map((d) => d.table));
  return {
    links,
    absentLinks,
    addressOwners: owners,
    // Addresses and routes a DHCP client will hand out again are left to it; static ones are restored
    // verbatim. (A learned route put back by hand would need its gateway on-link before the client has
    // its lease again, and the kernel would refuse it.)
    addresses: snapshot.addresses.filter((a) => inScope.has(a.dev) && !(a.dynamic && dhcpDevs.has(`${a.dev}/${a.family}`))),
    routeOwners: owners,
    routes: snapshot.routes.filter(
      (r) => r.dev !== undefined && inScope.has(r.dev) && !(dhcpDevs.has(`${r.dev}/${r.family}`) && leaseRoute(r, snapshot)),
    ),
    ruleTables: [...tables].sort((x, y) => x - y),
    // Likewise the rules a source-routed client writes for its lease's subnet.
    rules: snapshot.rules.filter((r) => tables.has(r.table) && !dhcpRuleTables.has(r.table)),
    dhcp,
    dhcpOwners: [...new Set([...scope.links])].sort(),
  };
}
