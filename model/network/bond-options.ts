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
  'mode', 'miimon', 'updelay', 'downdelay', 'peer_notif_delay', 'use_carrier', 'lacp_rate', 'xmit_hash_policy',
  'arp_interval', 'arp_ip_target', 'ns_ip6_target', 'arp_validate', 'arp_all_targets', 'arp_missed_max', 'primary',
  'primary_reselect', 'fail_over_mac', 'ad_select', 'ad_actor_sys_prio', 'ad_user_port_key', 'ad_actor_system',
  'all_slaves_active', 'min_links', 'num_grat_arp', 'num_unsol_na', 'resend_igmp', 'packets_per_slave',
  'lp_interval', 'tlb_dynamic_lb', 'coupled_control', 'missed_max',
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
    if (eq <= 0 || eq === item.length - 1) throw new VdsmError(VdsmCode.BAD_BONDING, `bond ${bond}: malformed option "${item}" (expected key=value)`);
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
