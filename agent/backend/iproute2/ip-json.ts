/**
 * The parts of `ip -j -d` output the backend relies on, checked by hand. Lenient on purpose: iproute2 adds keys
 * between versions and omits many when unset, so unknown keys are accepted and most fields are optional;
 * the few we cannot work without (names, mtu, priorities) are required. A field that is present with the
 * wrong type is refused with {@link IpJsonShapeError}, naming where it is.
 *
 * Why not zod, as at the agent's other boundaries: the agent parses every link, route and rule of the host
 * twice per `Host.setupNetworks`, and zod's checks of these few fields cost more than `JSON.parse` of the
 * whole dump (docs/setup-networks.md, "What a change costs"). The input is the output of `ip`, which the agent
 * runs itself; the checks below still refuse what the model could misread.
 * - Links and addresses keep only the keys they name: a link of `ip -j -d` has some 25 keys of which the
 *   model uses ten. A bond's or VLAN's `info_data` is kept whole (an object; read.ts checks each value it
 *   uses where it uses it).
 * - Routes and rules keep every key: a rule with a key the model cannot express (fwmark, iif, ...) must be
 *   recognised and left out (read.ts), not read as a plainer rule.
 */
import { z } from 'zod';
import { IpJsonShapeError } from '../errors';
import { ParsedJsonArray } from './json-array-splitter';

/** What a shape check found wrong, and where (`[3].linkinfo.info_data`). */
class ShapeIssue extends Error {
  constructor(
    readonly path: string,
    readonly problem: string,
  ) {
    super(`${path || 'value'}: ${problem}`);
  }
}

/** Checks one element of ip's JSON output and returns it as the backend reads it; throws {@link ShapeIssue}. */
export interface IpJsonShape<T> {
  check(raw: unknown, path: string): T;
  /** The same check for a single value, with the typed error (tests, captured output). */
  parse(raw: unknown): T;
}

function shape<T>(check: (raw: unknown, path: string) => T): IpJsonShape<T> {
  return {
    check,
    parse(raw: unknown): T {
      try {
        return check(raw, '');
      } catch (err) {
        if (err instanceof ShapeIssue) throw new IpJsonShapeError('value', err.message);
        throw err;
      }
    },
  };
}

type Fields = Record<string, unknown>;

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}

function object(raw: unknown, path: string): Fields {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ShapeIssue(path, `expected an object, got ${kindOf(raw)}`);
  return raw as Fields;
}

function string(o: Fields, key: string, path: string): string {
  const value = o[key];
  if (typeof value !== 'string') throw new ShapeIssue(`${path}.${key}`, `expected a string, got ${kindOf(value)}`);
  return value;
}

function optionalString(o: Fields, key: string, path: string): string | undefined {
  return o[key] === undefined ? undefined : string(o, key, path);
}

function number(o: Fields, key: string, path: string): number {
  const value = o[key];
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw new ShapeIssue(`${path}.${key}`, `expected a number, got ${kindOf(value)}`);
  return value;
}

function optionalNumber(o: Fields, key: string, path: string): number | undefined {
  return o[key] === undefined ? undefined : number(o, key, path);
}

function array(o: Fields, key: string, path: string): unknown[] {
  const value = o[key];
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new ShapeIssue(`${path}.${key}`, `expected an array, got ${kindOf(value)}`);
  return value;
}

function strings(o: Fields, key: string, path: string): string[] {
  const values = array(o, key, path);
  for (let i = 0; i < values.length; i++) {
    if (typeof values[i] !== 'string') throw new ShapeIssue(`${path}.${key}[${i}]`, `expected a string, got ${kindOf(values[i])}`);
  }
  return values as string[];
}

/** Sets `key` only when defined: the model tells a missing field from one that is present. */
function put<T extends object, K extends keyof T>(target: T, key: K, value: T[K] | undefined): void {
  if (value !== undefined) target[key] = value;
}

export interface IpLinkJson {
  /** Tells a renamed link apart from a new one (read.ts). */
  ifindex?: number;
  ifname: string;
  flags: string[];
  mtu: number;
  operstate?: string;
  master?: string;
  link_type?: string;
  address?: string;
  /** The lower link: a VLAN's base (also a veth's peer, which we ignore). `null` when it is in another namespace. */
  link?: string | null;
  linkinfo?: {
    info_kind?: string;
    /** A link's details (bridge, bond, VLAN): an object, taken as it is; read.ts checks the values it uses. */
    info_data?: Record<string, unknown>;
    info_slave_kind?: string;
    /** A port's details in its master (a bond slave's `perm_hwaddr`): an object, taken as it is. */
    info_slave_data?: Record<string, unknown>;
  };
}

function checkLink(raw: unknown, path: string): IpLinkJson {
  const o = object(raw, path);
  const link: IpLinkJson = { ifname: string(o, 'ifname', path), flags: strings(o, 'flags', path), mtu: number(o, 'mtu', path) };
  put(link, 'ifindex', optionalNumber(o, 'ifindex', path));
  put(link, 'operstate', optionalString(o, 'operstate', path));
  put(link, 'master', optionalString(o, 'master', path));
  put(link, 'link_type', optionalString(o, 'link_type', path));
  put(link, 'address', optionalString(o, 'address', path));
  if (o.link === null) link.link = null;
  else put(link, 'link', optionalString(o, 'link', path));
  if (o.linkinfo !== undefined) {
    const infoPath = `${path}.linkinfo`;
    const info = object(o.linkinfo, infoPath);
    const linkinfo: NonNullable<IpLinkJson['linkinfo']> = {};
    put(linkinfo, 'info_kind', optionalString(info, 'info_kind', infoPath));
    if (info.info_data !== undefined) linkinfo.info_data = object(info.info_data, `${infoPath}.info_data`);
    put(linkinfo, 'info_slave_kind', optionalString(info, 'info_slave_kind', infoPath));
    if (info.info_slave_data !== undefined) linkinfo.info_slave_data = object(info.info_slave_data, `${infoPath}.info_slave_data`);
    link.linkinfo = linkinfo;
  }
  return link;
}
export const IpLinkJson = shape(checkLink);

export interface IpAddrInfoJson {
  family: string;
  local?: string;
  prefixlen: number;
  scope?: string;
  /** Seconds; 4294967295 (INFINITY_LIFE_TIME) for static addresses. */
  valid_life_time?: number;
  /**
   * IPv6 flags the kernel sets on the addresses it makes from router advertisements: `mngtmpaddr` on a
   * SLAAC address, `temporary` on a privacy address made from one. Present only when set.
   */
  mngtmpaddr?: boolean;
  temporary?: boolean;
}

function optionalBoolean(o: Fields, key: string, path: string): boolean | undefined {
  const value = o[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') throw new ShapeIssue(`${path}.${key}`, `expected a boolean, got ${kindOf(value)}`);
  return value;
}

function checkAddrInfo(raw: unknown, path: string): IpAddrInfoJson {
  const o = object(raw, path);
  const info: IpAddrInfoJson = { family: string(o, 'family', path), prefixlen: number(o, 'prefixlen', path) };
  put(info, 'local', optionalString(o, 'local', path));
  put(info, 'scope', optionalString(o, 'scope', path));
  put(info, 'valid_life_time', optionalNumber(o, 'valid_life_time', path));
  put(info, 'mngtmpaddr', optionalBoolean(o, 'mngtmpaddr', path));
  put(info, 'temporary', optionalBoolean(o, 'temporary', path));
  return info;
}

function addrInfos(o: Fields, path: string): IpAddrInfoJson[] {
  return array(o, 'addr_info', path).map((info, i) => checkAddrInfo(info, `${path}.addr_info[${i}]`));
}

export interface IpAddrJson {
  ifname: string;
  addr_info: IpAddrInfoJson[];
}
export const IpAddrJson = shape((raw, path): IpAddrJson => {
  const o = object(raw, path);
  return { ifname: string(o, 'ifname', path), addr_info: addrInfos(o, path) };
});

/** `ip -j -d addr show` without a family: every link, as `link show` prints it, with its addresses. */
export interface IpLinkWithAddrJson extends IpLinkJson {
  addr_info: IpAddrInfoJson[];
}
export const IpLinkWithAddrJson = shape((raw, path): IpLinkWithAddrJson => {
  const link = checkLink(raw, path);
  // `addr show` prints addr_info for every link, empty or not: without it ip printed the link alone, and
  // reading that as "no addresses" would be wrong (see KernelStateReader.routeGet in read.ts).
  if ((raw as Fields).addr_info === undefined) throw new ShapeIssue(`${path}.addr_info`, 'expected an array, got undefined');
  return Object.assign(link, { addr_info: addrInfos(raw as Fields, path) });
});

/** A route as `ip -j -d route show` prints it: the fields read.ts uses are checked, every other key is kept. */
export interface IpRouteJson {
  /** Present with `-d`; missing means unicast. */
  type?: string;
  dst: string;
  gateway?: string;
  dev?: string;
  /** Absent for the main table in some listings; a number as a string, or a name from rt_tables. */
  table?: string;
  protocol?: string;
  prefsrc?: string;
  metric?: number;
  [key: string]: unknown;
}
export const IpRouteJson = shape((raw, path): IpRouteJson => {
  const o = object(raw, path);
  string(o, 'dst', path);
  for (const key of ['type', 'gateway', 'dev', 'table', 'protocol', 'prefsrc']) optionalString(o, key, path);
  optionalNumber(o, 'metric', path);
  return o as IpRouteJson;
});

/** A rule as `ip -j rule show` prints it: the fields read.ts uses are checked, every other key is kept. */
export interface IpRuleJson {
  priority: number;
  /** `all`, or an address whose prefix is in `srclen` (absent for a host). */
  src?: string;
  srclen?: number;
  dst?: string;
  dstlen?: number;
  table?: string;
  [key: string]: unknown;
}
export const IpRuleJson = shape((raw, path): IpRuleJson => {
  const o = object(raw, path);
  number(o, 'priority', path);
  for (const key of ['src', 'dst', 'table']) optionalString(o, key, path);
  for (const key of ['srclen', 'dstlen']) optionalNumber(o, key, path);
  return o as IpRuleJson;
});

/** `ip -j -d route get` (one element). Asked once per management-route lookup, so zod's cost does not matter. */
export const IpRouteGetJson = z.array(
  z.looseObject({
    dst: z.string(),
    gateway: z.string().optional(),
    dev: z.string(),
    prefsrc: z.string().optional(),
  }),
);

/**
 * Parses one line of `ip -j -batch` output (a JSON array, or its elements already parsed as ip printed them)
 * against `shape`; with `keep`, only the elements it accepts (it sees them unchecked, so it must not trust
 * their shape).
 */
export function parseIpJsonLine<T>(
  what: string,
  line: string | ParsedJsonArray | undefined,
  elements: IpJsonShape<T>,
  keep?: (raw: unknown) => boolean,
): T[] {
  let raw: unknown;
  if (line instanceof ParsedJsonArray) raw = line.elements;
  else {
    try {
      raw = JSON.parse(line ?? '');
    } catch (err) {
      throw new IpJsonShapeError(what, `not JSON: ${(err as Error).message}`);
    }
  }
  if (!Array.isArray(raw)) throw new IpJsonShapeError(what, `expected an array, got ${kindOf(raw)}`);
  const out: T[] = [];
  try {
    for (let i = 0; i < raw.length; i++) {
      const element: unknown = raw[i];
      if (keep && !keep(element)) continue;
      out.push(elements.check(element, `[${i}]`));
    }
  } catch (err) {
    if (err instanceof ShapeIssue) throw new IpJsonShapeError(what, err.message);
    throw err;
  }
  return out;
}
