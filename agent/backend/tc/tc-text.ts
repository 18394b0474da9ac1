/**
 * `tc qdisc|class|filter show dev X` text, parsed (pure). Text, because iproute2 6.1's `tc -j` prints HFSC
 * qdisc options, HFSC classes and `basic` filters' ematches outside its JSON (seen on the full-kernel
 * testbed guest), as VDSM parses the text too (lib/vdsm/network/tc/). Lines look like:
 *   qdisc hfsc 5001: root refcnt 2 default 1388
 *   qdisc fq_codel 64: parent 5001:64 limit 10240p flows 1024 ...
 *   class hfsc 5001:1388 parent 5001: leaf 1388: rt m1 0bit d 0us m2 50Mbit ls m1 0bit d 0us m2 160bit ...
 *   filter protocol all pref 100 basic chain 0 handle 0x1 flowid 5001:64
 *     meta(vlan eq 100)
 */

export interface TcQdisc {
  kind: string;
  /** `5001:`; `0:` for the kernel's default. */
  handle: string;
  /** `root`, or the parent class (`5001:64`). */
  parent: string;
  /** An HFSC qdisc's default class minor (hexadecimal, as printed). */
  defaultClass?: string;
}

/** One service curve as printed: each value with its unit. */
export interface TcCurve {
  m1: string;
  d: string;
  m2: string;
}

export interface TcHfscClass {
  /** `5001:64`. */
  classid: string;
  parent: string | null;
  leaf: string | null;
  curves: Partial<Record<'rt' | 'ls' | 'ul', TcCurve>>;
}

export interface TcFilter {
  pref: number;
  kind: string;
  flowid: string | null;
  /** The ematch text under a `basic` filter, e.g. `meta(vlan eq 100)`. */
  match: string | null;
}

export function parseQdiscs(text: string): TcQdisc[] {
  const qdiscs: TcQdisc[] = [];
  for (const line of text.split('\n')) {
    const t = line.trim().split(/\s+/);
    if (t[0] !== 'qdisc' || t.length < 4) continue;
    const q: TcQdisc = { kind: t[1] ?? '', handle: t[2] ?? '', parent: '' };
    const at = (word: string) => t.indexOf(word);
    if (at('root') >= 0) q.parent = 'root';
    else if (at('parent') >= 0) q.parent = t[at('parent') + 1] ?? '';
    if (at('default') >= 0) q.defaultClass = t[at('default') + 1] ?? '';
    qdiscs.push(q);
  }
  return qdiscs;
}

export function parseHfscClasses(text: string): TcHfscClass[] {
  const classes: TcHfscClass[] = [];
  for (const line of text.split('\n')) {
    const t = line.trim().split(/\s+/);
    if (t[0] !== 'class' || t[1] !== 'hfsc' || !t[2]) continue;
    const cls: TcHfscClass = { classid: t[2], parent: null, leaf: null, curves: {} };
    for (let i = 3; i < t.length; i += 1) {
      const word = t[i];
      if (word === 'parent' || word === 'leaf') {
        cls[word] = t[i + 1] ?? null;
        i += 1;
      } else if (word === 'sc' || word === 'rt' || word === 'ls' || word === 'ul') {
        // m1 <rate> d <time> m2 <rate>
        if (t[i + 1] !== 'm1' || t[i + 3] !== 'd' || t[i + 5] !== 'm2') continue;
        const curve: TcCurve = { m1: t[i + 2] ?? '', d: t[i + 4] ?? '', m2: t[i + 6] ?? '' };
        // `sc` is tc's shorthand for an rt and ls that are equal.
        if (word === 'sc') cls.curves.rt = cls.curves.ls = curve;
        else cls.curves[word] = curve;
        i += 6;
      }
    }
    classes.push(cls);
  }
  return classes;
}

export function parseFilters(text: string): TcFilter[] {
  const filters: TcFilter[] = [];
  let last: TcFilter | null = null;
  for (const line of text.split('\n')) {
    if (/^\s/.test(line) && line.trim() && last && last.kind === 'basic') {
      last.match = last.match === null ? line.trim() : `${last.match} ${line.trim()}`;
      continue;
    }
    const t = line.trim().split(/\s+/);
    if (t[0] !== 'filter') continue;
    const at = (word: string) => t.indexOf(word);
    // Each filter prints a header line without handle, then one line per element; only elements count.
    if (at('handle') < 0 && at('fh') < 0) {
      last = null;
      continue;
    }
    const pref = Number(t[at('pref') + 1]);
    const kind = t[at('pref') + 2] ?? '';
    const flowid = at('flowid') >= 0 ? (t[at('flowid') + 1] ?? null) : null;
    last = { pref, kind, flowid, match: null };
    filters.push(last);
  }
  return filters;
}

const RATE_UNITS: Record<string, number> = { '': 1, K: 1e3, M: 1e6, G: 1e9, T: 1e12 };

/** A rate as tc prints it (`160bit`, `50Mbit`) in bits per second; null when not one. */
export function parseTcRate(text: string): number | null {
  const m = /^([0-9]+)([KMGT]?)bit$/.exec(text);
  if (!m) return null;
  const value = Number(m[1]) * (RATE_UNITS[m[2] ?? ''] ?? NaN);
  return Number.isSafeInteger(value) ? value : null;
}
