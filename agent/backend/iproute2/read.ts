/**
 * Kernel state from `ip -j`, from three batches, each a long-lived process (ip-session.ts), asked in parallel:
 * - `ip -batch`: `addr show` without a family, which prints every link as `link show` does, with all its
 *   addresses. It is one dump of links and one of addresses; `link show` plus `-4 addr show` plus
 *   `-6 addr show` dumped the links three times (each `addr show` dumps the links to print them).
 * - `ip -4 -batch` and `ip -6 -batch`: routes and rules. A family keeps these listings single-family:
 *   `route show table all` alone would list both families (with no family field), while `rule show` alone
 *   lists only IPv4. Only unicast routes are listed (`type unicast`, which ip filters before printing): the
 *   model reads no other type, and the local table's local, broadcast and multicast routes (two or three per
 *   link) were most of what `ip` printed and the agent parsed.
 * A read may leave out the routes and rules of a family (`routeFamilies`): its batch is then not asked. A read
 * of a few named links asks for each by name instead of dumping every link ({@link perLinkCommands}).
 *
 * The conversion from JSON to {@link KernelState} is pure ({@link kernelStateFromIpJson}) and unit-tested
 * with captured output, including bond and VLAN links this test kernel cannot create.
 */
import { readFile } from 'node:fs/promises';
import type { Logger } from '../../../lib/logger';
import {
  LinkKind,
  type AddressState,
  type Family,
  type KernelState,
  type LinkState,
  type RouteState,
  type RuleState,
} from '../../../model/net-state';
import { bridgeOptionsFromInfoData } from '../../../model/network/bridge-options';
import { readIpv6States } from '../ipv6-sysctl';
import type { NetnsTarget } from '../target';
import { IpJsonShapeError, IpSessionError } from '../errors';
import { IpLinkJson, IpLinkWithAddrJson, IpRouteJson, IpRuleJson, parseIpJsonLine, type IpAddrInfoJson, type IpAddrJson } from './ip-json';
import { IpJsonSession } from './ip-session';
import type { ParsedJsonArray } from './json-array-splitter';
import { BUILTIN_TABLE_IDS, LOCAL_TABLE, loadRouteTableNames, routeTableId } from './route-tables';

/** What the three batches print, parsed. */
export interface IpJsonDump {
  links: IpLinkJson[];
  addresses: { 4: IpAddrJson[]; 6: IpAddrJson[] };
  routes: { 4: IpRouteJson[]; 6: IpRouteJson[] };
  rules: { 4: IpRuleJson[]; 6: IpRuleJson[] };
}

export interface KernelStateFromIpJsonOptions {
  /** Names of routing tables beyond main/local/default (from rt_tables). */
  tableNames?: ReadonlyMap<string, number>;
  /** Link speeds in Mb/s by name (only known when reading inside the namespace). */
  speeds?: ReadonlyMap<string, number>;
  /** Told about entries that exist but cannot be represented in the model (so they are left out). */
  onSkip?: (what: string, entry: unknown) => void;
}

const LINK_BATCH = ['addr show'];
/** How ip begins every link of LINK_BATCH's array: its elements are parsed as ip prints them (json-array-splitter.ts). */
const LINK_ELEMENT_START = '{"ifindex":';
/** What `ip -batch` adds to a failed command's error ("Command failed -:1"), on a line of its own. */
const FAILED_COMMAND_RE = /^Command failed -:\d+$/m;
const IPV4_BATCH = ['route show table all type unicast', 'rule show'];
const IPV6_BATCH = ['route show table all type unicast', 'rule show'];
const FAMILIES: ReadonlySet<Family> = new Set([4, 6]);
/** Links whose IPv6 switches a read reads: those a network can use. Not the loopback, taps or tunnels. */
const IPV6_DECIDED_KINDS: ReadonlySet<LinkKind> = new Set([LinkKind.NIC, LinkKind.BOND, LinkKind.VLAN, LinkKind.BRIDGE]);
/**
 * A read of at most this many named links asks for each (`addr show dev NAME`) instead of dumping every
 * link: ip answers a named link with one link request and an address dump the kernel filters, so verifying
 * a small change on a host with many links prints and parses those links only. Above it, one dump is cheaper
 * than the lines, unless the host has many more links ({@link perLinkReadMax}; docs/performance.md#reading-only-the-links-a-change-is-about).
 */
const PER_LINK_READ_MAX = 16;
/**
 * A line costs ip about three times what one link of a dump costs it (25 against 8 µs, measured on a
 * namespace of 211 links), and the agent parses only the links it named: so a read of up to a third of the
 * host's links asks for each. A hypervisor has a tap device for every VM NIC.
 */
const PER_LINK_SHARE_OF_HOST = 1 / 3;
/**
 * Names written as they are on a batch line: one word to ip's line parser (no blank, quote or `#`), and a
 * name the kernel accepts (at most 15 bytes). Any other name in a scope makes the read dump every link.
 */
const BATCH_SAFE_IFNAME_RE = /^[A-Za-z0-9_.-]{1,15}$/;
/** What ip says, before exiting, when asked for a link that does not exist. */
const NO_SUCH_DEVICE_RE = /^Device ".*" does not exist\.$/m;

/** What {@link KernelStateReader.read} reads (see NetworkBackend.read). */
export interface KernelReadScope {
  /** Only these links and their addresses. @default every link */
  links?: ReadonlySet<string> | undefined;
  /** Those of `links` the caller expects to be gone: asking ip for them by name would fail. @default none */
  absentLinks?: ReadonlySet<string> | undefined;
  /** Only the routes and rules of these families. @default both */
  routeFamilies?: ReadonlySet<Family> | undefined;
  /** NIC speeds from sysfs. @default false */
  speeds?: boolean | undefined;
}

/**
 * Reads a namespace's state through three long-lived `ip` processes (ip-session.ts), asked in parallel;
 * plus sysfs reads for link speeds when acting on the agent's own namespace.
 */
export class KernelStateReader {
  private readonly linkSession: IpJsonSession;
  private readonly v4: IpJsonSession;
  private readonly v6: IpJsonSession;
  /** ifindex → name from the last read: a change means a rename, which stales the sessions' name cache. */
  private names = new Map<number, string>();

  constructor(
    private readonly target: NetnsTarget,
    private readonly log: Logger,
  ) {
    this.linkSession = new IpJsonSession(target, null, log);
    this.v4 = new IpJsonSession(target, '-4', log);
    this.v6 = new IpJsonSession(target, '-6', log);
  }

  /** `ip` processes started so far (three, unless a session had to be restarted). */
  get processStarts(): number {
    return this.linkSession.starts + this.v4.starts + this.v6.starts;
  }

  /**
   * A process in the target namespace, acting on one from outside (`ip -n` enters it at start): its
   * `/proc/<pid>/net` shows the namespace's sockets. Null when no session runs; callers check the namespace.
   */
  get namespacePid(): number | null {
    return this.linkSession.pid;
  }

  /** The kernel state, or the part of it `scope` names (see NetworkBackend.read). */
  async read(scope: KernelReadScope = {}): Promise<KernelState> {
    const { links: onlyLinks, routeFamilies = FAMILIES, speeds: withSpeeds = false } = scope;
    let dump: IpJsonDump;
    try {
      dump = await this.dump(onlyLinks, routeFamilies, perLinkCommands(onlyLinks, scope.absentLinks, perLinkReadMax(this.names.size)));
    } catch (err) {
      if (!(err instanceof IpSessionError)) throw err;
      // A dead or wedged session must not fail a read a fresh `ip` would answer: one more try, on new processes.
      this.log.debug({ err }, 'ip read session failed; reading again through new ones');
      this.restart();
      dump = await this.dump(onlyLinks, routeFamilies, null);
    }
    if (this.renamedSinceLastRead(dump.links, onlyLinks !== undefined)) {
      this.log.debug('a link was renamed since the last read; re-reading through new ip processes');
      this.restart();
      dump = await this.dump(onlyLinks, routeFamilies, null);
      this.renamedSinceLastRead(dump.links, onlyLinks !== undefined);
    }
    const unknownTables = tableNamesIn(dump).filter((name) => routeTableId(name) === undefined);
    const tableNames = unknownTables.length > 0 ? await loadRouteTableNames() : BUILTIN_TABLE_IDS;
    // /sys/class/net shows the namespace sysfs was mounted in: right only when we run inside the target.
    const speeds =
      withSpeeds && !this.target.netns
        ? await linkSpeeds(dump.links.filter((l) => linkKindFromJson(l) === LinkKind.NIC).map((l) => l.ifname))
        : new Map<string, number>();
    const state = kernelStateFromIpJson(dump, {
      tableNames,
      speeds,
      onSkip: (what, entry) => this.log.debug({ what, entry }, 'kernel state entry not representable in the model; left out'),
    });
    // The same namespace rule as sysfs; only the kinds of link a network uses, whose IPv6 the agent decides
    // (ipv6-sysctl.ts) and the capabilities report.
    if (!this.target.netns) {
      const decided = state.links.filter((l) => IPV6_DECIDED_KINDS.has(l.kind));
      const ipv6 = readIpv6States(decided.map((l) => l.name));
      for (const link of decided) {
        const read = ipv6.get(link.name);
        if (read === undefined) continue;
        link.ipv6 = read.enabled;
        if (read.autoconf !== undefined) link.ipv6Autoconf = read.autoconf;
        if (read.defaultRouter !== undefined) link.ipv6DefaultRouter = read.defaultRouter;
      }
    }
    return state;
  }

  /**
   * `ip route get <destination>` through the family's long-lived session: the JSON line, or the kernel's
   * refusal (no route, a prohibit rule...) as ip words it. A process per lookup cost the agent a fork of
   * itself, a few ms of CPU, on every install's route step (docs/performance.md#the-agents-share-of-an-install).
   *
   * ip prints the route's `dev` from its index → name cache, which a rename makes stale, so the names are
   * checked first as every read checks them: one link dump on the link session, compared with the names of
   * the last read, and all sessions restarted on a rename ({@link renamedSinceLastRead}). `destination` must
   * be a plain address (route-get.ts checks it): it is written to ip's stdin as it is.
   */
  async routeGet(destination: string, family: Family): Promise<{ kind: 'json'; line: string } | { kind: 'refused'; stderr: string }> {
    const session = family === 4 ? this.v4 : this.v6;
    for (let attempt = 1; ; attempt += 1) {
      let asked = false;
      try {
        // The read's own dump, not `link show`: in a batch, one `link show` leaves a flag set for the life of
        // the process (iproute2's ip/ipaddress.c `do_link`) that makes every later `addr show dev NAME` print
        // the link without its addresses.
        const [links] = await this.linkSession.run(LINK_BATCH);
        if (this.renamedSinceLastRead(parseIpJsonLine('addr show', links, IpLinkJson))) {
          this.log.debug('a link was renamed since the last read; asking for the route through new ip processes');
          this.restart();
        }
        asked = true;
        const [line] = await session.run([`route get ${destination}`]);
        return { kind: 'json', line: line ?? '' };
      } catch (err) {
        if (!(err instanceof IpSessionError)) throw err;
        // ip stops a batch at a failed command and exits: the kernel refused this lookup, the session did not break.
        if (asked && FAILED_COMMAND_RE.test(err.stderr))
          return { kind: 'refused', stderr: err.stderr.replace(FAILED_COMMAND_RE, '').trim() };
        if (attempt > 1) throw err;
        this.log.debug({ err }, 'ip read session failed; asking for the route through new ones');
        this.restart();
      }
    }
  }

  close(): void {
    this.linkSession.close();
    this.v4.close();
    this.v6.close();
  }

  private restart(): void {
    this.linkSession.restart();
    this.v4.restart();
    this.v6.restart();
  }

  /** `perLink`: the commands that show each link of `onlyLinks` by name, or null to dump every link. */
  private async dump(
    onlyLinks: ReadonlySet<string> | undefined,
    routeFamilies: ReadonlySet<Family>,
    perLink: string[] | null,
  ): Promise<IpJsonDump> {
    const [links, v4, v6] = await Promise.all([
      perLink ? this.namedLinks(perLink) : this.linkSession.runParsingArrays(LINK_BATCH, LINK_ELEMENT_START),
      routeFamilies.has(4) ? this.v4.run(IPV4_BATCH) : null,
      routeFamilies.has(6) ? this.v6.run(IPV6_BATCH) : null,
    ]);
    if (links !== null) {
      const dump = dumpFromBatchLines(links, v4, v6, onlyLinks);
      if (!perLink || new Set(dump.links.map((l) => l.ifname)).size === perLink.length) return dump;
    }
    // A link asked for by name did not come back. It may be gone, or ip may have looked its name up in its
    // name → index cache, stale for a link deleted and created again (ip then prints nothing for it). A dump
    // on a new process tells which; this path is taken only then.
    this.linkSession.restart();
    return dumpFromBatchLines(await this.linkSession.runParsingArrays(LINK_BATCH, LINK_ELEMENT_START), v4, v6, onlyLinks);
  }

  /** The lines of `commands` (one `addr show dev` each) as one, or null when ip refused a link that does not exist. */
  private async namedLinks(commands: string[]): Promise<string[] | null> {
    if (commands.length === 0) return ['[]'];
    try {
      return [joinLinkArrays(await this.linkSession.run(commands))];
    } catch (err) {
      if (err instanceof IpSessionError && NO_SUCH_DEVICE_RE.test(err.stderr)) return null;
      throw err;
    }
  }

  /**
   * Records the links' names by index; true when an index seen before now has another name. A `partial` read
   * (some links only) updates the indices it saw and keeps the others for the next full read to compare.
   */
  private renamedSinceLastRead(links: readonly IpLinkJson[], partial = false): boolean {
    const names = partial ? new Map(this.names) : new Map<number, string>();
    let renamed = false;
    for (const link of links) {
      if (link.ifindex === undefined) continue;
      names.set(link.ifindex, link.ifname);
      const before = this.names.get(link.ifindex);
      if (before !== undefined && before !== link.ifname) renamed = true;
    }
    this.names = names;
    return renamed;
  }
}

/** How many named links a read asks for one by one on a host with `knownLinks` links, before it dumps them all. */
export function perLinkReadMax(knownLinks: number): number {
  return Math.max(PER_LINK_READ_MAX, Math.floor(knownLinks * PER_LINK_SHARE_OF_HOST));
}

/**
 * `addr show dev NAME` for each of `links`, or null when the read should dump every link: more than `max`
 * of them ({@link perLinkReadMax}), a link expected gone, or a name that is not one plain word.
 */
export function perLinkCommands(
  links: ReadonlySet<string> | undefined,
  absent: ReadonlySet<string> | undefined,
  max = PER_LINK_READ_MAX,
): string[] | null {
  if (links === undefined || links.size > max) return null;
  const names = [...links];
  if (names.some((name) => absent?.has(name) || !BATCH_SAFE_IFNAME_RE.test(name))) return null;
  return names.map((name) => `addr show dev ${name}`);
}

/** One JSON array of the links that per-link lines (`[{…}]` each) show: what one `addr show` would print of them. */
export function joinLinkArrays(lines: readonly string[]): string {
  const inner = lines.map((line, i) => {
    const trimmed = line.trim();
    if (!trimmed.startsWith('[') || !trimmed.endsWith(']'))
      throw new IpJsonShapeError('addr show dev', `line ${i + 1}: expected a JSON array, got ${JSON.stringify(trimmed.slice(0, 40))}`);
    return trimmed.slice(1, -1).trim();
  });
  return `[${inner.filter((body) => body !== '').join(',')}]`;
}

/**
 * The three batches' output lines (LINK_BATCH's, IPV4_BATCH's, IPV6_BATCH's), parsed; `null` for a family's
 * batch that was not asked (no routes or rules of that family); with `onlyLinks`, the other links are dropped
 * before they are checked and converted.
 */
export function dumpFromBatchLines(
  links: ReadonlyArray<string | ParsedJsonArray>,
  v4: readonly string[] | null,
  v6: readonly string[] | null,
  onlyLinks?: ReadonlySet<string>,
): IpJsonDump {
  if (links.length !== LINK_BATCH.length || (v4 && v4.length !== IPV4_BATCH.length) || (v6 && v6.length !== IPV6_BATCH.length)) {
    throw new IpJsonShapeError(
      'ip -batch',
      `expected ${LINK_BATCH.length} + ${IPV4_BATCH.length} + ${IPV6_BATCH.length} JSON lines, got ${links.length} + ${v4?.length ?? '-'} + ${v6?.length ?? '-'}`,
    );
  }
  // Each entry is a link and its addresses of both families; addressStatesFromJson keeps one family each.
  const keep = onlyLinks && ((raw: unknown) => onlyLinks.has(String((raw as { ifname?: unknown } | null)?.ifname)));
  const linksWithAddresses = parseIpJsonLine('addr show', links[0], IpLinkWithAddrJson, keep);
  return {
    links: linksWithAddresses,
    addresses: { 4: linksWithAddresses, 6: linksWithAddresses },
    routes: {
      4: v4 ? parseIpJsonLine('-4 route show', v4[0], IpRouteJson) : [],
      6: v6 ? parseIpJsonLine('-6 route show', v6[0], IpRouteJson) : [],
    },
    rules: {
      4: v4 ? parseIpJsonLine('-4 rule show', v4[1], IpRuleJson) : [],
      6: v6 ? parseIpJsonLine('-6 rule show', v6[1], IpRuleJson) : [],
    },
  };
}

/** Speeds of NICs: the report shows no other link's speed (bridges have none: EINVAL). */
async function linkSpeeds(names: readonly string[]): Promise<Map<string, number>> {
  const speeds = new Map<string, number>();
  await Promise.all(
    names.map(async (name) => {
      // Fails (EINVAL) for links without a speed; -1 means unknown (no carrier).
      const text = await readFile(`/sys/class/net/${name}/speed`, 'utf8').catch(() => '');
      const speed = Number(text.trim());
      if (text.trim() !== '' && Number.isInteger(speed) && speed > 0) speeds.set(name, speed);
    }),
  );
  return speeds;
}

function tableNamesIn(dump: IpJsonDump): string[] {
  const entries = [...dump.routes[4], ...dump.routes[6], ...dump.rules[4], ...dump.rules[6]];
  return [...new Set(entries.map((e) => e.table).filter((t): t is string => t !== undefined))];
}

// ---------------------------------------------------------------------------------------------------
// Pure conversion

export function kernelStateFromIpJson(dump: IpJsonDump, options: KernelStateFromIpJsonOptions = {}): KernelState {
  const { tableNames = BUILTIN_TABLE_IDS, speeds = new Map<string, number>(), onSkip = () => {} } = options;
  const tableOf = (table: string | undefined, entry: unknown): number | undefined => {
    const id = routeTableId(table ?? 'main', tableNames);
    if (id === undefined) onSkip(`unknown routing table name ${table}`, entry);
    return id;
  };
  const families = [4, 6] as const;
  return {
    links: dump.links.map((link) => linkStateFromJson(link, speeds.get(link.ifname))),
    addresses: families.flatMap((family) => dump.addresses[family].flatMap((entry) => addressStatesFromJson(entry, family))),
    routes: families.flatMap((family) =>
      dump.routes[family].flatMap((route) => {
        const state = routeStateFromJson(route, family, (t) => tableOf(t, route));
        return state ? [state] : [];
      }),
    ),
    rules: families.flatMap((family) =>
      dump.rules[family].flatMap((rule) => {
        const state = ruleStateFromJson(rule, family, (t) => tableOf(t, rule), onSkip);
        return state ? [state] : [];
      }),
    ),
  };
}

const NIC_INFO_KINDS = new Set(['veth', 'macvlan', 'ipvlan']);

export function linkKindFromJson(link: IpLinkJson): LinkKind {
  if (link.link_type === 'loopback') return LinkKind.LOOPBACK;
  const infoKind = link.linkinfo?.info_kind;
  if (infoKind === 'bridge') return LinkKind.BRIDGE;
  if (infoKind === 'bond') return LinkKind.BOND;
  if (infoKind === 'vlan') return LinkKind.VLAN;
  if (infoKind !== undefined) return NIC_INFO_KINDS.has(infoKind) ? LinkKind.NIC : LinkKind.OTHER;
  // No info_kind: a real device; only Ethernet ones are NICs to us.
  return link.link_type === 'ether' ? LinkKind.NIC : LinkKind.OTHER;
}

const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

function linkStateFromJson(link: IpLinkJson, speed: number | undefined): LinkState {
  const kind = linkKindFromJson(link);
  const mac = (link.address ?? '').toLowerCase();
  const state: LinkState = {
    name: link.ifname,
    kind,
    mtu: link.mtu,
    up: link.flags.includes('UP'),
    operUp: operUpFromJson(link),
    // Non-Ethernet links (tunnels) have no MAC or an IP in this field; the model wants a MAC or nothing.
    mac: MAC_RE.test(mac) ? mac : '',
    master: link.master ?? null,
  };
  if (speed !== undefined) state.speed = speed;
  const permanent = link.linkinfo?.info_slave_kind === 'bond' ? link.linkinfo.info_slave_data?.perm_hwaddr : undefined;
  if (typeof permanent === 'string' && MAC_RE.test(permanent.toLowerCase())) state.permMac = permanent.toLowerCase();
  const data = link.linkinfo?.info_data ?? {};
  if (kind === LinkKind.BRIDGE) state.bridge = { stp: Number(data.stp_state ?? 0) !== 0, options: bridgeOptionsFromInfoData(data) };
  if (kind === LinkKind.BOND) state.bond = bondFromInfoData(data);
  if (kind === LinkKind.VLAN) state.vlan = { base: link.link ?? '', id: Number(data.id) };
  return state;
}

function operUpFromJson(link: IpLinkJson): boolean {
  // UNKNOWN: the driver does not track oper state (lo, a bridge without ports); fall back to the carrier flag.
  if (link.operstate === 'UNKNOWN' || link.operstate === undefined) return link.flags.includes('UP') && link.flags.includes('LOWER_UP');
  return link.operstate === 'UP';
}

/** `ip -j` keys that differ from the option names `ip link add ... type bond` (and sysfs) use. */
const BOND_JSON_KEY_TO_OPTION: Record<string, string> = {
  ad_lacp_rate: 'lacp_rate',
  ad_lacp_active: 'lacp_active',
  num_peer_notif: 'num_grat_arp',
};
/** Keys that are state, not options, or are reported elsewhere in the model. */
const BOND_NON_OPTION_KEYS = new Set(['mode', 'active_slave', 'active_slave_index', 'primary_index', 'ad_info']);

export function bondFromInfoData(data: Record<string, unknown>): NonNullable<LinkState['bond']> {
  const options: Record<string, string> = {};
  for (const [key, value] of Object.entries(data)) {
    if (BOND_NON_OPTION_KEYS.has(key)) continue;
    const name = BOND_JSON_KEY_TO_OPTION[key] ?? key;
    // iproute2 prints arp_validate "none" as null in JSON.
    if (value === null) options[name] = key === 'arp_validate' ? 'none' : '';
    else if (Array.isArray(value)) options[name] = value.map(String).join(',');
    else if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') options[name] = String(value);
  }
  return {
    mode: typeof data.mode === 'string' ? data.mode : String(data.mode ?? ''),
    options,
    activeSlave: typeof data.active_slave === 'string' ? data.active_slave : null,
  };
}

/** valid_lft "forever" is INFINITY_LIFE_TIME. */
const INFINITE_LIFETIME = 0xffff_ffff;

/**
 * An IPv6 address the kernel made from a router advertisement: SLAAC (always flagged `mngtmpaddr`, whatever
 * `use_tempaddr` says) or a privacy address made from one (`temporary`). Like the routes it learns from
 * them (protocol `ra`) and link-local addresses, it is the kernel's and not part of the model: no change
 * removes it, no verification counts it, no rollback restores it, and the capabilities do not report it
 * (docs/setup-networks.md#what-our-agent-does-not-do).
 */
function madeFromRouterAdvertisement(info: IpAddrInfoJson): boolean {
  return info.family === 'inet6' && (info.mngtmpaddr === true || info.temporary === true);
}

function addressStatesFromJson(entry: IpAddrJson, family: Family): AddressState[] {
  const inet = family === 4 ? 'inet' : 'inet6';
  return entry.addr_info
    .filter((info) => info.family === inet && info.scope === 'global' && info.local !== undefined && !madeFromRouterAdvertisement(info))
    .map((info) => ({
      dev: entry.ifname,
      family,
      address: (info.local ?? '').toLowerCase(),
      prefixLen: info.prefixlen,
      dynamic: info.valid_life_time !== undefined && info.valid_life_time !== INFINITE_LIFETIME,
    }));
}

/** Kernel-assigned metric when none is given: leave it out so a route planned without one reads back equal. */
const DEFAULT_METRIC: Record<Family, number> = { 4: 0, 6: 1024 };
const IGNORED_IPV6_DSTS = new Set(['fe80::/64', 'ff00::/8']);

function routeStateFromJson(
  route: IpRouteJson,
  family: Family,
  tableOf: (table: string | undefined) => number | undefined,
): RouteState | null {
  // broadcast/local/multicast/unreachable/blackhole/prohibit/throw are not forwarding routes we manage.
  if ((route.type ?? 'unicast') !== 'unicast') return null;
  // The kernel's own: routes of its addresses, and those it learns from router advertisements (below).
  if (route.protocol === 'kernel' || route.protocol === 'ra') return null;
  const dst = cidrFromIp(route.dst, family);
  if (family === 6 && IGNORED_IPV6_DSTS.has(dst)) return null;
  const table = tableOf(route.table);
  if (table === undefined || table === LOCAL_TABLE) return null;
  const state: RouteState = { family, table, dst };
  if (route.gateway !== undefined) state.gateway = route.gateway.toLowerCase();
  if (route.dev !== undefined) state.dev = route.dev;
  if (route.prefsrc !== undefined) state.src = route.prefsrc.toLowerCase();
  if (route.metric !== undefined && route.metric !== DEFAULT_METRIC[family]) state.metric = route.metric;
  if (route.protocol !== undefined) state.protocol = route.protocol;
  return state;
}

/** `default` stays; `198.18.9.9` (iproute2 omits a host prefix) → `198.18.9.9/32`. */
export function cidrFromIp(dst: string, family: Family, prefixLen?: number): string {
  if (dst === 'default') return dst;
  if (dst.includes('/')) return dst.toLowerCase();
  return `${dst.toLowerCase()}/${prefixLen ?? (family === 4 ? 32 : 128)}`;
}

/** Rule keys the model can express; a rule with any other selector or action (iif, fwmark, not, goto, prohibit, ...) is left out. */
const MODELLED_RULE_KEYS = new Set(['priority', 'src', 'srclen', 'dst', 'dstlen', 'table', 'protocol']);

/** The rules every namespace starts with. */
const KERNEL_DEFAULT_RULES = new Set(['0/255', '32766/254', '32767/253']);

function ruleStateFromJson(
  rule: IpRuleJson,
  family: Family,
  tableOf: (table: string | undefined) => number | undefined,
  onSkip: (what: string, entry: unknown) => void,
): RuleState | null {
  const extra = Object.keys(rule).filter((key) => !MODELLED_RULE_KEYS.has(key));
  if (extra.length > 0 || rule.table === undefined) {
    onSkip(`rule with ${extra.join(', ') || 'no table'}`, rule);
    return null;
  }
  const table = tableOf(rule.table);
  if (table === undefined) return null;
  const from = rule.src !== undefined && rule.src !== 'all' ? cidrFromIp(rule.src, family, rule.srclen) : undefined;
  const to = rule.dst !== undefined && rule.dst !== 'all' ? cidrFromIp(rule.dst, family, rule.dstlen) : undefined;
  if (from === undefined && to === undefined && KERNEL_DEFAULT_RULES.has(`${rule.priority}/${table}`)) return null;
  const state: RuleState = { family, priority: rule.priority, table };
  if (from !== undefined) state.from = from;
  if (to !== undefined) state.to = to;
  return state;
}
