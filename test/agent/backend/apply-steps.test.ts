/**
 * How a plan becomes processes (pure): one `ip -batch` per maximal run of ip ops, DHCP ops in between, and
 * the small parsers of iproute2's and resolv.conf's text.
 */
import { describe, expect, it } from 'vitest';
import { prefixToNetmask as netmaskFromPrefix } from '../../../model/ip';
import { leaseKeyFromFileName } from '../../../agent/backend/dhcp/lease';
import { InvalidPlanOpError, UnsafeBatchArgumentError } from '../../../agent/backend/errors';
import {
  applyStepsFromPlan,
  concurrentBatchesOf,
  failedBatchLine,
  forgetRouterAdvertisementsLines,
} from '../../../agent/backend/iproute2/apply';
import { batchFailureMessages, probeBatch } from '../../../agent/backend/iproute2/link-support';
import { routeLookupFromJson } from '../../../agent/backend/iproute2/route-get';
import { nameserversFromResolvConf } from '../../../agent/backend/resolv-conf';
import { planTies } from '../../../model/network/plan/concurrent-batches';
import type { PlanOp } from '../../../model/net-state';
import { emptyKernel } from '../../helpers/host-state';

/** The ops of one bridged static network: 7 ip ops. */
function networkOps(i: number): PlanOp[] {
  const name = `net${i}`;
  return [
    { kind: 'link-add', name, type: 'bridge', stp: false },
    { kind: 'link-set', name: `nic${i}`, master: name },
    { kind: 'link-up', name: `nic${i}` },
    { kind: 'link-up', name },
    { kind: 'addr-add', address: { dev: name, family: 4, address: `198.18.${i}.5`, prefixLen: 24, dynamic: false } },
    { kind: 'route-add', route: { family: 4, table: 1000 + i, dst: 'default', gateway: `198.18.${i}.1`, dev: name } },
    { kind: 'rule-add', rule: { family: 4, priority: 3200, from: `198.18.${i}.0/24`, table: 1000 + i } },
  ];
}

describe('applyStepsFromPlan', () => {
  it('writes an IPv6 switch between two ip -batch runs, in plan order', () => {
    const ops: PlanOp[] = [
      { kind: 'link-add', name: 'vmnet', type: 'bridge', stp: false },
      { kind: 'link-set', name: 'eth1', master: 'vmnet' },
      { kind: 'link-ipv6', name: 'vmnet', enabled: false },
      { kind: 'link-up', name: 'vmnet' },
    ];
    expect(applyStepsFromPlan({ ops }).map((s) => [s.kind, s.kind === 'ip-batch' ? s.opIndices : s.opIndex])).toEqual([
      ['ip-batch', [0, 1]],
      ['ipv6', 2],
      ['ip-batch', [3]],
    ]);
  });

  it('forgets what a link learned from router advertisements, or only its learned default route, with flushes that match nothing else; a bad name is refused', () => {
    expect(forgetRouterAdvertisementsLines('vmnet', 'everything')).toEqual([
      'route flush dev vmnet proto ra',
      'addr flush dev vmnet mngtmpaddr',
      'addr flush dev vmnet temporary',
    ]);
    expect(forgetRouterAdvertisementsLines('vmnet', 'default-route')).toEqual(['route flush dev vmnet proto ra exact ::/0']);
    for (const bad of ['a b', 'x#', '-x', '..'])
      expect(() => forgetRouterAdvertisementsLines(bad, 'everything'), bad).toThrow(UnsafeBatchArgumentError);
  });

  it('puts 100 networks (700 ip ops) into one ip -batch process', () => {
    const ops = Array.from({ length: 100 }, (_, i) => networkOps(i)).flat();
    const steps = applyStepsFromPlan({ ops });
    expect(steps).toHaveLength(1);
    expect(steps[0]).toMatchObject({ kind: 'ip-batch', inet6: false });
    if (steps[0]?.kind !== 'ip-batch') throw new Error('expected a batch');
    expect(steps[0].lines).toHaveLength(700);
    expect(steps[0].opIndices).toEqual(ops.map((_, i) => i));
    expect(steps[0].lines[0]).toBe('link add name net0 type bridge stp_state 0');
  });

  it('runs those 100 networks as two batches of 50 whole networks when asked for two processes, and as one otherwise', () => {
    const ops = Array.from({ length: 100 }, (_, i) => networkOps(i)).flat();
    const [step] = applyStepsFromPlan({ ops });
    if (step?.kind !== 'ip-batch') throw new Error('expected a batch');
    const plan = { ops, ties: planTies(emptyKernel(), ops) };
    const batches = concurrentBatchesOf(step, plan, 2);
    expect(batches.map((b) => b.lines.length)).toEqual([350, 350]);
    // Each network's seven lines in one batch, in their order.
    const networksOf = (indices: number[]) => [...new Set(indices.map((i) => Math.floor(i / 7)))];
    const [first, second] = batches.map((b) => networksOf(b.opIndices));
    expect([...(first ?? []), ...(second ?? [])].sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    for (const batch of batches) {
      expect(batch.opIndices).toEqual([...batch.opIndices].sort((a, b) => a - b));
      expect(batch.lines).toEqual(batch.opIndices.map((i) => step.lines[i]));
    }
    // One process asked for, or a plan that does not say which links the kernel ties: the step as it is.
    expect(concurrentBatchesOf(step, plan, 1)).toEqual([step]);
    expect(concurrentBatchesOf(step, { ops }, 2)).toEqual([step]);
  });

  it('splits runs of ip ops around DHCP ops, keeping plan order and indices', () => {
    const ops: PlanOp[] = [
      { kind: 'link-up', name: 'eth0' },
      { kind: 'link-up', name: 'eth1' },
      { kind: 'dhcp-start', dev: 'eth0', family: 4, table: 254, defaultRoute: true, sourceRouting: false },
      { kind: 'dhcp-stop', dev: 'eth1', family: 4 },
      { kind: 'link-down', name: 'eth1' },
    ];
    expect(applyStepsFromPlan({ ops })).toEqual([
      { kind: 'ip-batch', inet6: false, opIndices: [0, 1], lines: ['link set dev eth0 up', 'link set dev eth1 up'] },
      { kind: 'dhcp', opIndex: 2, op: ops[2] },
      { kind: 'dhcp', opIndex: 3, op: ops[3] },
      { kind: 'ip-batch', inet6: false, opIndices: [4], lines: ['link set dev eth1 down'] },
    ]);
  });

  it('runs IPv6 rules under ip -6, splitting a run only where the flag must change', () => {
    const v6Rule: PlanOp = { kind: 'rule-add', rule: { family: 6, priority: 3200, from: '2001:db8::/64', table: 100 } };
    const v4Rule: PlanOp = { kind: 'rule-add', rule: { family: 4, priority: 3200, from: '198.18.1.0/24', table: 100 } };
    const v6Route: PlanOp = { kind: 'route-add', route: { family: 6, table: 100, dst: 'default', gateway: '2001:db8::1', dev: 'br0' } };
    const v6Addr: PlanOp = { kind: 'addr-add', address: { dev: 'br0', family: 6, address: '2001:db8::5', prefixLen: 64, dynamic: false } };
    const v4Addr: PlanOp = { kind: 'addr-add', address: { dev: 'br0', family: 4, address: '198.18.1.5', prefixLen: 24, dynamic: false } };
    const link: PlanOp = { kind: 'link-up', name: 'br0' };
    const shape = (ops: PlanOp[]): unknown =>
      applyStepsFromPlan({ ops }).map((s) => (s.kind === 'ip-batch' ? [s.inet6, s.opIndices] : s.kind));
    // Link lines and IPv6 lines whose addresses tell the family join an ip -6 batch.
    expect(shape([link, v6Route, v6Rule, v6Addr, v4Rule])).toEqual([
      [true, [0, 1, 2, 3]],
      [false, [4]],
    ]);
    expect(shape([v4Addr, v6Rule, v4Rule, link, v6Route])).toEqual([
      [false, [0]],
      [true, [1]],
      [false, [2, 3, 4]],
    ]);
    expect(shape([link, link, v4Rule])).toEqual([[false, [0, 1, 2]]]);
  });

  it('rejects the whole plan, naming the op, when one op cannot be rendered', () => {
    const ops: PlanOp[] = [
      { kind: 'link-add', name: 'br0', type: 'bridge' },
      { kind: 'link-up', name: 'eth0' },
      { kind: 'link-up', name: 'eth0; reboot' },
    ];
    let thrown: unknown;
    try {
      applyStepsFromPlan({ ops });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(InvalidPlanOpError);
    expect(thrown).toMatchObject({ opIndex: 2, op: ops[2], cause: { field: 'name' } });
  });
});

describe('iproute2 batch failure output', () => {
  it('finds the failed line', () => {
    expect(failedBatchLine('Cannot find device "nosuch"\nCommand failed -:2\n')).toBe(2);
    expect(failedBatchLine('Error: argument "abc" is wrong: Invalid "mtu" value\n')).toBeNull();
  });

  it('collects every failure of a -force batch with its message', () => {
    const stderr = 'Error: Unknown device type.\nCommand failed -:2\nCannot find device "hpp1"\nCommand failed -:3\n';
    expect([...batchFailureMessages(stderr)]).toEqual([
      [2, 'Error: Unknown device type.'],
      [3, 'Cannot find device "hpp1"'],
    ]);
  });

  it('probes a VLAN on a temporary bridge and cleans both up', () => {
    expect(probeBatch('vlan', 'abc123')).toEqual({
      lines: [
        'link add name hpqabc123 type bridge',
        'link add link hpqabc123 name hppabc123 type vlan id 1',
        'link del dev hppabc123',
        'link del dev hpqabc123',
      ],
      probeLine: 2,
    });
    expect(probeBatch('bond', 'abc123').lines).toEqual(['link add name hppabc123 type bond', 'link del dev hppabc123']);
  });
});

describe('small parsers', () => {
  it('reads ip route get JSON', () => {
    expect(
      routeLookupFromJson(
        '[{"dst":"203.0.113.5","gateway":"198.18.1.1","dev":"br0","prefsrc":"198.18.1.5","flags":[],"uid":0,"cache":[]}]',
      ),
    ).toEqual({
      kind: 'route',
      device: 'br0',
      source: '198.18.1.5',
      gateway: '198.18.1.1',
    });
    expect(routeLookupFromJson('[{"type":"unicast","dst":"198.18.1.77","dev":"br0","table":"main","flags":[]}]')).toEqual({
      kind: 'route',
      device: 'br0',
    });
  });

  it('reads nameservers from resolv.conf text', () => {
    const text =
      '# generated\nsearch example.test\nnameserver 198.18.0.53\n  nameserver   2001:DB8::53\nnameserver fe80::1%eth0\n;nameserver 198.18.0.99\nnameserver bogus\nnameserver 198.18.0.53\noptions edns0\n';
    expect(nameserversFromResolvConf(text)).toEqual(['198.18.0.53', '2001:db8::53', 'fe80::1']);
  });

  it('maps lease file names and prefixes', () => {
    expect(leaseKeyFromFileName('ovirtmgmt.4.json')).toEqual({ dev: 'ovirtmgmt', family: 4 });
    expect(leaseKeyFromFileName('eth0.100.6.json')).toEqual({ dev: 'eth0.100', family: 6 });
    expect(leaseKeyFromFileName('.eth0.4.json.tmp')).toBeNull();
    expect(leaseKeyFromFileName('eth0.4.pid')).toBeNull();
    expect(netmaskFromPrefix(24)).toBe('255.255.255.0');
    expect(netmaskFromPrefix(0)).toBe('0.0.0.0');
    expect(netmaskFromPrefix(32)).toBe('255.255.255.255');
    expect(netmaskFromPrefix(19)).toBe('255.255.224.0');
  });
});
