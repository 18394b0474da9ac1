/**
 * The merged record (nmstate's MergedNetworkState idea): the current and the desired state side by side,
 * with every decision that more than one phase needs taken once, here. Each phase reads this record and
 * nothing else; no phase looks at the ops another one emits.
 */
import { subnetOf } from '../../ip';
import {
  LinkKind,
  MAIN_TABLE,
  type AddressState,
  type KernelState,
  type LinkState,
  type RouteState,
  type RuleState,
} from '../../net-state';
import { bondMadeAgain } from '../bond-options';
import { SOURCE_ROUTE_RULE_PRIORITY, type DesiredLink, type DesiredState, type DhcpClientSpec } from '../desired-state';
import { addressMeets, sameAddress, sameDhcp, sameRoute, sameRule } from './identity';
import { currentLinkLevel, LINK_LEVEL, linkLevel } from './levels';
import { compareNames } from '../../name-order';

export interface Enslavement {
  port: string;
  master: string;
  /** The port is up and its new master is a bond: it goes down before it is enslaved (and up with the ups). */
  downFirst: boolean;
}

export interface MergedState {
  readonly current: KernelState;
  readonly desired: DesiredState;
  /** The desired links in creation order: lowest level first, otherwise as listed. */
  readonly desiredLinks: readonly DesiredLink[];
  /**
   * Links the plan deletes, dependents first: absent ones, and those to be re-created: of the wrong kind,
   * or bonds whose mode or options must change (the kernel changes a bond's mode only while it is down and
   * some options only without slaves; a new bond is exact in one step).
   */
  readonly deletedLinks: readonly string[];
  /** Links that are gone after the teardown: the deleted ones and the VLANs the kernel deletes with their base. */
  readonly goneLinks: ReadonlySet<string>;
  /** Ports that leave a master that stays. */
  readonly releasedPorts: readonly string[];
  /**
   * Current links that outlive the teardown, as they are then: released ports and ports of a gone master
   * have none, and those a bond let go are down, with their own MAC again.
   */
  readonly survivingLinks: ReadonlyMap<string, LinkState>;
  /** Ports that get a new master, ports of lower-level masters first (bonds before the bridges on them). */
  readonly enslavements: readonly Enslavement[];
  /** Current addresses the teardown deletes. */
  readonly deletedAddresses: readonly AddressState[];
  /** What the stopped DHCP clients take along themselves; the teardown must not delete it again. */
  readonly releasedByDhcpStop: DhcpRelease;
  /** Surviving devices that lose their last IPv4 address in the teardown: the kernel flushes their IPv4 routes. */
  readonly ipv4FlushedDevices: ReadonlySet<string>;
  /** Running DHCP clients that keep running: wanted ones, and those on devices this configuration does not own. */
  readonly keptDhcp: readonly DhcpClientSpec[];
  readonly stoppedDhcp: readonly DhcpClientSpec[];
}

/**
 * What stopping one of our DHCP clients removes by itself: its stop runs our dhclient script with the lease
 * as the old one (agent/backend/dhcp/manager.ts), which deletes the leased address, the routes it learned
 * (`proto dhcp`) and, for a source-routed client, the two rules of the lease's subnet. A device that loses
 * its last IPv4 address that way has every IPv4 route flushed by the kernel before the route teardown runs.
 */
export interface DhcpRelease {
  readonly addresses: readonly AddressState[];
  readonly routes: readonly RouteState[];
  readonly rules: readonly RuleState[];
  /** Devices whose IPv4 routes are gone once the clients stopped. */
  readonly ipv4FlushedDevices: ReadonlySet<string>;
}

export function mergeStates(current: KernelState, desired: DesiredState, runningDhcp: readonly DhcpClientSpec[]): MergedState {
  const currentLinks = new Map(current.links.map((l) => [l.name, l]));
  const deletedLinks = linksToDelete(desired, currentLinks);
  const goneLinks = withVlansOnThem(deletedLinks, current.links);
  const releasedPorts = portsToRelease(desired, currentLinks, goneLinks);
  const survivingLinks = linksAfterTeardown(current.links, goneLinks, releasedPorts);
  const { kept, stopped } = splitDhcpClients(runningDhcp, desired, goneLinks);
  const releasedByDhcpStop = dhcpRelease(current, stopped, goneLinks);
  const deletedAddresses = addressesToDelete(current, desired, goneLinks, kept).filter(
    (a) => !releasedByDhcpStop.addresses.some((r) => sameAddress(r, a)),
  );
  return {
    current,
    desired,
    // Array.prototype.sort is stable: links of one level keep the order the desired state lists them in.
    desiredLinks: [...desired.links].sort((a, b) => linkLevel(a) - linkLevel(b)),
    deletedLinks,
    goneLinks,
    releasedPorts,
    survivingLinks,
    enslavements: enslavements(desired, currentLinks, survivingLinks),
    deletedAddresses,
    releasedByDhcpStop,
    ipv4FlushedDevices: devicesLosingAllIpv4(current, [...releasedByDhcpStop.addresses, ...deletedAddresses], goneLinks),
    keptDhcp: kept,
    stoppedDhcp: stopped,
  };
}

function linksToDelete(desired: DesiredState, currentLinks: ReadonlyMap<string, LinkState>): string[] {
  const absent = desired.absentLinks.filter((name) => currentLinks.has(name));
  const wrongKind = desired.links
    .filter((l) => l.create && currentLinks.has(l.name) && currentLinks.get(l.name)?.kind !== l.create)
    .map((l) => l.name);
  const reconfiguredBonds = desired.links.filter((l) => bondNeedsRecreation(l, currentLinks.get(l.name))).map((l) => l.name);
  const level = (name: string): number => LINK_LEVEL[currentLinks.get(name)?.kind ?? LinkKind.NIC];
  return [...new Set([...absent, ...wrongKind, ...reconfiguredBonds])].sort((a, b) => level(b) - level(a) || compareNames(a, b));
}

function bondNeedsRecreation(want: DesiredLink, have: LinkState | undefined): boolean {
  if (want.create !== LinkKind.BOND || have?.kind !== LinkKind.BOND || want.bondMode === undefined) return false;
  return bondMadeAgain({ mode: want.bondMode, options: want.bondOptions ?? {} }, have.bond);
}

/** `link del` of a base takes its VLANs along (and theirs, for stacked VLANs). */
function withVlansOnThem(deleted: readonly string[], links: readonly LinkState[]): Set<string> {
  const gone = new Set(deleted);
  for (let grew = true; grew;) {
    grew = false;
    for (const link of links) {
      if (link.vlan && gone.has(link.vlan.base) && !gone.has(link.name)) {
        gone.add(link.name);
        grew = true;
      }
    }
  }
  return gone;
}

/**
 * Ports that leave a master that stays (a master that goes releases its ports itself): those that must have
 * none, and a bond's slave bound for another master. The kernel would take it from its bond on the way
 * (rtnetlink's do_set_master), and the bonding driver takes a slave it lets go down and gives it its own MAC
 * back; released in the teardown, that is in the merged record, and the ups bring it up again.
 */
function portsToRelease(desired: DesiredState, currentLinks: ReadonlyMap<string, LinkState>, gone: ReadonlySet<string>): string[] {
  return desired.links
    .filter((want) => {
      const master = currentLinks.get(want.name)?.master;
      if (want.master === undefined || !master || gone.has(want.name) || gone.has(master)) return false;
      return want.master === null || (want.master !== master && currentLinks.get(master)?.kind === LinkKind.BOND);
    })
    .map((want) => want.name);
}

function linksAfterTeardown(links: readonly LinkState[], gone: ReadonlySet<string>, released: readonly string[]): Map<string, LinkState> {
  const bonds = new Set(links.filter((l) => l.kind === LinkKind.BOND).map((l) => l.name));
  const survivors = new Map<string, LinkState>();
  for (const link of links) {
    if (gone.has(link.name)) continue;
    const loses = link.master !== null && (released.includes(link.name) || gone.has(link.master));
    // The bonding driver closes every slave it lets go, released or with its bond deleted, and gives it its
    // own MAC back (drivers/net/bonding/bond_main.c, __bond_release_one); a bridge leaves its port as it was.
    if (!loses) survivors.set(link.name, link);
    else if (link.master !== null && bonds.has(link.master)) {
      const { permMac, ...slave } = link;
      survivors.set(link.name, { ...slave, master: null, up: false, mac: permMac ?? link.mac });
    } else survivors.set(link.name, { ...link, master: null });
  }
  return survivors;
}

function enslavements(
  desired: DesiredState,
  currentLinks: ReadonlyMap<string, LinkState>,
  survivors: ReadonlyMap<string, LinkState>,
): Enslavement[] {
  const desiredLinks = new Map(desired.links.map((l) => [l.name, l]));
  const masterKind = (name: string): LinkKind | undefined => desiredLinks.get(name)?.create ?? currentLinks.get(name)?.kind;
  const masterLevel = (name: string): number => {
    const want = desiredLinks.get(name);
    const have = currentLinks.get(name);
    return want ? linkLevel(want) : have ? currentLinkLevel(have) : LINK_LEVEL[LinkKind.BRIDGE];
  };
  const result: Array<Enslavement & { level: number }> = [];
  for (const port of desired.links) {
    const master = port.master;
    if (!master) continue;
    const have = survivors.get(port.name);
    if (have?.master === master) continue;
    result.push({
      port: port.name,
      master,
      downFirst: masterKind(master) === LinkKind.BOND && have?.up === true,
      level: masterLevel(master),
    });
  }
  return result.sort((a, b) => a.level - b.level).map(({ level: _level, ...e }) => e);
}

/**
 * A client that is wanted keeps running; an unwanted one stops when this configuration owns its device or
 * the device goes; any other client is not ours to judge.
 */
function splitDhcpClients(
  running: readonly DhcpClientSpec[],
  desired: DesiredState,
  gone: ReadonlySet<string>,
): { kept: DhcpClientSpec[]; stopped: DhcpClientSpec[] } {
  const owners = new Set(desired.dhcpOwners);
  const kept: DhcpClientSpec[] = [];
  const stopped: DhcpClientSpec[] = [];
  for (const client of running) {
    const wanted = desired.dhcp.some((d) => sameDhcp(d, client));
    if (!wanted && (owners.has(client.dev) || gone.has(client.dev))) stopped.push(client);
    else kept.push(client);
  }
  return { kept, stopped };
}

/**
 * Addresses on owned devices that are not wanted (a lease where a static address is wanted is not); a gone
 * device takes its own along, a kept DHCP client keeps its dynamic ones.
 */
function addressesToDelete(
  current: KernelState,
  desired: DesiredState,
  gone: ReadonlySet<string>,
  keptDhcp: readonly DhcpClientSpec[],
): AddressState[] {
  const owners = new Set(desired.addressOwners);
  return current.addresses.filter((address) => {
    if (!owners.has(address.dev) || gone.has(address.dev)) return false;
    if (address.dynamic && keptDhcp.some((c) => c.dev === address.dev && c.family === address.family)) return false;
    return !desired.addresses.some((want) => addressMeets(address, want));
  });
}

function devicesLosingAllIpv4(current: KernelState, deleted: readonly AddressState[], gone: ReadonlySet<string>): Set<string> {
  const devices = new Set<string>();
  for (const address of current.addresses) {
    if (address.family !== 4 || gone.has(address.dev)) continue;
    const onDevice = current.addresses.filter((a) => a.dev === address.dev && a.family === 4);
    if (onDevice.every((a) => deleted.some((d) => sameAddress(d, a)))) devices.add(address.dev);
  }
  return devices;
}

function dhcpRelease(current: KernelState, stopped: readonly DhcpClientSpec[], gone: ReadonlySet<string>): DhcpRelease {
  const addresses: AddressState[] = [];
  const routes: RouteState[] = [];
  const rules: RuleState[] = [];
  for (const client of stopped) {
    const leased = current.addresses.filter((a) => a.dev === client.dev && a.family === client.family && a.dynamic);
    // A device that goes takes its addresses and routes along anyway. Its client still stops first, while
    // the device is there, and takes the lease's rules, which no device holds.
    const deviceStays = !gone.has(client.dev);
    if (deviceStays) addresses.push(...leased);
    // DHCPv6 leases only addresses; IPv6 routes come from router advertisements and stay.
    if (client.family !== 4) continue;
    if (deviceStays) routes.push(...current.routes.filter((r) => r.dev === client.dev && r.family === 4 && r.protocol === 'dhcp'));
    if (!client.sourceRouting || client.table === MAIN_TABLE) continue;
    const subnets = new Set(leased.map((a) => subnetOf(a.address, a.prefixLen)));
    rules.push(
      ...current.rules.filter(
        (r) =>
          r.family === 4 &&
          r.table === client.table &&
          r.priority === SOURCE_ROUTE_RULE_PRIORITY &&
          subnets.has(r.from ?? r.to ?? '') &&
          (r.from === undefined || r.to === undefined),
      ),
    );
  }
  const ipv4FlushedDevices = devicesLosingAllIpv4(current, addresses, gone);
  return {
    addresses,
    routes: routes.filter((r, i) => routes.findIndex((x) => sameRoute(x, r)) === i),
    rules: rules.filter((r, i) => rules.findIndex((x) => sameRule(x, r)) === i),
    ipv4FlushedDevices,
  };
}
