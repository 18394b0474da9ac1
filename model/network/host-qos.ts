/**
 * A network's outbound host QoS (`hostQos: {out: {ls, ul, rt}}`), as VDSM shapes it with tc
 * (lib/vdsm/network/configurators/qos.py): on the network's base device (its NIC or bond), an HFSC root
 * qdisc `5001:` whose default class is `5001:1388`; per network a class, `5001:<VLAN id>` for a tagged one and
 * the default class for the untagged one, with an `fq_codel` leaf; and per tagged network a `basic` filter
 * `meta(vlan eq <id>)` into its class. While no untagged network has a QoS, the default class shares the
 * link like the largest share among the others, as VDSM makes it.
 *
 * Everything here is pure: the desired QoS of each device from a running config, and the comparison with
 * what the kernel holds (read by agent/backend/tc/).
 *
 * Curves: `m2` only (the engine sends nothing else). `ul` and `rt` are rates in bits per second; `ls` is a
 * share, which tc is given times 8 (it keeps rates in bytes per second, so VDSM multiplies the share by 8 to
 * keep it whole, and divides it back when reporting).
 */
import { VdsmCode, VdsmError } from '../vdsm/error-codes';

export const QOS_ROOT_MAJOR = 0x5001;
/** The default class's minor (5000), also the class of the untagged network. */
export const QOS_DEFAULT_MINOR = 0x1388;
/** The largest rate tc holds: 2^32 - 1 bytes per second, in bits. */
export const QOS_MAX_RATE_BITS = (2 ** 32 - 1) * 8;

/** One network's outbound QoS, canonical: each curve's `m2`, present curves only; `ls` always. */
export interface HostQos {
  ls: number;
  ul?: number;
  rt?: number;
}

/** A class of a device's HFSC tree, in tc's units (bits per second; `ls` already times 8). */
export interface QosClass {
  minor: number;
  ls: number;
  ul?: number;
  rt?: number;
}

/** What hostprov keeps on one device: its classes (by minor) and the VLAN ids filtered into them. */
export interface DeviceQos {
  classes: QosClass[];
  /** Tagged networks' VLAN ids; each is filtered into the class of the same minor. */
  vlans: number[];
}

const CURVES = ['ls', 'ul', 'rt'] as const;

/**
 * Whether tc shows this rate (bits per second, a multiple of 8) exactly. It prints a rate with the largest
 * unit (K, M, G, T: powers of 1000) that divides it, and above a million also with a unit that does not,
 * dropping the rest (iproute2 `print_rate`): 12345678 bit shows as "12345Kbit". Such a rate could not be
 * read back, so it is refused.
 */
export function tcShowsExactly(bits: number): boolean {
  let rate = bits;
  for (let unit = 0; unit < 4 && rate >= 1000; unit += 1) {
    if (rate % 1000 !== 0) return rate < 1_000_000;
    rate /= 1000;
  }
  return true;
}

function curveRate(where: string, curve: string, raw: unknown, max: number): number {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new VdsmError(VdsmCode.BAD_PARAMS, `${where}: hostQos.out.${curve} must be an object with m2`);
  const keys = Object.keys(raw);
  const extra = keys.filter((k) => k !== 'm2');
  if (extra.length)
    throw new VdsmError(
      VdsmCode.BAD_PARAMS,
      `${where}: hostQos.out.${curve} has ${extra.join(', ')}; this agent sets only m2 (the engine sends nothing else)`,
    );
  const m2 = (raw as { m2?: unknown }).m2;
  const value = typeof m2 === 'string' && /^[0-9]{1,20}$/.test(m2) ? Number(m2) : m2;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0 || value > max)
    throw new VdsmError(VdsmCode.BAD_PARAMS, `${where}: hostQos.out.${curve}.m2 must be a whole number from 0 to ${max}`);
  const bits = curve === 'ls' ? value * 8 : value;
  if (bits % 8 !== 0 || !tcShowsExactly(bits))
    throw new VdsmError(
      VdsmCode.BAD_PARAMS,
      `${where}: hostQos.out.${curve}.m2 ${value} cannot be set exactly (tc keeps bytes per second and shows rates above a million bits only in whole K, M or G units); round it`,
    );
  return value;
}

/**
 * The canonical QoS of a request's `hostQos`, or undefined for none (absent, `{}` or `{out: {}}`).
 * @throws VdsmError(21) for another shape, a curve other than ls/ul/rt, a curve field other than m2, a rate
 * out of tc's range, or `ul`/`rt` without `ls` (HFSC shares the link only by `ls`, and the default class
 * takes its share from it).
 */
export function canonicalHostQos(where: string, raw: unknown): HostQos | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new VdsmError(VdsmCode.BAD_PARAMS, `${where}: hostQos must be an object`);
  const extra = Object.keys(raw).filter((k) => k !== 'out');
  if (extra.length)
    throw new VdsmError(VdsmCode.BAD_PARAMS, `${where}: hostQos has ${extra.join(', ')}; this agent sets only outbound QoS (out)`);
  const out = (raw as { out?: unknown }).out;
  if (out === undefined) return undefined;
  if (typeof out !== 'object' || out === null || Array.isArray(out))
    throw new VdsmError(VdsmCode.BAD_PARAMS, `${where}: hostQos.out must be an object`);
  const unknown = Object.keys(out).filter((k) => !(CURVES as readonly string[]).includes(k));
  if (unknown.length)
    throw new VdsmError(VdsmCode.BAD_PARAMS, `${where}: hostQos.out has ${unknown.join(', ')}; the curves are ls, ul and rt`);
  const curves = out as Record<string, unknown>;
  if (!Object.keys(curves).length) return undefined;
  if (curves.ls === undefined) throw new VdsmError(VdsmCode.BAD_PARAMS, `${where}: hostQos.out needs ls (the link share) with ul or rt`);
  const qos: HostQos = { ls: curveRate(where, 'ls', curves.ls, QOS_MAX_RATE_BITS / 8) };
  if (qos.ls === 0) throw new VdsmError(VdsmCode.BAD_PARAMS, `${where}: hostQos.out.ls.m2 must be at least 1`);
  if (curves.ul !== undefined) qos.ul = curveRate(where, 'ul', curves.ul, QOS_MAX_RATE_BITS);
  if (curves.rt !== undefined) qos.rt = curveRate(where, 'rt', curves.rt, QOS_MAX_RATE_BITS);
  return qos;
}

/** The class a network's QoS becomes on its base device. */
export function qosClassOf(vlan: number | undefined, qos: HostQos): QosClass {
  return {
    minor: vlan ?? QOS_DEFAULT_MINOR,
    ls: qos.ls * 8,
    ...(qos.ul !== undefined ? { ul: qos.ul } : {}),
    ...(qos.rt !== undefined ? { rt: qos.rt } : {}),
  };
}

/** The network QoS a class reports (`hostQos.out` in the capabilities, as VDSM reports it, with m1 and d). */
export function reportedHostQos(cls: QosClass): { out: Record<string, { m1: number; d: number; m2: number }> } {
  const curve = (m2: number) => ({ m1: 0, d: 0, m2 });
  return {
    out: {
      ls: curve(Math.floor(cls.ls / 8)),
      ...(cls.ul !== undefined ? { ul: curve(cls.ul) } : {}),
      ...(cls.rt !== undefined ? { rt: curve(cls.rt) } : {}),
    },
  };
}

/** The base device of a network (its NIC or bond), where its QoS lives. */
export function qosDeviceOf(net: { nic?: string; bonding?: string }): string | undefined {
  return net.nic ?? net.bonding;
}

/** What this module reads of a network's configuration (model/network/config.ts `NetworkConfig`). */
interface QosNetwork {
  nic?: string;
  bonding?: string;
  vlan?: number;
  hostQos?: HostQos;
}

/** The devices the networks of one or more configurations give a QoS, sorted. */
export function qosDevices(...configs: ReadonlyArray<Readonly<Record<string, QosNetwork>>>): string[] {
  const devices = new Set<string>();
  for (const networks of configs) {
    for (const net of Object.values(networks)) {
      const dev = qosDeviceOf(net);
      if (dev && net.hostQos) devices.add(dev);
    }
  }
  return [...devices].sort();
}

/** The QoS a running config's networks want on `dev`, or null for none (the kernel's default queueing). */
export function desiredDeviceQos(networks: Readonly<Record<string, QosNetwork>>, dev: string): DeviceQos | null {
  const classes: QosClass[] = [];
  const vlans: number[] = [];
  for (const net of Object.values(networks)) {
    if (!net.hostQos || qosDeviceOf(net) !== dev) continue;
    classes.push(qosClassOf(net.vlan, net.hostQos));
    if (net.vlan !== undefined) vlans.push(net.vlan);
  }
  if (!classes.length) return null;
  if (!classes.some((c) => c.minor === QOS_DEFAULT_MINOR))
    classes.push({ minor: QOS_DEFAULT_MINOR, ls: Math.max(...classes.map((c) => c.ls)) });
  return { classes: classes.sort((a, b) => a.minor - b.minor), vlans: vlans.sort((a, b) => a - b) };
}

/** Whether two device QoS trees are the same (null: none). */
export function sameDeviceQos(a: DeviceQos | null, b: DeviceQos | null): boolean {
  if (a === null || b === null) return a === b;
  const key = (q: DeviceQos) =>
    JSON.stringify({
      classes: [...q.classes].sort((x, y) => x.minor - y.minor).map((c) => [c.minor, c.ls, c.ul ?? null, c.rt ?? null]),
      vlans: [...q.vlans].sort((x, y) => x - y),
    });
  return key(a) === key(b);
}

/** What a device's queueing is, as read: hostprov's tree (intact or not), the kernel's default, or another. */
export type DeviceQosState =
  { kind: 'none' } | { kind: 'hostprov'; qos: DeviceQos; intact: boolean } | { kind: 'foreign'; root: string } | { kind: 'absent' };

/** What a change does to one device's queueing. */
export interface QosAction {
  dev: string;
  /** Remove hostprov's tree first (the kernel then falls back to its default queueing). */
  clear: boolean;
  /** The tree to build, or null to leave the default. */
  set: DeviceQos | null;
}

/**
 * What to do on `dev` so it holds `want`; null when it does already. A device that is absent now (a bond the
 * same change creates) gets the tree built once it exists. A device whose root queueing hostprov did not set
 * is never touched: wanting a QoS there is refused, since a rollback could not put that queueing back.
 * `deleted`: the change deletes the device (a bond it removes, or makes again with another mode), and its
 * queueing goes with it; one made again needs its tree built anew, even when it had it.
 * @throws VdsmError(21) when `want` is a tree and the device has another root qdisc.
 */
export function qosAction(dev: string, want: DeviceQos | null, have: DeviceQosState, deleted = false): QosAction | null {
  if (deleted) return want === null ? null : { dev, clear: false, set: want };
  switch (have.kind) {
    case 'foreign':
      if (want === null) return null;
      throw new VdsmError(
        VdsmCode.BAD_PARAMS,
        `device ${dev} has a root queueing discipline hostprov did not set (${have.root}); remove it before giving a network on ${dev} a hostQos`,
      );
    case 'hostprov':
      if (have.intact && sameDeviceQos(want, have.qos)) return null;
      return { dev, clear: true, set: want };
    case 'none':
    case 'absent':
      return want === null ? null : { dev, clear: false, set: want };
  }
}

/** What a rollback puts back on a device: its tree before the change, or none. */
export function qosBefore(have: DeviceQosState): DeviceQos | null {
  return have.kind === 'hostprov' ? have.qos : null;
}
