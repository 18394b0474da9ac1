/**
 * Wire request → canonical request: every default made explicit, every type normalised (vdsm canonicalize.py's
 * job, without its reads of the live system: what it needs is passed in). Runs before validation, so the
 * validators and the planner only ever see normal forms. Malformed scalars fail here with the VDSM code of
 * the field they belong to.
 */
import { canonicalIP, compressIPv6, isIPv4, isIPv6, netmaskToPrefix, parseCidr } from '../ip';
import {
  DEFAULT_CONNECTIVITY_TIMEOUT_SECONDS,
  type BondAttributes,
  type NetworkAttributes,
  type SetupNetworksParams,
} from '../vdsm/setup-networks';
import { vdsmBoolean } from '../vdsm/boolean';
import { VdsmCode, VdsmError } from '../vdsm/error-codes';
import { canonicalBondOptions } from './bond-options';
import { bridgeOptsString, parseBridgeOpts } from './bridge-options';
import { canonicalHostQos, qosDeviceOf } from './host-qos';
import {
  BootProto,
  isRemove,
  ownEntry,
  topDeviceOf,
  type BlockingDhcpWait,
  type BondConfig,
  type CanonicalOptions,
  type CanonicalRequest,
  type NetworkConfig,
  type RemoveEntry,
  type RunningConfig,
} from './config';

export const DEFAULT_MTU = 1500;

export interface CanonicalizeContext {
  /** The host's current nameservers: VDSM copies them onto a static default-route network given none. */
  currentNameservers: readonly string[];
  running: RunningConfig;
}

function toInt(value: unknown, field: string, code: number): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\s*-?\d+\s*$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isInteger(n)) throw new VdsmError(code, `${field}: expected an integer, got ${JSON.stringify(value)}`);
  return n;
}

export function canonicalizeOptions(options: SetupNetworksParams['options']): CanonicalOptions {
  return {
    connectivityCheck: options.connectivityCheck === undefined ? true : vdsmBoolean(options.connectivityCheck, 'options.connectivityCheck'),
    connectivityTimeoutSeconds:
      options.connectivityTimeout === undefined
        ? DEFAULT_CONNECTIVITY_TIMEOUT_SECONDS
        : toInt(options.connectivityTimeout, 'options.connectivityTimeout', VdsmCode.BAD_PARAMS),
    // VDSM tests this key for plain truthiness; strings "false"/"0" are honoured as false here.
    commitOnSuccess: options.commitOnSuccess === undefined ? false : vdsmBoolean(options.commitOnSuccess, 'options.commitOnSuccess'),
  };
}

/**
 * The `bridge_opts` of a network's custom properties. Any other property is refused rather than dropped:
 * VDSM hands the rest to hooks and `ethtool_opts` to ethtool, neither of which this agent has.
 */
function customBridgeOpts(where: string, custom: Record<string, unknown> | undefined): string | undefined {
  if (custom === undefined) return undefined;
  const others = Object.keys(custom).filter((k) => k !== 'bridge_opts');
  if (others.length) {
    throw new VdsmError(
      VdsmCode.BAD_PARAMS,
      `${where}: custom properties other than bridge_opts (${others.join(', ')}) are not supported by this agent; nothing was changed`,
    );
  }
  const opts = custom.bridge_opts;
  if (opts === undefined) return undefined;
  if (typeof opts !== 'string') throw new VdsmError(VdsmCode.BAD_PARAMS, `${where}: custom.bridge_opts must be a string`);
  return opts;
}

export function canonicalizeNetwork(name: string, attrs: NetworkAttributes, ctx: CanonicalizeContext): NetworkConfig | RemoveEntry {
  const where = `network ${name}`;
  if (attrs.remove !== undefined && vdsmBoolean(attrs.remove, `${where}: remove`)) {
    const extra = Object.keys(attrs).filter((k) => k !== 'remove' && k !== 'custom');
    if (extra.length) throw new VdsmError(VdsmCode.BAD_PARAMS, `${where}: "remove" cannot be combined with ${extra.join(', ')}`);
    return { remove: true };
  }
  if (attrs.stp !== undefined && attrs.STP !== undefined)
    throw new VdsmError(VdsmCode.BAD_PARAMS, `${where}: give either stp or STP, not both`);
  if (attrs.netmask !== undefined && attrs.prefix !== undefined)
    throw new VdsmError(VdsmCode.BAD_PARAMS, `${where}: give either netmask or prefix, not both`);
  if (attrs.switch !== undefined && attrs.switch !== 'legacy') {
    throw new VdsmError(
      VdsmCode.BAD_PARAMS,
      `${where}: switch "${attrs.switch}" is not supported by this agent (only "legacy" Linux bridges)`,
    );
  }
  const hostQos = canonicalHostQos(where, attrs.hostQos);
  const bridgeOpts = customBridgeOpts(where, attrs.custom);

  const net: NetworkConfig = {
    mtu: attrs.mtu === undefined ? DEFAULT_MTU : toInt(attrs.mtu, `${where}: mtu`, VdsmCode.BAD_PARAMS),
    bridged: attrs.bridged === undefined ? true : vdsmBoolean(attrs.bridged, `${where}: bridged`),
    stp: false,
    bootproto: BootProto.NONE,
    dhcpv6: attrs.dhcpv6 === undefined ? false : vdsmBoolean(attrs.dhcpv6, `${where}: dhcpv6`),
    ipv6autoconf: attrs.ipv6autoconf === undefined ? false : vdsmBoolean(attrs.ipv6autoconf, `${where}: ipv6autoconf`),
    defaultRoute: attrs.defaultRoute === undefined ? false : vdsmBoolean(attrs.defaultRoute, `${where}: defaultRoute`),
    nameservers: [],
  };
  const stp = attrs.stp ?? attrs.STP;
  if (stp !== undefined) net.stp = vdsmBoolean(stp, `${where}: stp`);
  if (bridgeOpts !== undefined) {
    if (!net.bridged) throw new VdsmError(VdsmCode.BAD_PARAMS, `${where}: bridge_opts needs a bridged network`);
    const options = parseBridgeOpts(where, bridgeOpts);
    if (Object.keys(options).length) net.custom = { bridge_opts: bridgeOptsString(options) };
  }
  if (attrs.nic !== undefined) net.nic = attrs.nic;
  if (attrs.bonding !== undefined) net.bonding = attrs.bonding;
  if (attrs.vlan !== undefined) net.vlan = toInt(attrs.vlan, `${where}: vlan`, VdsmCode.BAD_VLAN);
  if (hostQos) {
    if (!qosDeviceOf(net)) throw new VdsmError(VdsmCode.BAD_PARAMS, `${where}: hostQos needs a nic or bonding to shape`);
    // Its class would be 5001:0, the qdisc's own handle (VDSM numbers a tagged network's class by its id).
    if (net.vlan === 0) throw new VdsmError(VdsmCode.BAD_PARAMS, `${where}: hostQos is not supported on VLAN 0`);
    net.hostQos = hostQos;
  }

  if (attrs.bootproto !== undefined) {
    const proto = attrs.bootproto.toLowerCase();
    if (proto !== BootProto.DHCP && proto !== BootProto.NONE) {
      throw new VdsmError(VdsmCode.BAD_PARAMS, `${where}: bootproto must be "dhcp" or "none", got "${attrs.bootproto}"`);
    }
    net.bootproto = proto;
  }
  if (attrs.ipaddr !== undefined && attrs.ipaddr !== '') {
    if (!isIPv4(attrs.ipaddr)) throw new VdsmError(VdsmCode.BAD_ADDR, `${where}: ipaddr "${attrs.ipaddr}" is not an IPv4 address`);
    net.ipaddr = attrs.ipaddr;
  }
  if (attrs.netmask !== undefined && attrs.netmask !== '') {
    const prefix = netmaskToPrefix(attrs.netmask);
    if (prefix === null) throw new VdsmError(VdsmCode.BAD_ADDR, `${where}: netmask "${attrs.netmask}" is not a valid IPv4 netmask`);
    net.prefix = prefix;
  }
  if (attrs.prefix !== undefined && attrs.prefix !== '') {
    const prefix = toInt(attrs.prefix, `${where}: prefix`, VdsmCode.BAD_ADDR);
    if (prefix < 0 || prefix > 32) throw new VdsmError(VdsmCode.BAD_ADDR, `${where}: prefix ${prefix} is out of range 0..32`);
    net.prefix = prefix;
  }
  if (attrs.gateway !== undefined && attrs.gateway !== '') {
    if (!isIPv4(attrs.gateway)) throw new VdsmError(VdsmCode.BAD_ADDR, `${where}: gateway "${attrs.gateway}" is not an IPv4 address`);
    net.gateway = attrs.gateway;
  }
  if (attrs.ipv6addr !== undefined && attrs.ipv6addr !== '') {
    const cidr = parseCidr(attrs.ipv6addr);
    if (!cidr || !isIPv6(cidr.address) || isIPv4(cidr.address)) {
      throw new VdsmError(VdsmCode.BAD_ADDR, `${where}: ipv6addr "${attrs.ipv6addr}" is not an IPv6 address/prefix`);
    }
    net.ipv6addr = `${cidr.address}/${cidr.prefixLen}`;
  }
  if (attrs.ipv6gateway !== undefined && attrs.ipv6gateway !== '' && canonicalIP(attrs.ipv6gateway) !== '::') {
    if (!isIPv6(attrs.ipv6gateway))
      throw new VdsmError(VdsmCode.BAD_ADDR, `${where}: ipv6gateway "${attrs.ipv6gateway}" is not an IPv6 address`);
    net.ipv6gateway = compressIPv6(attrs.ipv6gateway);
  }
  if (attrs.nameservers !== undefined) {
    for (const ns of attrs.nameservers) {
      if (!isIPv4(ns) && !isIPv6(ns)) throw new VdsmError(VdsmCode.BAD_ADDR, `${where}: nameserver "${ns}" is not an IP address`);
    }
    net.nameservers = attrs.nameservers.map(canonicalIP);
  } else if (net.defaultRoute && net.bootproto !== BootProto.DHCP && net.ipaddr !== undefined) {
    net.nameservers = [...ctx.currentNameservers];
  }
  return net;
}

export function canonicalizeBond(name: string, attrs: BondAttributes): BondConfig | RemoveEntry {
  if (attrs.remove !== undefined && vdsmBoolean(attrs.remove, `bond ${name}: remove`)) return { remove: true };
  if (attrs.switch !== undefined && attrs.switch !== 'legacy') {
    throw new VdsmError(VdsmCode.BAD_PARAMS, `bond ${name}: switch "${attrs.switch}" is not supported by this agent`);
  }
  const bond: BondConfig = {
    nics: [...new Set(attrs.nics ?? [])].sort(),
    options: canonicalBondOptions(name, attrs.options),
  };
  if (attrs.hwaddr) bond.hwaddr = attrs.hwaddr.toLowerCase();
  return bond;
}

/**
 * The whole request. When a network in the request takes the default route, the network currently holding
 * it is added to the request with `defaultRoute: false` (docs/setup-networks.md#default-route-and-dns), so
 * the change is visible in one place.
 */
export function canonicalizeRequest(params: SetupNetworksParams, ctx: CanonicalizeContext): CanonicalRequest {
  const networks: CanonicalRequest['networks'] = {};
  for (const [name, attrs] of Object.entries(params.networks)) networks[name] = canonicalizeNetwork(name, attrs, ctx);
  const bonds: CanonicalRequest['bonds'] = {};
  for (const [name, attrs] of Object.entries(params.bondings)) bonds[name] = canonicalizeBond(name, attrs);

  const takesDefaultRoute = Object.values(networks).some((n) => !('remove' in n) && n.defaultRoute);
  if (takesDefaultRoute) {
    for (const [name, net] of Object.entries(ctx.running.networks)) {
      if (net.defaultRoute && ownEntry(networks, name) === undefined) networks[name] = { ...net, defaultRoute: false, nameservers: [] };
    }
  }
  return {
    networks,
    bonds,
    options: canonicalizeOptions(params.options),
    blockingDhcp: blockingDhcpWaits(params, networks),
    clearsNameservers: clearsNameservers(params, networks) || dropsDefaultRouteNameservers(networks, ctx.running),
  };
}

/**
 * Whether a static default-route network came with `nameservers: []`. A DHCP one names none, so its leases'
 * are written instead (docs/setup-networks.md#dns-from-dhcp).
 */
function clearsNameservers(params: SetupNetworksParams, networks: CanonicalRequest['networks']): boolean {
  return Object.entries(params.networks).some(([name, attrs]) => {
    const net = networks[name];
    return attrs.nameservers?.length === 0 && net !== undefined && !isRemove(net) && net.defaultRoute && net.bootproto !== BootProto.DHCP;
  });
}

/**
 * Whether the network that holds the default route with nameservers is removed, or gives up the role, and no
 * network in the request takes it: VDSM then clears the host's DNS servers (lib/vdsm/network/nmstate/dns.py,
 * an empty list for a running default-route network with nameservers). A network that takes the role over
 * brings its own (docs/setup-networks.md#default-route-and-dns).
 */
function dropsDefaultRouteNameservers(networks: CanonicalRequest['networks'], running: RunningConfig): boolean {
  const holder = Object.entries(running.networks).find(([, net]) => net.defaultRoute);
  if (holder === undefined || holder[1].nameservers.length === 0) return false;
  const entry = ownEntry(networks, holder[0]);
  if (entry === undefined || (!isRemove(entry) && entry.defaultRoute)) return false;
  return !Object.values(networks).some((net) => !isRemove(net) && net.defaultRoute);
}

/**
 * `blockingdhcp`: the verb answers only once each DHCP network it names holds its lease (VDSM's ifup without
 * the background thread, vdsm lib/vdsm/network/configurators/ifcfg.py `_ifup`). On a network without DHCP
 * there is nothing to wait for.
 */
function blockingDhcpWaits(params: SetupNetworksParams, networks: CanonicalRequest['networks']): BlockingDhcpWait[] {
  const waits: BlockingDhcpWait[] = [];
  for (const [name, attrs] of Object.entries(params.networks)) {
    const net = networks[name];
    if (attrs.blockingdhcp === undefined || !net || 'remove' in net || !vdsmBoolean(attrs.blockingdhcp, `network ${name}: blockingdhcp`))
      continue;
    const dev = topDeviceOf(name, net);
    if (dev === undefined) continue;
    if (net.bootproto === BootProto.DHCP) waits.push({ network: name, dev, family: 4 });
    if (net.dhcpv6) waits.push({ network: name, dev, family: 6 });
  }
  return waits;
}
