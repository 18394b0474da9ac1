/**
 * Pure IP arithmetic (no Node built-ins: this runs inside workflows too).
 */

const IPV4_RE = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export function isIPv4(value: string): boolean {
  return IPV4_RE.test(value);
}

/** Parses IPv6 (including `::` and an embedded IPv4 tail) into 8 hextets, or `null`. */
function ipv6Hextets(value: string): number[] | null {
  if (!/^[0-9a-fA-F:.]+$/.test(value) || value.length > 45 || !value.includes(':')) return null;
  let text = value;
  if (text.includes('.')) {
    // rewrite an embedded IPv4 tail (`::ffff:1.2.3.4`) as two hextets
    const lastColon = text.lastIndexOf(':');
    const v4 = text.slice(lastColon + 1);
    if (!isIPv4(v4)) return null;
    const o = v4.split('.').map(Number) as [number, number, number, number];
    text = `${text.slice(0, lastColon + 1)}${((o[0] << 8) | o[1]).toString(16)}:${((o[2] << 8) | o[3]).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const parse = (s: string): number[] | null => {
    if (s === '') return [];
    const out: number[] = [];
    for (const p of s.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(p)) return null;
      out.push(parseInt(p, 16));
    }
    return out;
  };
  const head = parse(halves[0] ?? '');
  if (!head) return null;
  if (halves.length === 1) return head.length === 8 ? head : null;
  const rest = parse(halves[1] ?? '');
  if (!rest) return null;
  const missing = 8 - head.length - rest.length;
  if (missing < 1) return null;
  return [...head, ...new Array<number>(missing).fill(0), ...rest];
}

export function isIPv6(value: string): boolean {
  return ipv6Hextets(value) !== null;
}

export function isIP(value: string): boolean {
  return isIPv4(value) || isIPv6(value);
}

/** RFC 5952 canonical (compressed, lower-case) form of an IPv6 address; other input returned unchanged. */
export function compressIPv6(value: string): string {
  const h = ipv6Hextets(value);
  if (!h) return value;
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (h[i] !== 0) {
      i += 1;
      continue;
    }
    let j = i;
    while (j < 8 && h[j] === 0) j += 1;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = h.map((x) => x.toString(16));
  if (bestStart < 0) return hex.join(':');
  const left = hex.slice(0, bestStart).join(':');
  const right = hex.slice(bestStart + bestLen).join(':');
  return `${left}::${right}`;
}

/** Normal form of any IP address string (IPv6 compressed), for comparisons. */
export function canonicalIP(value: string): string {
  return isIPv6(value) && !isIPv4(value) ? compressIPv6(value) : value;
}

/** Strips the `::ffff:` prefix of an IPv4-mapped IPv6 address (sockets on `::` report these). */
export function unmapIPv4(value: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(value);
  return m?.[1] ?? value;
}

function ipv4ToInt(ip: string): number {
  return ip.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
}

function intToIPv4(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

/** `255.255.255.0` → 24; `null` for a non-contiguous or invalid mask. */
export function netmaskToPrefix(netmask: string): number | null {
  if (!isIPv4(netmask)) return null;
  const n = ipv4ToInt(netmask);
  let prefix = 0;
  while (prefix < 32 && Math.floor(n / 2 ** (31 - prefix)) % 2 === 1) prefix += 1;
  return prefixToNetmask(prefix) === netmask ? prefix : null;
}

export function prefixToNetmask(prefix: number): string {
  return intToIPv4(prefix === 0 ? 0 : (2 ** 32 - 2 ** (32 - prefix)) >>> 0);
}

/** Network address of an IPv4 address with `prefix` (`10.1.2.3`, 24 → `10.1.2.0`). */
export function ipv4Network(ip: string, prefix: number): string {
  const size = 2 ** (32 - prefix);
  return intToIPv4(Math.floor(ipv4ToInt(ip) / size) * size);
}

/** Network address of an IPv6 address with `prefix`, compressed. */
export function ipv6Network(ip: string, prefix: number): string {
  const h = ipv6Hextets(ip);
  if (!h) return ip;
  const out = h.map((hextet, i) => {
    const bits = Math.max(0, Math.min(16, prefix - i * 16));
    return bits === 0 ? 0 : hextet & ((0xffff << (16 - bits)) & 0xffff);
  });
  return compressIPv6(out.map((x) => x.toString(16)).join(':'));
}

/** CIDR of the subnet an address belongs to: `10.1.2.3/24` → `10.1.2.0/24`. */
export function subnetOf(address: string, prefix: number): string {
  return isIPv4(address) ? `${ipv4Network(address, prefix)}/${prefix}` : `${ipv6Network(address, prefix)}/${prefix}`;
}

/** Whether `ip` lies in `address/prefix`'s subnet. */
export function inSubnet(ip: string, address: string, prefix: number): boolean {
  if (isIPv4(ip) !== isIPv4(address)) return false;
  return subnetOf(ip, prefix) === subnetOf(address, prefix);
}

/** Splits `a/b` into address and prefix length; `null` when malformed. */
export function parseCidr(cidr: string): { address: string; prefixLen: number } | null {
  const [address, len, ...rest] = cidr.split('/');
  if (!address || len === undefined || rest.length) return null;
  if (!/^\d{1,3}$/.test(len)) return null;
  const prefixLen = Number(len);
  if (isIPv4(address) && prefixLen <= 32) return { address, prefixLen };
  if (isIPv6(address) && prefixLen <= 128) return { address: compressIPv6(address), prefixLen };
  return null;
}

/**
 * adler32 of the interface name: VDSM's routing-table id for a network's source routes
 * (vdsm lib/vdsm/network/nmstate/route.py `generate_table_id`; docs/setup-networks.md#static-networks).
 * Kept identical so our tables match VDSM's on the same host.
 */
export function sourceRouteTableId(nextHopInterface: string): number {
  let a = 1;
  let b = 0;
  for (let i = 0; i < nextHopInterface.length; i += 1) {
    // UTF-8 of interface names is ASCII (validated elsewhere)
    a = (a + nextHopInterface.charCodeAt(i)) % 65521;
    b = (b + a) % 65521;
  }
  return ((b << 16) | a) >>> 0;
}
