/**
 * A device's outbound QoS through tc: read what its queueing is (model/network/host-qos.ts
 * `DeviceQosState`) and change it with one `tc -batch` process. Only devices whose networks have or had a
 * hostQos are ever read, so a change without QoS runs no tc at all.
 */
import { run } from '../../../lib/process';
import {
  QOS_DEFAULT_MINOR,
  QOS_ROOT_MAJOR,
  type DeviceQos,
  type DeviceQosState,
  type QosAction,
  type QosClass,
} from '../../../model/network/host-qos';
import { TcApplyError } from '../errors';
import { checkedIfname } from '../iproute2/arguments';
import { tcArgv, type NetnsTarget } from '../target';
import { parseFilters, parseHfscClasses, parseQdiscs, parseTcRate, type TcCurve } from './tc-text';

const ROOT = `${QOS_ROOT_MAJOR.toString(16)}:`;
const hex = (n: number) => n.toString(16);

/** A curve as hostprov sets it (m2 only), in bits per second; null for any other. */
function m2Of(curve: TcCurve | undefined): number | null | undefined {
  if (curve === undefined) return undefined;
  if (curve.m1 !== '0bit' || curve.d !== '0us') return null;
  return parseTcRate(curve.m2);
}

/** The queueing of `dev` from tc's text (pure, for tests): see {@link readDeviceQos}. */
export function deviceQosFromText(qdiscText: string, classText: string, filterText: string): DeviceQosState {
  const qdiscs = parseQdiscs(qdiscText);
  const root = qdiscs.find((q) => q.parent === 'root');
  if (!root || root.handle === '0:') return { kind: 'none' };
  if (root.kind !== 'hfsc' || root.handle !== ROOT) return { kind: 'foreign', root: `${root.kind} ${root.handle}` };
  let intact = root.defaultClass === hex(QOS_DEFAULT_MINOR);
  const classes: QosClass[] = [];
  for (const cls of parseHfscClasses(classText)) {
    if (cls.classid === ROOT) continue;
    const minor = cls.classid.startsWith(ROOT) ? parseInt(cls.classid.slice(ROOT.length), 16) : NaN;
    const ls = m2Of(cls.curves.ls);
    const ul = m2Of(cls.curves.ul);
    const rt = m2Of(cls.curves.rt);
    if (!Number.isInteger(minor) || cls.parent !== ROOT || typeof ls !== 'number' || ul === null || rt === null) {
      intact = false;
      continue;
    }
    const leaf = qdiscs.some((q) => q.kind === 'fq_codel' && q.handle === `${hex(minor)}:` && q.parent === cls.classid);
    if (!leaf) intact = false;
    classes.push({ minor, ls, ...(ul !== undefined ? { ul } : {}), ...(rt !== undefined ? { rt } : {}) });
  }
  const vlans: number[] = [];
  for (const filter of parseFilters(filterText)) {
    const vlan = filter.pref;
    const ours =
      filter.kind === 'basic' &&
      filter.flowid === `${ROOT}${hex(vlan)}` &&
      filter.match === `meta(vlan eq ${vlan})` &&
      classes.some((c) => c.minor === vlan);
    if (ours) vlans.push(vlan);
    else intact = false;
  }
  // Every tagged class has its filter.
  if (classes.some((c) => c.minor !== QOS_DEFAULT_MINOR && !vlans.includes(c.minor))) intact = false;
  return { kind: 'hostprov', qos: { classes: classes.sort((a, b) => a.minor - b.minor), vlans: vlans.sort((a, b) => a - b) }, intact };
}

/** Reads the queueing of `dev` (three `tc ... show` runs when it is hostprov's tree, one otherwise). */
export async function readDeviceQos(target: NetnsTarget, dev: string): Promise<DeviceQosState> {
  const name = checkedIfname('dev', dev);
  const qdisc = await run(tcArgv(target, ['qdisc', 'show', 'dev', name]), { allowFailure: true });
  if (qdisc.code !== 0) {
    if (/Cannot find device/.test(qdisc.stderr)) return { kind: 'absent' };
    throw new TcApplyError(`tc qdisc show dev ${name} failed: ${qdisc.stderr.trim()}`);
  }
  const root = parseQdiscs(qdisc.stdout).find((q) => q.parent === 'root');
  if (!root || root.kind !== 'hfsc') return deviceQosFromText(qdisc.stdout, '', '');
  const [classes, filters] = await Promise.all([
    run(tcArgv(target, ['class', 'show', 'dev', name])),
    run(tcArgv(target, ['filter', 'show', 'dev', name, 'parent', ROOT])),
  ]);
  return deviceQosFromText(qdisc.stdout, classes.stdout, filters.stdout);
}

function curveTokens(name: string, bits: number | undefined): string[] {
  return bits === undefined ? [] : [name, 'm2', `${bits}bit`];
}

/** The `tc -batch` lines that build `qos` on `dev` (pure; every token checked or made here). */
export function qosBatchLines(dev: string, qos: DeviceQos): string[] {
  const name = checkedIfname('dev', dev);
  const lines = [`qdisc add dev ${name} root handle ${ROOT} hfsc default ${hex(QOS_DEFAULT_MINOR)}`];
  for (const c of qos.classes) {
    const classid = `${ROOT}${hex(c.minor)}`;
    const curves = [...curveTokens('ls', c.ls), ...curveTokens('ul', c.ul), ...curveTokens('rt', c.rt)];
    if (!curves.every((t) => /^[a-z0-9]+$/.test(t))) throw new TcApplyError(`class ${classid} on ${name}: a curve is not a whole number`);
    lines.push(`class add dev ${name} parent ${ROOT} classid ${classid} hfsc ${curves.join(' ')}`);
    lines.push(`qdisc add dev ${name} parent ${classid} handle ${hex(c.minor)}: fq_codel`);
  }
  for (const vlan of qos.vlans) {
    if (!Number.isInteger(vlan) || vlan < 1 || vlan > 4094) throw new TcApplyError(`VLAN id ${String(vlan)} on ${name} is not 1..4094`);
    lines.push(
      `filter add dev ${name} parent ${ROOT} protocol all pref ${vlan} basic match meta(vlan eq ${vlan}) flowid ${ROOT}${hex(vlan)}`,
    );
  }
  return lines;
}

/** The lines of several devices' actions, in order. */
export function qosActionLines(actions: readonly QosAction[]): string[] {
  return actions.flatMap((a) => [
    ...(a.clear ? [`qdisc del dev ${checkedIfname('dev', a.dev)} root`] : []),
    ...(a.set ? qosBatchLines(a.dev, a.set) : []),
  ]);
}

/** Runs the actions in one `tc -batch` process, stopping at the first line the kernel refuses. */
export async function applyQosActions(target: NetnsTarget, actions: readonly QosAction[]): Promise<void> {
  const lines = qosActionLines(actions);
  if (!lines.length) return;
  const result = await run(tcArgv(target, ['-batch', '-']), { input: `${lines.join('\n')}\n`, allowFailure: true });
  if (result.code !== 0) {
    const failed = /Command failed -:(\d+)/.exec(result.stderr);
    const line = failed ? lines[Number(failed[1]) - 1] : undefined;
    const why = result.stderr.replace(/Command failed -:\d+/, '').trim();
    throw new TcApplyError(`tc refused ${line ? `"${line}"` : 'the QoS change'}: ${why}`);
  }
}
