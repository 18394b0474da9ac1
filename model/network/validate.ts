/**
 * Validation of a canonical setupNetworks request against the running config and the kernel state (both
 * passed in: no reads of the live system, so every rule is unit-testable). The first violation wins, as in
 * VDSM, and carries VDSM's error code (docs/setup-networks.md#canonical-form-and-validation) with a message naming the entity.
 */
import type { KernelState, LinkState } from '../net-state';
import { VdsmCode, VdsmError } from '../vdsm/error-codes';
import { BootProto, isRemove, ownEntry, type BondConfig, type CanonicalRequest, type NetworkConfig, type RunningConfig } from './config';

export const MAX_DEVICE_NAME = 15;
/**
 * A device name we create: the characters the engine allows in network names, and nothing an `ip -batch`
 * line could misread (a leading `-` would be taken for an option). An allow-list, so that everything the
 * batch renderer would refuse is refused here first, with code 27 rather than as an internal error.
 */
const DEVICE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_-]*$/;
const BOND_NAME = /^bond\w+$/;

export interface ValidationContext {
  running: RunningConfig;
  /** The config as it will be after this request (see `mergeRunningConfig`). */
  next: RunningConfig;
  current: KernelState;
  /** Link types the kernel cannot create here, with the kernel's reason. */
  unsupportedLinkTypes: Partial<Record<'bond' | 'vlan', string>>;
}

export function validateRequest(request: CanonicalRequest, ctx: ValidationContext): void {
  validateOptions(request);
  const defaultRouteNets = Object.entries(request.networks).filter(([, e]) => !isRemove(e) && e.defaultRoute);
  if (defaultRouteNets.length > 1) {
    throw new VdsmError(
      VdsmCode.BAD_PARAMS,
      `only one network may hold the default route; got ${defaultRouteNets.map(([n]) => n).join(', ')}`,
    );
  }
  for (const [name, entry] of Object.entries(request.bonds)) {
    if (isRemove(entry)) validateBondRemoval(name, ctx);
    else validateBond(name, entry, ctx);
  }
  for (const [name, entry] of Object.entries(request.networks)) {
    if (isRemove(entry)) {
      if (!ownEntry(ctx.running.networks, name))
        throw new VdsmError(VdsmCode.BAD_BRIDGE, `cannot remove network ${name}: it does not exist`);
    } else {
      validateNetwork(name, entry, ctx);
    }
  }
  validateDeviceSharing(ctx.next);
}

function validateOptions(request: CanonicalRequest): void {
  const t = request.options.connectivityTimeoutSeconds;
  if (t < 0 || t > 86_400) throw new VdsmError(VdsmCode.BAD_PARAMS, `options.connectivityTimeout ${t} is out of range 0..86400 seconds`);
}

function link(current: KernelState, name: string): LinkState | undefined {
  return current.links.find((l) => l.name === name);
}

export function validateDeviceName(kind: string, name: string, code: number): void {
  if (name.length > MAX_DEVICE_NAME || !DEVICE_NAME.test(name)) {
    throw new VdsmError(
      code,
      `${kind} name ${JSON.stringify(name)} is invalid: 1..${MAX_DEVICE_NAME} characters of A-Z, a-z, 0-9, _ and -, not starting with -`,
    );
  }
}

function validateNetwork(name: string, net: NetworkConfig, ctx: ValidationContext): void {
  const where = `network ${name}`;
  if (net.bridged) {
    validateDeviceName('bridge (network)', name, VdsmCode.BAD_BRIDGE);
    const existing = link(ctx.current, name);
    if (existing && !ownEntry(ctx.running.networks, name)) {
      throw new VdsmError(
        VdsmCode.BAD_BRIDGE,
        `${where}: a ${existing.kind} named ${name} already exists on the host and is not managed by this agent; remove it first`,
      );
    }
  }
  if (net.nic !== undefined && net.bonding !== undefined)
    throw new VdsmError(VdsmCode.BAD_PARAMS, `${where}: give either nic or bonding, not both`);
  if (!net.bridged && net.nic === undefined && net.bonding === undefined) {
    throw new VdsmError(VdsmCode.BAD_PARAMS, `${where}: a bridgeless network needs a nic or a bonding`);
  }
  if (net.vlan !== undefined) {
    if (net.vlan < 0 || net.vlan > 4094) throw new VdsmError(VdsmCode.BAD_VLAN, `${where}: vlan ${net.vlan} is out of range 0..4094`);
    if (net.nic === undefined && net.bonding === undefined)
      throw new VdsmError(VdsmCode.BAD_VLAN, `${where}: a vlan needs a nic or a bonding to sit on`);
    const missing = ctx.unsupportedLinkTypes.vlan;
    if (missing)
      throw new VdsmError(VdsmCode.BAD_VLAN, `${where}: this host's kernel has no 802.1Q VLAN support (${missing}); nothing was changed`);
  }
  if (!Number.isInteger(net.mtu) || net.mtu < 68 || net.mtu > 65_535)
    throw new VdsmError(VdsmCode.BAD_PARAMS, `${where}: mtu ${net.mtu} is out of range 68..65535`);
  validateIp(where, net);
  if (net.nameservers.length && !net.defaultRoute) {
    throw new VdsmError(VdsmCode.BAD_PARAMS, `${where}: nameservers are allowed only on the default-route network`);
  }
  if (net.nic !== undefined) {
    const nic = link(ctx.current, net.nic);
    if (!nic || nic.kind !== 'nic')
      throw new VdsmError(VdsmCode.BAD_NIC, `${where}: nic ${net.nic} does not exist on the host${nic ? ` (it is a ${nic.kind})` : ''}`);
    const bondOwner = Object.entries(ctx.next.bonds).find(([, b]) => b.nics.includes(net.nic ?? ''))?.[0];
    if (bondOwner) throw new VdsmError(VdsmCode.USED_NIC, `${where}: nic ${net.nic} is a slave of bond ${bondOwner}`);
    if (nic.master && link(ctx.current, nic.master)?.kind === 'bond' && !ownEntry(ctx.running.bonds, nic.master)) {
      throw new VdsmError(VdsmCode.USED_NIC, `${where}: nic ${net.nic} is enslaved to bond ${nic.master}`);
    }
  }
  if (net.bonding !== undefined && !ownEntry(ctx.next.bonds, net.bonding)) {
    const existing = link(ctx.current, net.bonding);
    if (!existing || existing.kind !== 'bond') {
      throw new VdsmError(VdsmCode.BAD_BONDING, `${where}: bonding ${net.bonding} does not exist and is not defined in this request`);
    }
  }
}

function validateIp(where: string, net: NetworkConfig): void {
  if (net.bootproto === BootProto.DHCP && net.ipaddr !== undefined) {
    throw new VdsmError(VdsmCode.BAD_ADDR, `${where}: a static ipaddr cannot be combined with bootproto dhcp`);
  }
  if (net.ipaddr === undefined && (net.prefix !== undefined || net.gateway !== undefined)) {
    throw new VdsmError(VdsmCode.BAD_ADDR, `${where}: netmask/prefix or gateway given without ipaddr`);
  }
  if (net.ipaddr !== undefined && net.prefix === undefined) {
    throw new VdsmError(VdsmCode.BAD_ADDR, `${where}: ipaddr ${net.ipaddr} needs a netmask or prefix`);
  }
  if (net.ipv6addr !== undefined && net.dhcpv6) {
    throw new VdsmError(VdsmCode.BAD_ADDR, `${where}: a static ipv6addr cannot be combined with dhcpv6`);
  }
  // VDSM lets the static address win silently (lib/vdsm/network/nmstate/ip.py); the engine never sends both.
  if (net.ipv6addr !== undefined && net.ipv6autoconf) {
    throw new VdsmError(VdsmCode.BAD_ADDR, `${where}: a static ipv6addr cannot be combined with ipv6autoconf`);
  }
  if (net.ipv6gateway !== undefined && net.ipv6addr === undefined && !net.dhcpv6 && !net.ipv6autoconf) {
    throw new VdsmError(VdsmCode.BAD_ADDR, `${where}: ipv6gateway given without ipv6addr, dhcpv6 or ipv6autoconf`);
  }
}

function validateBond(name: string, bond: BondConfig, ctx: ValidationContext): void {
  if (!BOND_NAME.test(name) || name.length > MAX_DEVICE_NAME) {
    throw new VdsmError(
      VdsmCode.BAD_BONDING,
      `bond name "${name}" is invalid: must match bond\\w+ and be at most ${MAX_DEVICE_NAME} characters`,
    );
  }
  const missing = ctx.unsupportedLinkTypes.bond;
  if (missing)
    throw new VdsmError(VdsmCode.BAD_BONDING, `bond ${name}: this host's kernel has no bonding support (${missing}); nothing was changed`);
  if (bond.nics.length === 0) throw new VdsmError(VdsmCode.BAD_PARAMS, `bond ${name}: nics are required`);
  for (const nicName of bond.nics) {
    const nic = link(ctx.current, nicName);
    if (!nic || nic.kind !== 'nic')
      throw new VdsmError(
        VdsmCode.BAD_NIC,
        `bond ${name}: nic ${nicName} does not exist on the host${nic ? ` (it is a ${nic.kind})` : ''}`,
      );
    const other = Object.entries(ctx.next.bonds).find(([b, cfg]) => b !== name && cfg.nics.includes(nicName))?.[0];
    if (other) throw new VdsmError(VdsmCode.USED_NIC, `bond ${name}: nic ${nicName} is already a slave of bond ${other}`);
    const net = Object.entries(ctx.next.networks).find(([, n]) => n.nic === nicName)?.[0];
    if (net) throw new VdsmError(VdsmCode.USED_NIC, `bond ${name}: nic ${nicName} carries network ${net} and cannot be a slave`);
  }
}

function validateBondRemoval(name: string, ctx: ValidationContext): void {
  if (!ownEntry(ctx.running.bonds, name)) throw new VdsmError(VdsmCode.BAD_BONDING, `cannot remove bond ${name}: it does not exist`);
  const user = Object.entries(ctx.next.networks).find(([, n]) => n.bonding === name)?.[0];
  if (user) throw new VdsmError(VdsmCode.USED_BOND, `cannot remove bond ${name}: network ${user} still uses it`);
}

/** Each NIC or bond carries at most one untagged network, and a given VLAN id only once. */
function validateDeviceSharing(next: RunningConfig): void {
  const seen = new Map<string, string>();
  for (const [name, net] of Object.entries(next.networks)) {
    const base = net.nic ?? net.bonding;
    if (!base) continue;
    const key = `${base}/${net.vlan ?? 'untagged'}`;
    const other = seen.get(key);
    if (other) {
      const code = net.bonding ? VdsmCode.USED_BOND : VdsmCode.USED_NIC;
      const what = net.vlan === undefined ? 'an untagged network' : `vlan ${net.vlan}`;
      throw new VdsmError(code, `network ${name}: ${base} already carries ${what} (network ${other})`);
    }
    seen.set(key, name);
  }
}
