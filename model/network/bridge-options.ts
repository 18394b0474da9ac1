/**
 * A bridged network's `custom.bridge_opts` (`"multicast_snooping=0 hash_max=8192"`): the Linux bridge's own
 * options, by the names of its sysfs files (`/sys/class/net/<bridge>/bridge/<name>`), which is how VDSM
 * writes them (lib/vdsm/network/link/bridge.py) and how the engine's custom property names them.
 *
 * The agent sets them through iproute2 (`ip link set dev <bridge> type bridge <name> <value>`), which works
 * in any network namespace, and reads them back from `ip -j -d link`; this table maps the three names.
 * Only numeric options are accepted. Left out: `stp_state` (the network's `stp` says it), `vlan_filtering`
 * and the other VLAN options (the agent's bridges do not filter), `group_addr`, `hash_elasticity` (the
 * kernel ignores it since 5.0) and the read-only timers and identifiers.
 */
import { VdsmCode, VdsmError } from '../vdsm/error-codes';

interface BridgeOption {
  /** The option's name after `ip link ... type bridge`. */
  ip: string;
  /** Its key in `ip -j -d link`'s `info_data`. */
  json: string;
  /** Largest value the kernel's attribute holds (or, for a switch, accepts). */
  max: number;
  /**
   * A time in hundredths of a second (the kernel's clock_t). The kernel keeps it in jiffies, so a value can
   * read back one hundredth lower than it was written (250 Hz: 3125 is stored as 7812 jiffies, read as 3124).
   */
  centiseconds?: true;
}

const U32 = 0xffff_ffff;
const SWITCH = 1;

/** The options hostprov sets and reports, by sysfs name. */
export const BRIDGE_OPTIONS: Readonly<Record<string, BridgeOption>> = {
  ageing_time: { ip: 'ageing_time', json: 'ageing_time', max: U32, centiseconds: true },
  forward_delay: { ip: 'forward_delay', json: 'forward_delay', max: U32, centiseconds: true },
  group_fwd_mask: { ip: 'group_fwd_mask', json: 'group_fwd_mask', max: 0xffff },
  hash_max: { ip: 'mcast_hash_max', json: 'mcast_hash_max', max: U32 },
  hello_time: { ip: 'hello_time', json: 'hello_time', max: U32, centiseconds: true },
  max_age: { ip: 'max_age', json: 'max_age', max: U32, centiseconds: true },
  multicast_igmp_version: { ip: 'mcast_igmp_version', json: 'mcast_igmp_version', max: 3 },
  multicast_last_member_count: { ip: 'mcast_last_member_count', json: 'mcast_last_member_cnt', max: U32 },
  multicast_last_member_interval: {
    ip: 'mcast_last_member_interval',
    json: 'mcast_last_member_intvl',
    max: U32,
    centiseconds: true,
  },
  multicast_membership_interval: { ip: 'mcast_membership_interval', json: 'mcast_membership_intvl', max: U32, centiseconds: true },
  multicast_mld_version: { ip: 'mcast_mld_version', json: 'mcast_mld_version', max: 2 },
  multicast_querier: { ip: 'mcast_querier', json: 'mcast_querier', max: SWITCH },
  multicast_querier_interval: { ip: 'mcast_querier_interval', json: 'mcast_querier_intvl', max: U32, centiseconds: true },
  multicast_query_interval: { ip: 'mcast_query_interval', json: 'mcast_query_intvl', max: U32, centiseconds: true },
  multicast_query_response_interval: {
    ip: 'mcast_query_response_interval',
    json: 'mcast_query_response_intvl',
    max: U32,
    centiseconds: true,
  },
  multicast_query_use_ifaddr: { ip: 'mcast_query_use_ifaddr', json: 'mcast_query_use_ifaddr', max: SWITCH },
  multicast_router: { ip: 'mcast_router', json: 'mcast_router', max: 2 },
  multicast_snooping: { ip: 'mcast_snooping', json: 'mcast_snooping', max: SWITCH },
  multicast_startup_query_count: { ip: 'mcast_startup_query_count', json: 'mcast_startup_query_cnt', max: U32 },
  multicast_startup_query_interval: {
    ip: 'mcast_startup_query_interval',
    json: 'mcast_startup_query_intvl',
    max: U32,
    centiseconds: true,
  },
  multicast_stats_enabled: { ip: 'mcast_stats_enabled', json: 'mcast_stats_enabled', max: SWITCH },
  nf_call_arptables: { ip: 'nf_call_arptables', json: 'nf_call_arptables', max: SWITCH },
  nf_call_ip6tables: { ip: 'nf_call_ip6tables', json: 'nf_call_ip6tables', max: SWITCH },
  nf_call_iptables: { ip: 'nf_call_iptables', json: 'nf_call_iptables', max: SWITCH },
  no_linklocal_learn: { ip: 'no_linklocal_learn', json: 'no_linklocal_learn', max: SWITCH },
  priority: { ip: 'priority', json: 'priority', max: 0xffff },
};

/** The option of this sysfs name, or undefined (also for names such as `__proto__` or `toString`). */
export function bridgeOption(name: string): BridgeOption | undefined {
  return Object.hasOwn(BRIDGE_OPTIONS, name) ? BRIDGE_OPTIONS[name] : undefined;
}

/** A value in canonical form (decimal, no leading zeros), or null when it is not a whole number in range. */
export function canonicalBridgeOptionValue(name: string, value: string): string | null {
  const option = bridgeOption(name);
  if (!option || !/^[0-9]{1,20}$/.test(value)) return null;
  const n = Number(value);
  return Number.isSafeInteger(n) && n <= option.max ? String(n) : null;
}

/**
 * Parses a `bridge_opts` string into canonical options, sorted by name (VDSM canonicalizes the string the
 * same way, lib/vdsm/network/canonicalize.py).
 * @throws VdsmError(21) for an item that is not `name=value`, a name given twice, an option this agent does not
 * set, or a value out of the option's range.
 */
export function parseBridgeOpts(where: string, opts: string): Record<string, string> {
  const parsed = new Map<string, string>();
  for (const item of opts.split(/\s+/).filter(Boolean)) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new VdsmError(VdsmCode.BAD_PARAMS, `${where}: bridge_opts item "${item}" is not name=value`);
    const name = item.slice(0, eq);
    const value = item.slice(eq + 1);
    if (!bridgeOption(name)) {
      throw new VdsmError(
        VdsmCode.BAD_PARAMS,
        `${where}: bridge_opts "${name}" is not a bridge option this agent sets (${Object.keys(BRIDGE_OPTIONS).join(', ')})`,
      );
    }
    if (parsed.has(name)) throw new VdsmError(VdsmCode.BAD_PARAMS, `${where}: bridge_opts names "${name}" twice`);
    const canonical = canonicalBridgeOptionValue(name, value);
    if (canonical === null) {
      throw new VdsmError(
        VdsmCode.BAD_PARAMS,
        `${where}: bridge_opts ${name}="${value}" is not a whole number from 0 to ${bridgeOption(name)?.max}`,
      );
    }
    parsed.set(name, canonical);
  }
  return Object.fromEntries([...parsed].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** The canonical `bridge_opts` string of parsed options. */
export function bridgeOptsString(options: Record<string, string>): string {
  return Object.entries(options)
    .map(([name, value]) => `${name}=${value}`)
    .join(' ');
}

/** [sysfs name, `info_data` key] of every option, in the table's order: every read of a bridge walks it. */
const INFO_DATA_KEYS: ReadonlyArray<readonly [string, string]> = Object.entries(BRIDGE_OPTIONS).map(([name, o]) => [name, o.json]);

/** The options in a bridge's `info_data` (`ip -j -d link`), by sysfs name, as decimal strings. */
export function bridgeOptionsFromInfoData(data: Readonly<Record<string, unknown>>): Record<string, string> {
  const options: Record<string, string> = {};
  for (const [name, key] of INFO_DATA_KEYS) {
    const raw = data[key];
    if (typeof raw === 'number') {
      if (Number.isSafeInteger(raw) && raw >= 0) options[name] = `${raw}`;
    } else if (typeof raw === 'string' && raw !== '') {
      // group_fwd_mask comes as a hex string ("0x4000"); Number reads both forms.
      const n = Number(raw);
      if (Number.isSafeInteger(n) && n >= 0) options[name] = `${n}`;
    }
  }
  return options;
}

/** Whether the kernel's value `have` is the value `want` that was set (a time may read one hundredth lower). */
export function bridgeOptionHolds(name: string, want: string, have: string | undefined): boolean {
  if (have === undefined) return false;
  if (want === have) return true;
  return bridgeOption(name)?.centiseconds === true && Math.abs(Number(want) - Number(have)) <= 1;
}

/** The options of `want` the kernel's `have` does not hold. */
export function bridgeOptionsToChange(
  want: Readonly<Record<string, string>>,
  have: Readonly<Record<string, string>> | undefined,
): Record<string, string> {
  return Object.fromEntries(Object.entries(want).filter(([name, value]) => !bridgeOptionHolds(name, value, have?.[name])));
}
