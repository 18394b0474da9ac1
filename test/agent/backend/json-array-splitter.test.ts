/**
 * The splitter that parses a link dump's elements while ip prints it (agent/backend/iproute2/json-array-splitter.ts):
 * whatever the chunking, it gives exactly `JSON.parse(line)`, or gives up (null) so that the line is parsed
 * whole; it never gives other elements.
 */
import { describe, expect, it } from 'vitest';
import { JsonArraySplitter, ParsedJsonArray } from '../../../agent/backend/iproute2/json-array-splitter';
import { parseIpJsonLine, IpLinkJson } from '../../../agent/backend/iproute2/ip-json';

const START = '{"ifindex":';

function link(ifindex: number, extra: Record<string, unknown> = {}) {
  return {
    ifindex,
    ifname: `eth${ifindex}`,
    flags: ['UP'],
    mtu: 1500,
    addr_info: [{ family: 'inet', local: '10.0.0.1', prefixlen: 24 }],
    ...extra,
  };
}

/** Feeds `line` in chunks of the given sizes (cycled), as ip's flushes would cut it. */
function split(line: string, sizes: readonly number[]): ParsedJsonArray | null {
  const splitter = new JsonArraySplitter(START);
  const bytes = Buffer.from(line, 'utf8');
  for (let at = 0, i = 0; at < bytes.length; i++) {
    const size = sizes[i % sizes.length] ?? 1;
    splitter.feed(bytes.subarray(at, at + size));
    at += size;
  }
  return splitter.finish();
}

const CHUNKINGS: ReadonlyArray<readonly number[]> = [[1], [3, 7], [11], [64], [1 << 20], [5, 1, 13, 2]];

describe('JsonArraySplitter', () => {
  it('gives exactly the elements JSON.parse gives, however the line is cut', () => {
    const line = JSON.stringify([
      link(1),
      link(2, { master: 'br0', linkinfo: { info_kind: 'veth', info_data: { a: [1, { b: 2 }] } } }),
      link(3),
    ]);
    for (const sizes of CHUNKINGS) expect(split(line, sizes)?.elements).toEqual(JSON.parse(line));
  });

  it('keeps the separator text inside a string (its quotes are escaped there) and multi-byte characters cut in two', () => {
    const line = JSON.stringify([link(1, { ifalias: 'x,{"ifindex":7} é ✓' }), link(2, { ifalias: '✓✓' })]);
    for (const sizes of CHUNKINGS) expect(split(line, sizes)?.elements).toEqual(JSON.parse(line));
  });

  it('an empty array, and whitespace around the line', () => {
    for (const sizes of CHUNKINGS) {
      expect(split('[]', sizes)?.elements).toEqual([]);
      expect(split(` [${JSON.stringify(link(4))}] \r`, sizes)?.elements).toEqual([link(4)]);
    }
  });

  it('gives up when an element holds a nested object that begins like one, and the whole-line parse is the same', () => {
    const line = JSON.stringify([link(1, { vfinfo_list: [{ vf: 0 }, { ifindex: 9 }] }), link(2)]);
    for (const sizes of CHUNKINGS) expect(split(line, sizes)).toBeNull();
    expect(parseIpJsonLine('addr show', line, IpLinkJson).map((l) => l.ifname)).toEqual(['eth1', 'eth2']);
  });

  it('gives up on what is not one JSON array (the whole-line parse then says why)', () => {
    for (const bad of [
      '{"ifindex":1}',
      `[${JSON.stringify(link(1))},]`,
      `[${JSON.stringify(link(1))}`,
      '',
      'Error: x',
      `[${JSON.stringify(link(1))}]]`,
    ]) {
      for (const sizes of CHUNKINGS) expect(split(bad, sizes), bad).toBeNull();
    }
  });

  it('parseIpJsonLine takes the parsed elements as it takes the line', () => {
    const line = JSON.stringify([link(1), link(2)]);
    const parsed = split(line, [7]);
    expect(parsed).toBeInstanceOf(ParsedJsonArray);
    expect(parseIpJsonLine('addr show', parsed ?? undefined, IpLinkJson)).toEqual(parseIpJsonLine('addr show', line, IpLinkJson));
  });
});
