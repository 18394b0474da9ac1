/**
 * Checks every value before it becomes a token of an `ip -batch` line.
 *
 * A batch line is split on whitespace by iproute2 (and `#` starts a comment, a quote groups words), so a
 * value with a space, quote or newline could smuggle another argument or another command into the batch.
 * Every token we render therefore comes from one of these functions, which either return it unchanged or
 * throw {@link UnsafeBatchArgumentError}. They also reject what iproute2 would reject with `invarg()`: that
 * aborts the whole batch without a "Command failed -:N" line, so we could no longer name the failed op.
 */
import { isIPv4, isIPv6 } from 'node:net';
import type { Family } from '../../../model/net-state';
import { bondEnumOptionNames } from '../../../model/network/bond-options';
import { bridgeOption, canonicalBridgeOptionValue } from '../../../model/network/bridge-options';
import { UnsafeBatchArgumentError } from '../errors';

/** Kernel interface names: at most IFNAMSIZ-1 bytes; we also keep to characters that need no quoting. */
const IFNAME_RE = /^[A-Za-z0-9_.:-]{1,15}$/;
const MAC_RE = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;
const U32_MAX = 0xffff_ffff;

export function checkedIfname(field: string, value: unknown): string {
  if (typeof value !== 'string' || !IFNAME_RE.test(value) || value === '.' || value === '..' || value.startsWith('-')) {
    throw new UnsafeBatchArgumentError(
      field,
      value,
      'interface names are 1-15 characters of [A-Za-z0-9_.:-], not "." or "..", not starting with "-"',
    );
  }
  return value;
}

export function checkedMac(field: string, value: unknown): string {
  if (typeof value !== 'string' || !MAC_RE.test(value))
    throw new UnsafeBatchArgumentError(field, value, 'expected a MAC address aa:bb:cc:dd:ee:ff');
  return value.toLowerCase();
}

export function checkedInteger(field: string, value: unknown, min: number, max: number): string {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new UnsafeBatchArgumentError(field, value, `expected an integer in [${min}, ${max}]`);
  }
  return String(value);
}

export function familyOfAddress(value: string): Family | null {
  if (isIPv4(value)) return 4;
  if (isIPv6(value) && !value.includes('%')) return 6;
  return null;
}

/** A plain address of `family` (no prefix, no zone). */
export function checkedAddress(field: string, value: unknown, family: Family): string {
  if (typeof value !== 'string' || familyOfAddress(value) !== family)
    throw new UnsafeBatchArgumentError(field, value, `expected an IPv${family} address`);
  return value;
}

/** `address/prefix` of `family`, prefix explicit. */
export function checkedCidr(field: string, value: unknown, family: Family): string {
  const [address, prefix, ...rest] = typeof value === 'string' ? value.split('/') : [];
  const maxPrefix = family === 4 ? 32 : 128;
  if (
    rest.length > 0 ||
    address === undefined ||
    prefix === undefined ||
    familyOfAddress(address) !== family ||
    !/^\d{1,3}$/.test(prefix) ||
    Number(prefix) > maxPrefix
  ) {
    throw new UnsafeBatchArgumentError(field, value, `expected an IPv${family} CIDR with an explicit prefix (/0-${maxPrefix})`);
  }
  return `${address}/${Number(prefix)}`;
}

export function checkedTable(field: string, value: unknown): string {
  // 0 is RT_TABLE_UNSPEC: iproute2 would quietly turn it into "main" for routes; never what a plan means.
  return checkedInteger(field, value, 1, U32_MAX);
}

export function checkedU32(field: string, value: unknown): string {
  return checkedInteger(field, value, 0, U32_MAX);
}

/** Route protocol: a name from rt_protos (`static`, `dhcp`, ...) or a number. */
export function checkedProtocol(field: string, value: unknown): string {
  if (typeof value === 'string' && /^[a-z][a-z0-9_-]{0,31}$/.test(value)) return value;
  if (typeof value === 'string' && /^\d{1,3}$/.test(value) && Number(value) <= 255) return value;
  throw new UnsafeBatchArgumentError(field, value, 'expected a route protocol name (e.g. static) or a number 0-255');
}

// ---------------------------------------------------------------------------------------------------
// Bond options, as `ip link add ... type bond` spells them (iproute2 ip/iplink_bond.c).

const BOND_MODES = ['balance-rr', 'active-backup', 'balance-xor', 'broadcast', '802.3ad', 'balance-tlb', 'balance-alb'] as const;

const BOND_NUMERIC_OPTIONS = new Set([
  'miimon',
  'updelay',
  'downdelay',
  'peer_notify_delay',
  'use_carrier',
  'arp_interval',
  'resend_igmp',
  'num_grat_arp',
  'num_unsol_na',
  'all_slaves_active',
  'min_links',
  'lp_interval',
  'packets_per_slave',
  'tlb_dynamic_lb',
  'ad_user_port_key',
  'ad_actor_sys_prio',
  'missed_max',
  'coupled_control',
]);

const BOND_IFNAME_OPTIONS = new Set(['primary', 'active_slave']);

export function checkedBondMode(field: string, value: unknown): string {
  if (typeof value === 'string' && (BOND_MODES as readonly string[]).includes(value)) return value;
  // VDSM and sysfs speak numbers ("mode=4"); iproute2 accepts the index too.
  if (typeof value === 'string' && /^[0-6]$/.test(value)) return value;
  throw new UnsafeBatchArgumentError(field, value, `expected a bond mode (${BOND_MODES.join('|')} or 0-6)`);
}

/**
 * `ip link ... type bridge` tokens for bridge options given by sysfs name, sorted by name: each name must be
 * one the model knows (model/network/bridge-options.ts) and its value a decimal integer in range.
 */
export function checkedBridgeOptions(options: unknown): string[] {
  if (typeof options !== 'object' || options === null || Array.isArray(options))
    throw new UnsafeBatchArgumentError('bridgeOptions', options, 'expected an object of option names and values');
  const tokens: string[] = [];
  for (const [name, value] of Object.entries(options).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const option = bridgeOption(name);
    if (!option) throw new UnsafeBatchArgumentError(`bridgeOptions.${name}`, value, 'not a bridge option hostprov sets');
    if (typeof value !== 'string' || canonicalBridgeOptionValue(name, value) !== value)
      throw new UnsafeBatchArgumentError(`bridgeOptions.${name}`, value, `expected a decimal integer from 0 to ${option.max}`);
    tokens.push(option.ip, value);
  }
  return tokens;
}

/** One `key value` pair of bond options, validated per key. */
export function checkedBondOption(key: string, value: unknown): [string, string] {
  const field = `bondOptions.${key}`;
  if (typeof value !== 'string') throw new UnsafeBatchArgumentError(field, value, 'bond option values are strings');
  const names = bondEnumOptionNames(key);
  if (names) {
    if (names.includes(value) || /^\d{1,2}$/.test(value)) return [key, value];
    throw new UnsafeBatchArgumentError(field, value, `expected one of ${names.join('|')}`);
  }
  if (BOND_NUMERIC_OPTIONS.has(key)) {
    if (/^\d{1,10}$/.test(value) && Number(value) <= U32_MAX) return [key, value];
    throw new UnsafeBatchArgumentError(field, value, 'expected a non-negative integer');
  }
  if (BOND_IFNAME_OPTIONS.has(key)) return [key, checkedIfname(field, value)];
  if (key === 'ad_actor_system') return [key, checkedMac(field, value)];
  if (key === 'arp_ip_target') {
    const targets = value.split(',');
    if (targets.length > 16 || !targets.every((t) => isIPv4(t)))
      throw new UnsafeBatchArgumentError(field, value, 'expected up to 16 comma-separated IPv4 addresses');
    return [key, value];
  }
  if (key === 'ns_ip6_target') {
    const targets = value.split(',');
    if (targets.length > 16 || !targets.every((t) => familyOfAddress(t) === 6))
      throw new UnsafeBatchArgumentError(field, value, 'expected up to 16 comma-separated IPv6 addresses');
    return [key, value];
  }
  if (key === 'mode') throw new UnsafeBatchArgumentError(field, value, 'the bond mode goes in bondMode, not bondOptions');
  throw new UnsafeBatchArgumentError(field, value, `unknown bond option ${JSON.stringify(key)}`);
}
