/**
 * The tc side of host QoS (agent/backend/tc/): the batch lines that build a device's tree, and the reading
 * of tc's text back into it. The text fixtures (fixtures/tc/) are what `tc qdisc|class|filter show` printed on
 * the full-kernel testbed guest after running these very lines; test/agent/full-kernel-qos.test.ts runs them
 * through the agent.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { deviceQosFromText, qosActionLines, qosBatchLines } from '../../../agent/backend/tc/qos';
import { parseTcRate } from '../../../agent/backend/tc/tc-text';
import { UnsafeBatchArgumentError } from '../../../agent/backend/errors';
import type { DeviceQos } from '../../../model/network/host-qos';

const fixture = (name: string) => readFileSync(join(import.meta.dirname, 'fixtures', 'tc', `${name}.txt`), 'utf8');
const read = (dev: string) => deviceQosFromText(fixture(`${dev}.qdisc`), fixture(`${dev}.class`), fixture(`${dev}.filter`));

/** Two tagged networks (VLANs 100 and 200) and the default class, as the fixture's e1 holds them. */
const E1: DeviceQos = {
  classes: [
    { minor: 100, ls: 400, ul: 200_000_000 },
    { minor: 200, ls: 160, rt: 1_500_000 },
    { minor: 0x1388, ls: 400 },
  ],
  vlans: [100, 200],
};
/** One untagged network with all three curves. */
const E2: DeviceQos = { classes: [{ minor: 0x1388, ls: 800, ul: 1_000_000_000, rt: 123_456 }], vlans: [] };

describe('tc batch lines for a QoS tree', () => {
  it('build the root, a class with its fq_codel leaf per network, and a filter per VLAN (golden)', () => {
    expect(qosBatchLines('e1', E1)).toEqual([
      'qdisc add dev e1 root handle 5001: hfsc default 1388',
      'class add dev e1 parent 5001: classid 5001:64 hfsc ls m2 400bit ul m2 200000000bit',
      'qdisc add dev e1 parent 5001:64 handle 64: fq_codel',
      'class add dev e1 parent 5001: classid 5001:c8 hfsc ls m2 160bit rt m2 1500000bit',
      'qdisc add dev e1 parent 5001:c8 handle c8: fq_codel',
      'class add dev e1 parent 5001: classid 5001:1388 hfsc ls m2 400bit',
      'qdisc add dev e1 parent 5001:1388 handle 1388: fq_codel',
      'filter add dev e1 parent 5001: protocol all pref 100 basic match meta(vlan eq 100) flowid 5001:64',
      'filter add dev e1 parent 5001: protocol all pref 200 basic match meta(vlan eq 200) flowid 5001:c8',
    ]);
  });

  it('remove hostprov’s tree before building another, and only remove it for none', () => {
    expect(qosActionLines([{ dev: 'e2', clear: true, set: null }])).toEqual(['qdisc del dev e2 root']);
    expect(qosActionLines([{ dev: 'e2', clear: true, set: E2 }]).slice(0, 2)).toEqual([
      'qdisc del dev e2 root',
      'qdisc add dev e2 root handle 5001: hfsc default 1388',
    ]);
  });

  it('refuse a device name that could carry another command', () => {
    expect(() => qosBatchLines('e1 root', E2)).toThrow(UnsafeBatchArgumentError);
    expect(() => qosActionLines([{ dev: 'e1\nqdisc del dev eth0 root', clear: true, set: null }])).toThrow(UnsafeBatchArgumentError);
  });
});

describe("a device's queueing read from tc's text", () => {
  it('is the tree the lines built, intact', () => {
    expect(read('e1')).toEqual({ kind: 'hostprov', qos: E1, intact: true });
    expect(read('e2')).toEqual({ kind: 'hostprov', qos: E2, intact: true });
  });

  it('is not intact without a class’s leaf, with a filter that is not ours, or with a tagged class without its filter', () => {
    const qdiscs = fixture('e1.qdisc').replace(/^qdisc fq_codel c8:.*$/m, '');
    expect(deviceQosFromText(qdiscs, fixture('e1.class'), fixture('e1.filter'))).toMatchObject({ intact: false });
    const filters = fixture('e1.filter').replace('meta(vlan eq 200)', 'meta(vlan eq 201)');
    expect(deviceQosFromText(fixture('e1.qdisc'), fixture('e1.class'), filters)).toMatchObject({ intact: false });
    const oneFilter = fixture('e1.filter').split('\n\n')[0] ?? '';
    expect(deviceQosFromText(fixture('e1.qdisc'), fixture('e1.class'), oneFilter)).toMatchObject({ intact: false });
  });

  it('is the default for the kernel’s own root qdisc (handle 0:), and another’s for any other root', () => {
    expect(deviceQosFromText('qdisc noqueue 0: root refcnt 2 \n', '', '')).toEqual({ kind: 'none' });
    expect(deviceQosFromText('qdisc mq 0: root \nqdisc fq_codel 0: parent :1 limit 10240p\n', '', '')).toEqual({ kind: 'none' });
    expect(deviceQosFromText('qdisc htb 1: root refcnt 2 r2q 10 default 0x30\n', '', '')).toEqual({ kind: 'foreign', root: 'htb 1:' });
    expect(deviceQosFromText('qdisc hfsc 1: root refcnt 2 default 10\n', '', '')).toEqual({ kind: 'foreign', root: 'hfsc 1:' });
  });
});

describe('rates as tc prints them', () => {
  it.each([
    ['160bit', 160],
    ['1500Kbit', 1_500_000],
    ['200Mbit', 200_000_000],
    ['1Gbit', 1_000_000_000],
    ['123456bit', 123_456],
  ])('%s is %d bit/s', (text, bits) => expect(parseTcRate(text)).toBe(bits));

  it.each(['1.5Mbit', '12Kibit', '100', 'bit', '5Mbps'])('%s is not one hostprov reads', (text) => expect(parseTcRate(text)).toBeNull());
});
