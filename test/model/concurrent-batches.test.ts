/**
 * Which ops of one `ip -batch` may run in two processes at once (model/network/plan/concurrent-batches.ts):
 * independent stacks split, anything they share keeps them together, and the batches stay in plan order.
 * That any interleaving of the batches leaves the kernel as the plan's order does is the property in
 * plan-sequences.test.ts; the real kernel's side is test/agent/backend/apply.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { AddressState, IpPlanOp, KernelState, PlanOp } from '../../model/net-state';
import { balancedBatches, independentOpGroups, planTies } from '../../model/network/plan/concurrent-batches';
import { emptyKernel, nic } from '../helpers/host-state';

const v4 = (dev: string, address: string): AddressState => ({ dev, family: 4, address, prefixLen: 24, dynamic: false });

/** The groups of ops made on a host of no links yet: tied only by what the ops make (as planChanges ties them). */
const groupsAsPlanned = (ops: IpPlanOp[]) => independentOpGroups(ops, planTies(emptyKernel(), ops));

/** One bridged static network on its NIC, as the planner orders it (links, ports, ups, address). */
function bridged(i: number): IpPlanOp[] {
  return [
    { kind: 'link-add', name: `net${i}`, type: 'bridge', stp: false },
    { kind: 'link-set', name: `eth${i}`, master: `net${i}` },
    { kind: 'link-up', name: `eth${i}` },
    { kind: 'link-up', name: `net${i}` },
    { kind: 'addr-add', address: v4(`net${i}`, `198.18.${i}.5`) },
  ];
}

describe('independentOpGroups', () => {
  it('splits networks on NICs of their own, each group in plan order', () => {
    const [a, b] = [bridged(1), bridged(2)];
    // The planner's phase order interleaves the two networks.
    const ops = a.flatMap((op, i) => [op, b[i] as IpPlanOp]);
    expect(groupsAsPlanned(ops)).toEqual([
      [0, 2, 4, 6, 8],
      [1, 3, 5, 7, 9],
    ]);
  });

  it('keeps a bond, its slaves, a VLAN on it and the bridge on the VLAN together', () => {
    const ops: IpPlanOp[] = [
      { kind: 'link-add', name: 'bond0', type: 'bond', bondMode: '802.3ad' },
      { kind: 'link-set', name: 'eth1', master: 'bond0' },
      { kind: 'link-set', name: 'eth2', master: 'bond0' },
      { kind: 'link-add', name: 'bond0.10', type: 'vlan', vlanBase: 'bond0', vlanId: 10 },
      { kind: 'link-add', name: 'net10', type: 'bridge' },
      { kind: 'link-set', name: 'bond0.10', master: 'net10' },
      ...bridged(3),
    ];
    expect(groupsAsPlanned(ops)).toEqual([
      [0, 1, 2, 3, 4, 5],
      [6, 7, 8, 9, 10],
    ]);
  });

  it('ties ops through what the kernel ties now: deleting a bond takes the VLAN on it', () => {
    const ops: IpPlanOp[] = [
      { kind: 'link-del', name: 'bond0' },
      { kind: 'link-add', name: 'bond0.10', type: 'bridge' },
    ];
    expect(independentOpGroups(ops, [])).toHaveLength(2);
    expect(independentOpGroups(ops, [['bond0.10', 'bond0']])).toEqual([[0, 1]]);
  });

  it('keeps an address moving between devices, routes of one table and their rules in order', () => {
    const ops: IpPlanOp[] = [
      { kind: 'addr-del', address: v4('eth1', '198.18.1.5') },
      { kind: 'addr-add', address: v4('net2', '198.18.1.5') },
      { kind: 'route-add', route: { family: 4, table: 100, dst: 'default', gateway: '198.18.3.1', dev: 'net3' } },
      { kind: 'route-add', route: { family: 4, table: 100, dst: '198.18.4.0/24', dev: 'net4' } },
      { kind: 'rule-add', rule: { family: 4, priority: 3200, from: '198.18.3.0/24', table: 100 } },
      { kind: 'rule-add', rule: { family: 4, priority: 3200, from: '198.18.5.0/24', table: 105 } },
    ];
    expect(groupsAsPlanned(ops)).toEqual([[0, 1], [2, 3, 4], [5]]);
  });

  it('keeps a route with the address it takes as its source, and a route without a device with every op', () => {
    const withSource: IpPlanOp[] = [
      { kind: 'addr-add', address: v4('net1', '198.18.1.5') },
      { kind: 'route-add', route: { family: 4, table: 101, dst: '198.18.9.0/24', dev: 'net9', src: '198.18.1.5' } },
    ];
    expect(groupsAsPlanned(withSource)).toEqual([[0, 1]]);
    const viaGateway: IpPlanOp[] = [
      ...bridged(1),
      { kind: 'route-add', route: { family: 4, table: 254, dst: '198.18.9.0/24', gateway: '198.18.1.1' } },
      ...bridged(2),
    ];
    expect(groupsAsPlanned(viaGateway)).toEqual([viaGateway.map((_, i) => i)]);
  });
});

describe('planTies', () => {
  it('ties each port to its master and each VLAN to its base, in the kernel and as the ops make them', () => {
    const state: KernelState = {
      links: [
        nic('eth1', '02:00:00:00:00:01', { master: 'bond0' }),
        nic('bond0', '02:00:00:00:00:01', { kind: 'bond' }),
        nic('bond0.10', '02:00:00:00:00:01', { kind: 'vlan', master: 'net10', vlan: { base: 'bond0', id: 10 } }),
        nic('eth2', '02:00:00:00:00:02'),
      ],
      addresses: [],
      routes: [],
      rules: [],
    };
    const ops: PlanOp[] = [
      { kind: 'link-add', name: 'eth2.20', type: 'vlan', vlanBase: 'eth2', vlanId: 20 },
      { kind: 'link-set', name: 'eth2.20', master: 'net20' },
      { kind: 'link-set', name: 'eth1', master: null },
      { kind: 'link-up', name: 'eth2.20' },
    ];
    expect(planTies(state, ops)).toEqual([
      ['eth1', 'bond0'],
      ['bond0.10', 'net10'],
      ['bond0.10', 'bond0'],
      ['eth2.20', 'eth2'],
      ['eth2.20', 'net20'],
    ]);
  });
});

describe('balancedBatches', () => {
  it('packs groups into batches of about the same size, each in plan order', () => {
    expect(balancedBatches([[0, 3], [1, 4, 6], [2, 5], [7]], 2)).toEqual([
      [1, 4, 6, 7],
      [0, 2, 3, 5],
    ]);
  });

  it('gives one batch for one group or a count of one, and no empty batch', () => {
    expect(balancedBatches([[0, 1, 2]], 2)).toEqual([[0, 1, 2]]);
    expect(balancedBatches([[0], [1]], 1)).toEqual([[0, 1]]);
  });
});
