/**
 * apply() against the real kernel: build an ovirtmgmt-like bridge over a veth NIC (MAC pinned to the NIC's,
 * STP off, MTU 9000, static IPv4 + IPv6 moved from the NIC, default route, source-routing table and rules),
 * read it back equal to the desired state, undo it back to the first read exactly, and name failed ops.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLinuxBackend } from '../../../agent/backend/linux-backend';
import { InvalidPlanOpError, PlanApplyError } from '../../../agent/backend/errors';
import type { NetworkBackend } from '../../../agent/backend/backend';
import type { AddressState, KernelState, LinkState, PlanOp, RouteState, RuleState } from '../../../model/net-state';
import { addVethPair, Netns } from '../../../testbed/netns';
import { skipBecause } from '../../helpers/skip';
import {
  kernelSkipReason,
  sortedState,
  testLog,
  uniqueNetnsName,
  withoutOperState,
  withTempDir,
  waitForCarrier,
  FRESH_BRIDGE_OPTIONS,
} from './kernel-helpers';

const NIC = 'eth0';
const BRIDGE = 'ovirtmgmt';
const NIC_MAC = '02:48:50:30:00:01';
const TABLE = 1_684_930_412; // what VDSM's adler32("ovirtmgmt") style ids look like: large, not main
const V4: Omit<AddressState, 'dev'> = { family: 4, address: '198.18.30.5', prefixLen: 24, dynamic: false };
const V6: Omit<AddressState, 'dev'> = { family: 6, address: '2001:db8:30::5', prefixLen: 64, dynamic: false };
const GATEWAY = '198.18.30.1';
const SUBNET = '198.18.30.0/24';

const mainDefault = (dev: string): RouteState => ({ family: 4, table: 254, dst: 'default', gateway: GATEWAY, dev, protocol: 'static' });
const tableRoutes: RouteState[] = [
  { family: 4, table: TABLE, dst: SUBNET, dev: BRIDGE, protocol: 'static' },
  { family: 4, table: TABLE, dst: 'default', gateway: GATEWAY, dev: BRIDGE, protocol: 'static' },
];
const sourceRules: RuleState[] = [
  { family: 4, priority: 3200, from: SUBNET, table: TABLE },
  { family: 4, priority: 3200, to: SUBNET, table: TABLE },
];

describe.skipIf(skipBecause(kernelSkipReason, 'backend apply tests'))('LinuxBackend.apply', () => {
  let host: Netns;
  let peer: Netns;
  let runtime: Awaited<ReturnType<typeof withTempDir>>;
  let backend: NetworkBackend;

  beforeAll(async () => {
    runtime = await withTempDir('apply');
    host = await Netns.create(uniqueNetnsName('hpah'));
    peer = await Netns.create(uniqueNetnsName('hpap'));
    await addVethPair({ ns: host, name: NIC }, { ns: peer, name: 'sw0' });
    await peer.ip(['link', 'set', 'sw0', 'mtu', '9000', 'up']);
    await host.ip(['-batch', '-'], {
      input: [
        `link set dev ${NIC} address ${NIC_MAC} up`,
        `addr add ${V4.address}/${V4.prefixLen} dev ${NIC}`,
        `addr add ${V6.address}/${V6.prefixLen} dev ${NIC} nodad`,
        `route add default via ${GATEWAY} dev ${NIC} proto static`,
        '',
      ].join('\n'),
    });
    await waitForCarrier(host, NIC);
    backend = createLinuxBackend({ netns: host.name, runtimeDir: runtime.path, log: testLog });
  });

  afterAll(async () => {
    backend?.close();
    for (const ns of [host, peer]) await ns?.destroy();
    await runtime?.remove();
  });

  it('creates the management bridge, then deletes it back to the previous state exactly', async () => {
    const before = await backend.read();
    const nicBefore = before.links.find((l) => l.name === NIC);
    expect(nicBefore).toMatchObject({ mtu: 1500, master: null, mac: NIC_MAC });

    const create: PlanOp[] = [
      // Routes through the NIC go before its addresses: deleting the last IPv4 address flushes them.
      { kind: 'route-del', route: mainDefault(NIC) },
      { kind: 'addr-del', address: { dev: NIC, ...V4 } },
      { kind: 'addr-del', address: { dev: NIC, ...V6 } },
      { kind: 'link-add', name: BRIDGE, type: 'bridge', mac: NIC_MAC, mtu: 9000, stp: false },
      // The port's MTU before (same line as) enslaving: the bridge takes the smallest MTU of its ports.
      { kind: 'link-set', name: NIC, mtu: 9000, master: BRIDGE },
      { kind: 'link-up', name: NIC },
      { kind: 'link-up', name: BRIDGE },
      { kind: 'addr-add', address: { dev: BRIDGE, ...V4 } },
      { kind: 'addr-add', address: { dev: BRIDGE, ...V6 } },
      { kind: 'route-add', route: mainDefault(BRIDGE) },
      ...tableRoutes.map((route): PlanOp => ({ kind: 'route-add', route })),
      ...sourceRules.map((rule): PlanOp => ({ kind: 'rule-add', rule })),
    ];
    await backend.apply({ ops: create });

    const bridge: LinkState = {
      name: BRIDGE,
      kind: 'bridge',
      mtu: 9000,
      up: true,
      mac: NIC_MAC,
      master: null,
      bridge: { stp: false, options: FRESH_BRIDGE_OPTIONS },
    };
    const desired: KernelState = {
      links: [...before.links.map((l) => (l.name === NIC ? { ...l, mtu: 9000, master: BRIDGE } : l)), bridge],
      addresses: [...before.addresses.filter((a) => a.dev !== NIC), { dev: BRIDGE, ...V4 }, { dev: BRIDGE, ...V6 }],
      routes: [...before.routes.filter((r) => r.dev !== NIC), mainDefault(BRIDGE), ...tableRoutes],
      rules: [...before.rules, ...sourceRules],
    };
    const after = await backend.read();
    expect(sortedState(withoutOperState(after))).toEqual(sortedState(withoutOperState(desired)));

    const remove: PlanOp[] = [
      ...sourceRules.map((rule): PlanOp => ({ kind: 'rule-del', rule })),
      ...tableRoutes.map((route): PlanOp => ({ kind: 'route-del', route })),
      { kind: 'route-del', route: mainDefault(BRIDGE) },
      { kind: 'addr-del', address: { dev: BRIDGE, ...V4 } },
      { kind: 'addr-del', address: { dev: BRIDGE, ...V6 } },
      { kind: 'link-set', name: NIC, mtu: 1500, master: null },
      { kind: 'link-del', name: BRIDGE },
      { kind: 'addr-add', address: { dev: NIC, ...V4 } },
      { kind: 'addr-add', address: { dev: NIC, ...V6 } },
      { kind: 'route-add', route: mainDefault(NIC) },
    ];
    await backend.apply({ ops: remove });
    expect(sortedState(await backend.read())).toEqual(sortedState(before));
  });

  it('names the failed op across batches; ops before it stay applied, ops after it do not run', async () => {
    const ops: PlanOp[] = [
      { kind: 'link-add', name: 'hpa1', type: 'bridge' },
      // An IPv6 rule runs in its own `ip -6` process: the failure below is in the third batch.
      { kind: 'rule-add', rule: { family: 6, priority: 1000, from: '2001:db8:31::/64', table: 31 } },
      { kind: 'addr-add', address: { dev: 'hpa1', family: 4, address: '198.18.31.1', prefixLen: 24, dynamic: false } },
      { kind: 'link-up', name: 'hpa-missing' },
      { kind: 'link-add', name: 'hpa2', type: 'bridge' },
    ];
    let thrown: unknown;
    try {
      await backend.apply({ ops });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(PlanApplyError);
    const error = thrown as PlanApplyError;
    expect(error.opIndex).toBe(3);
    expect(error.op).toEqual(ops[3]);
    expect(error.stderr).toContain('hpa-missing');

    const state = await backend.read();
    expect(state.links.map((l) => l.name)).toContain('hpa1');
    expect(state.links.map((l) => l.name)).not.toContain('hpa2');
    expect(state.addresses).toContainEqual({ dev: 'hpa1', family: 4, address: '198.18.31.1', prefixLen: 24, dynamic: false });
    expect(state.rules).toContainEqual({ family: 6, priority: 1000, from: '2001:db8:31::/64', table: 31 });

    await backend.apply({
      ops: [
        { kind: 'rule-del', rule: { family: 6, priority: 1000, from: '2001:db8:31::/64', table: 31 } },
        { kind: 'link-del', name: 'hpa1' },
      ],
    });
  });

  it('applies nothing when an op cannot be rendered safely', async () => {
    const before = await backend.read();
    const ops: PlanOp[] = [
      { kind: 'link-add', name: 'hpa3', type: 'bridge' },
      { kind: 'link-del', name: `${NIC}\nlink del ${NIC}` },
    ];
    await expect(backend.apply({ ops })).rejects.toBeInstanceOf(InvalidPlanOpError);
    await expect(backend.apply({ ops })).rejects.toMatchObject({ opIndex: 1 });
    expect(sortedState(await backend.read())).toEqual(sortedState(before));
  });
});
