/**
 * Bond option strings (`"mode=4 miimon=100"`): parse, validate, normalise. Kernel names and VDSM's numeric
 * modes both appear on the wire; the canonical form uses the number, with `mode` first.
 */
import { VdsmCode, VdsmError } from '../vdsm/error-codes';

export const BOND_MODES = ['balance-rr', 'active-backup', 'balance-xor', 'broadcast', '802.3ad', 'balance-tlb', 'balance-alb'] as const;

/** VDSM's default when a bond comes without options. */
export const DEFAULT_BOND_OPTIONS = 'mode=0 miimon=100';

/** sysfs bonding options the kernel accepts (Documentation/networking/bonding.rst). */
const KNOWN_OPTIONS = new Set([
  'mode',
  'miimon',
  'updelay',
  'downdelay',
  'peer_notif_delay',
  'use_carrier',
  'lacp_rate',
  'xmit_hash_policy',
  'arp_interval',
  'arp_ip_target',
  'ns_ip6_target',
  'arp_validate',
  'arp_all_targets',
  'arp_missed_max',
  'primary',
  'primary_reselect',
  'fail_over_mac',
  'ad_select',
  'ad_actor_sys_prio',
  'ad_user_port_key',
  'ad_actor_system',
  'all_slaves_active',
  'min_links',
  'num_grat_arp',
  'num_unsol_na',
  'resend_igmp',
  'packets_per_slave',
  'lp_interval',
  'tlb_dynamic_lb',
  'coupled_control',
  'missed_max',
]);

/** Numeric mode ("0".."6") from a number or a kernel name; `null` when unknown. */
export function bondModeNumber(mode: string): string | null {
  if (/^[0-6]$/.test(mode)) return mode;
  const index = (BOND_MODES as readonly string[]).indexOf(mode);
  return index < 0 ? null : String(index);
}

export function bondModeName(mode: string): string | null {
  const n = bondModeNumber(mode);
  return n === null ? null : (BOND_MODES[Number(n)] ?? null);
}

/** Parses and normalises an option string; throws `VdsmError(25)` for unknown keys, malformed items or modes. */
export function canonicalBondOptions(bond: string, options: string | undefined): string {
  const text = (options ?? '').trim() || DEFAULT_BOND_OPTIONS;
  const entries: Array<[string, string]> = [];
  for (const item of text.split(/\s+/)) {
    const eq = item.indexOf('=');
    if (eq <= 0 || eq === item.length - 1)
      throw new VdsmError(VdsmCode.BAD_BONDING, `bond ${bond}: malformed option "${item}" (expected key=value)`);
    const key = item.slice(0, eq);
    const value = item.slice(eq + 1);
    if (!KNOWN_OPTIONS.has(key)) throw new VdsmError(VdsmCode.BAD_BONDING, `bond ${bond}: unknown bonding option "${key}"`);
    if (entries.some(([k]) => k === key)) throw new VdsmError(VdsmCode.BAD_BONDING, `bond ${bond}: option "${key}" given twice`);
    entries.push([key, value]);
  }
  const modeEntry = entries.find(([k]) => k === 'mode');
  const mode = bondModeNumber(modeEntry?.[1] ?? '0');
  if (mode === null) throw new VdsmError(VdsmCode.BAD_BONDING, `bond ${bond}: unknown mode "${modeEntry?.[1]}"`);
  const rest = entries.filter(([k]) => k !== 'mode');
  return [`mode=${mode}`, ...rest.map(([k, v]) => `${k}=${v}`)].join(' ');
}

/** `"mode=4 miimon=100"` → `{ mode: '4', miimon: '100' }` (input assumed canonical). */
export function bondOptionsRecord(options: string): Record<string, string> {
  return Object.fromEntries(
    options
      .split(/\s+/)
      .filter(Boolean)
      .map((item) => {
        const eq = item.indexOf('=');
        return [item.slice(0, eq), item.slice(eq + 1)];
      }),
  );
}

/**
 * Options whose value is one of a fixed set of names; sysfs and iproute2 also accept the numeric index
 * (`xmit_hash_policy=2` is `layer2+3`). The kernel reports the names.
 */
export const BOND_ENUM_OPTIONS: Readonly<Record<string, readonly string[]>> = {
  arp_validate: ['none', 'active', 'backup', 'all', 'filter', 'filter_active', 'filter_backup'],
  arp_all_targets: ['any', 'all'],
  primary_reselect: ['always', 'better', 'failure'],
  fail_over_mac: ['none', 'active', 'follow'],
  xmit_hash_policy: ['layer2', 'layer3+4', 'layer2+3', 'encap2+3', 'encap3+4', 'vlan+srcmac'],
  lacp_rate: ['slow', 'fast'],
  lacp_active: ['off', 'on'],
  ad_select: ['stable', 'bandwidth', 'count'],
};

/**
 * What a bond created with no options has (Linux 5.x/6.x, Documentation/networking/bonding.rst; miimon is
 * 100 because the module sets it when neither miimon nor arp_interval is given). An option at its default
 * is neither reported (VDSM reports only the others) nor restored.
 */
export const BOND_OPTION_DEFAULTS: Readonly<Record<string, string>> = {
  miimon: '100',
  updelay: '0',
  downdelay: '0',
  peer_notify_delay: '0',
  use_carrier: '1',
  arp_interval: '0',
  arp_missed_max: '2',
  missed_max: '2',
  arp_validate: 'none',
  arp_all_targets: 'any',
  arp_ip_target: '',
  ns_ip6_target: '',
  primary: '',
  primary_reselect: 'always',
  fail_over_mac: 'none',
  xmit_hash_policy: 'layer2',
  resend_igmp: '1',
  num_grat_arp: '1',
  num_unsol_na: '1',
  all_slaves_active: '0',
  min_links: '0',
  lp_interval: '1',
  packets_per_slave: '1',
  lacp_active: 'on',
  lacp_rate: 'slow',
  ad_select: 'stable',
  ad_actor_sys_prio: '65535',
  ad_user_port_key: '0',
  ad_actor_system: '00:00:00:00:00:00',
  tlb_dynamic_lb: '1',
  coupled_control: '1',
};

/**
 * The names an enum option takes, or `undefined` for any other key. Own keys only: the key comes from the
 * caller, and one such as `toString` must not find a member of Object.prototype.
 */
export function bondEnumOptionNames(key: string): readonly string[] | undefined {
  return Object.hasOwn(BOND_ENUM_OPTIONS, key) ? BOND_ENUM_OPTIONS[key] : undefined;
}

/** The kernel's spelling of one option value: enum options by name, MACs in lower case. */
export function normalBondOptionValue(key: string, value: string): string {
  const names = bondEnumOptionNames(key);
  if (names && /^\d+$/.test(value)) return names[Number(value)] ?? value;
  return key === 'ad_actor_system' ? value.toLowerCase() : value;
}

/**
 * The options (without `mode`) that differ from a fresh bond's, in the kernel's spelling: what a bond's
 * configuration really consists of. Unknown keys are kept (never silently equal).
 */
export function nonDefaultBondOptions(options: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(options).sort()) {
    if (key === 'mode') continue;
    const value = normalBondOptionValue(key, options[key] ?? '');
    if (!Object.hasOwn(BOND_OPTION_DEFAULTS, key) || BOND_OPTION_DEFAULTS[key] !== value) out[key] = value;
  }
  return out;
}

/**
 * Whether a bond configured as `have` must be deleted and made again to be as `want` says: the kernel
 * changes a bond's mode only while it has no slaves, so the planner makes any bond whose mode or options
 * change anew (model/network/plan/merge.ts), and the desired state keeps its MAC for it (desired-state.ts).
 */
export function bondMadeAgain(
  want: { mode: string; options: Readonly<Record<string, string>> },
  have: { mode: string; options: Readonly<Record<string, string>> } | undefined,
): boolean {
  return have !== undefined && !sameBondConfiguration(want, have);
}

/** True when two bonds are configured alike: same mode, same non-default options. */
export function sameBondConfiguration(
  a: { mode: string; options: Readonly<Record<string, string>> },
  b: { mode: string; options: Readonly<Record<string, string>> },
): boolean {
  if (bondModeNumber(a.mode) !== bondModeNumber(b.mode)) return false;
  const x = nonDefaultBondOptions(a.options);
  const y = nonDefaultBondOptions(b.options);
  const keys = new Set([...Object.keys(x), ...Object.keys(y)]);
  return [...keys].every((k) => x[k] === y[k]);
}
