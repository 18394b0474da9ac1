/**
 * The canonical, typed form of networks and bonds: what the agent keeps as its running config, persists as
 * its safe config, and plans from. Every default is explicit (VDSM's canonicalize habit), so the validators and the
 * planner only ever see normal forms.
 */
import type { Family, KernelState } from '../net-state';
import type { HostQos } from './host-qos';
import { compareNames } from '../name-order';

export const BootProto = { NONE: 'none', DHCP: 'dhcp' } as const;
export type BootProto = (typeof BootProto)[keyof typeof BootProto];

export interface NetworkConfig {
  /** Exactly one of `nic` / `bonding`, except for a nic-less bridged network. */
  nic?: string;
  bonding?: string;
  /** 802.1Q tag; the network then sits on `<nic|bonding>.<vlan>`. */
  vlan?: number;
  /** @default 1500 */
  mtu: number;
  /** VM network: a Linux bridge named after the network. @default true */
  bridged: boolean;
  /** Only meaningful when bridged. @default false */
  stp: boolean;
  /** @default 'none' */
  bootproto: BootProto;
  ipaddr?: string;
  prefix?: number;
  gateway?: string;
  /** `address/prefix`, compressed. */
  ipv6addr?: string;
  ipv6gateway?: string;
  /** @default false */
  dhcpv6: boolean;
  /** @default false */
  ipv6autoconf: boolean;
  /** Holds the host's default route. At most one network at a time. @default false */
  defaultRoute: boolean;
  /** Only on the default-route network. @default [] */
  nameservers: string[];
  /** Bridge options etc., e.g. `bridge_opts`. */
  custom?: Record<string, string>;
  /** Outbound QoS on the base device (model/network/host-qos.ts). */
  hostQos?: HostQos;
}

export interface BondConfig {
  /** Sorted slave NIC names. */
  nics: string[];
  /** Canonical option string, `mode=` first, e.g. `mode=4 miimon=100`. */
  options: string;
  hwaddr?: string;
}

export interface RunningConfig {
  networks: Record<string, NetworkConfig>;
  bonds: Record<string, BondConfig>;
  /**
   * NICs a network left, sorted: their IPv6 stays off until a network takes them again, across boots too, as
   * VDSM keeps a released device through NetworkManager's profile (docs/setup-networks.md#ipv6-per-device).
   * Absent when there are none.
   */
  releasedDevices?: string[];
}

export const EMPTY_CONFIG: RunningConfig = { networks: {}, bonds: {} };

export interface RemoveEntry {
  remove: true;
}

/** A canonical setupNetworks request. */
export interface CanonicalRequest {
  networks: Record<string, NetworkConfig | RemoveEntry>;
  bonds: Record<string, BondConfig | RemoveEntry>;
  options: CanonicalOptions;
  /**
   * The DHCP leases the verb waits for before it answers: one per DHCP family of each network sent with
   * `blockingdhcp` (a property of the request, not of the network, so it is not part of the config).
   */
  blockingDhcp: BlockingDhcpWait[];
  /**
   * The request clears the host's DNS servers, as VDSM does (docs/setup-networks.md#default-route-and-dns):
   * a static default-route network was sent with an empty `nameservers` list, or the network that held the
   * role with nameservers is removed or gives it up to no other network. Without the list, a static
   * default-route network keeps the host's current ones.
   */
  clearsNameservers: boolean;
}

export interface BlockingDhcpWait {
  network: string;
  /** The device that holds the network's addresses (see {@link topDeviceOf}). */
  dev: string;
  family: Family;
}

export interface CanonicalOptions {
  /** Roll back unless `Host.confirmConnectivity` arrives after the apply. @default true */
  connectivityCheck: boolean;
  /** @default 4 (seconds) */
  connectivityTimeoutSeconds: number;
  /** Persist as safe config right after a confirmed apply. @default false */
  commitOnSuccess: boolean;
}

export function isRemove(entry: NetworkConfig | BondConfig | RemoveEntry): entry is RemoveEntry {
  return 'remove' in entry && entry.remove === true;
}

/** The device carrying the network below any bridge: `eth0`, `bond0`, or `bond0.100`. */
export function southboundOf(net: NetworkConfig): string | undefined {
  const base = net.nic ?? net.bonding;
  if (!base) return undefined;
  return net.vlan === undefined ? base : `${base}.${net.vlan}`;
}

/** The device holding the network's IP configuration: the bridge when bridged, else the southbound device. */
export function topDeviceOf(name: string, net: NetworkConfig): string | undefined {
  return net.bridged ? name : southboundOf(net);
}

/**
 * `record[key]` when `key` is one of the record's own entries. Names come from the wire, and a network may be
 * called `constructor` or `toString`, which every plain object inherits: a bare `record[key]` would find one.
 */
export function ownEntry<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

/** Applies a canonical request to a running config (removals, replacements, default-route exclusivity). */
export function mergeRunningConfig(running: RunningConfig, request: CanonicalRequest): RunningConfig {
  const networks: Record<string, NetworkConfig> = { ...running.networks };
  const bonds: Record<string, BondConfig> = { ...running.bonds };
  for (const [name, entry] of Object.entries(request.networks)) {
    if (isRemove(entry)) delete networks[name];
    else networks[name] = entry;
  }
  for (const [name, entry] of Object.entries(request.bonds)) {
    if (isRemove(entry)) delete bonds[name];
    else bonds[name] = entry;
  }
  const newOwner = Object.entries(request.networks).find(([, e]) => !isRemove(e) && e.defaultRoute)?.[0];
  if (newOwner) {
    for (const [name, net] of Object.entries(networks)) {
      if (name !== newOwner && net.defaultRoute) networks[name] = { ...net, defaultRoute: false, nameservers: [] };
    }
  }
  const released = new Set([...(running.releasedDevices ?? []), ...ipv6DecidedNics(running)]);
  for (const nic of ipv6DecidedNics({ networks })) released.delete(nic);
  const releasedDevices = [...released].sort(compareNames);
  return { networks: sortKeys(networks), bonds: sortKeys(bonds), ...(releasedDevices.length ? { releasedDevices } : {}) };
}

/**
 * The NICs whose IPv6 a network decides: a bridge's port, or a bridgeless network's own device. (A VLAN's
 * base and a bond's slaves are no network's device; the VLAN and bond devices themselves are created by the
 * config and deleted with it.)
 */
function ipv6DecidedNics(config: Pick<RunningConfig, 'networks'>): string[] {
  return Object.values(config.networks).flatMap((net) => (net.nic !== undefined && net.vlan === undefined ? [net.nic] : []));
}

function sortKeys<T>(record: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => compareNames(a, b)));
}

/**
 * The part of a (possibly unsafe) running config that exists in the kernel after a boot: networks whose
 * bridge or VLAN device is there. Releasing the others would strip addresses the OS gave the NICs.
 */
export function presentPart(running: RunningConfig, current: KernelState): RunningConfig {
  const exists = (name: string) => current.links.some((l) => l.name === name);
  const networks = Object.fromEntries(
    Object.entries(running.networks).filter(([name, net]) =>
      net.bridged ? exists(name) : net.vlan !== undefined ? exists(southboundOf(net) ?? '') : false,
    ),
  );
  const bonds = Object.fromEntries(Object.entries(running.bonds).filter(([name]) => exists(name)));
  return { networks, bonds };
}
