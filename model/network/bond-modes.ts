/**
 * Which bond modes may carry a VM network (docs/engine-host-networking.md#bond-modes). The engine refuses a
 * VM network on a bond in mode 0 (balance-rr), 5 (balance-tlb) or 6 (balance-alb): they send one
 * bridge's frames from several MACs or ports, which the switch sees as flapping. A missing or unknown mode
 * counts as not allowed. The one predicate for every place that decides this (install-host's devise step,
 * the HostSetupNetworks validation).
 */
import { bondModeNumber } from './bond-options';

/** Numeric modes under which a VM network is allowed: active-backup, balance-xor, broadcast, 802.3ad. */
export const VM_NETWORK_BOND_MODES: readonly string[] = ['1', '2', '3', '4'];

/** True when a bond in `mode` (a number or a kernel name; `undefined`/`null` = not given) may carry a VM network. */
export function bondModeAllowsVmNetwork(mode: string | null | undefined): boolean {
  if (mode === null || mode === undefined) return false;
  const number = bondModeNumber(mode);
  return number !== null && VM_NETWORK_BOND_MODES.includes(number);
}
