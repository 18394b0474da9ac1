/**
 * The planner's ops on the real kernel (the counterpart of the simulator in test/helpers/kernel-simulator.ts,
 * for everything this kernel can build: bridges, addresses, routes, rules, MTUs). A host namespace with two
 * veth NICs goes through a series of setupNetworks-like changes. Each change is planned from a real read,
 * applied by the real backend, read back and verified, planned again (nothing left to do), then rolled back
 * to the snapshot exactly (the agent's rollback plan) and applied once more, as the agent would on retry.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NetworkBackend } from '../../../agent/backend/backend';
import { createLinuxBackend } from '../../../agent/backend/linux-backend';
import type { KernelState, Plan } from '../../../model/net-state';
import { canonicalizeRequest } from '../../../model/network/canonicalize';
import { EMPTY_CONFIG, mergeRunningConfig, type RunningConfig } from '../../../model/network/config';
import { desiredStateForChange, desiredStateFromSnapshot, type DesiredState } from '../../../model/network/desired-state';
import { planChanges } from '../../../model/network/plan';
import { verifyState } from '../../../model/network/verify';
import type { NetworkAttributes } from '../../../model/vdsm/setup-networks';
import { addVethPair, Netns } from '../../../testbed/netns';
import { comparable } from '../../helpers/agent-host';
import { skipBecause } from '../../helpers/skip';
import { kernelSkipReason, testLog, uniqueNetnsName, waitForCarrier, withTempDir } from './kernel-helpers';

const MGMT = { ipaddr: '198.18.40.10', netmask: '255.255.255.0', gateway: '198.18.40.1' };
const mgmt: NetworkAttributes = { nic: 'eth0', bridged: 'true', ...MGMT, defaultRoute: true };
const storage: NetworkAttributes = { nic: 'eth1', bridged: 'false', ipaddr: '198.18.41.10', prefix: '24', gateway: '198.18.41.1' };

/** What the agent plans for a step (network-service.ts: canonicalize → merge → desired state → plan). */
function planStep(
  running: RunningConfig,
  networks: Record<string, NetworkAttributes>,
  current: KernelState,
): { next: RunningConfig; desired: DesiredState; plan: Plan } {
  const request = canonicalizeRequest({ networks, bondings: {}, options: {} }, { currentNameservers: [], running });
  const next = mergeRunningConfig(running, request);
  const desired = desiredStateForChange(running, next, current);
  return { next, desired, plan: planChanges(current, desired, []) };
}

/** The scope the agent rolls back (network-service.ts scopeOf): what the desired state and the plan touch. */
function scopeOf(desired: DesiredState, plan: Plan): { links: string[]; tables: number[] } {
  const links = new Set([
    ...desired.links.map((l) => l.name),
    ...desired.absentLinks,
    ...desired.addressOwners,
    ...desired.routeOwners,
    ...desired.dhcpOwners,
  ]);
  const tables = new Set(desired.ruleTables);
  for (const op of plan.ops) {
    if ('name' in op) links.add(op.name);
    if (op.kind === 'route-add' || op.kind === 'route-del') tables.add(op.route.table);
    if (op.kind === 'rule-add' || op.kind === 'rule-del') tables.add(op.rule.table);
  }
  return { links: [...links].sort(), tables: [...tables].sort((a, b) => a - b) };
}

describe.skipIf(skipBecause(kernelSkipReason, 'planned changes on the real kernel'))('planned changes on the real kernel', () => {
  let host: Netns;
  let peer: Netns;
  let runtime: Awaited<ReturnType<typeof withTempDir>>;
  let backend: NetworkBackend;
  let running: RunningConfig = EMPTY_CONFIG;

  beforeAll(async () => {
    runtime = await withTempDir('planned');
    host = await Netns.create(uniqueNetnsName('hpph'));
    peer = await Netns.create(uniqueNetnsName('hppp'));
    await addVethPair({ ns: host, name: 'eth0' }, { ns: peer, name: 'p0' });
    await addVethPair({ ns: host, name: 'eth1' }, { ns: peer, name: 'p1' });
    for (const dev of ['p0', 'p1']) await peer.ip(['link', 'set', dev, 'mtu', '9000', 'up']);
    await host.ip(['-batch', '-'], {
      input: [
        'link set dev eth0 up',
        'link set dev eth1 up',
        `addr add ${MGMT.ipaddr}/24 dev eth0`,
        `route add default via ${MGMT.gateway} dev eth0 proto static`,
        '',
      ].join('\n'),
    });
    for (const dev of ['eth0', 'eth1']) await waitForCarrier(host, dev);
    backend = createLinuxBackend({ netns: host.name, runtimeDir: runtime.path, log: testLog });
  });

  afterAll(async () => {
    backend?.close();
    for (const ns of [host, peer]) await ns?.destroy();
    await runtime?.remove();
  });

  /** Applies one change, checks it, rolls it back exactly, and applies it again. */
  async function change(networks: Record<string, NetworkAttributes>): Promise<KernelState> {
    const before = await backend.read();
    const { next, desired, plan } = planStep(running, networks, before);
    expect(plan.ops.length).toBeGreaterThan(0);
    await backend.apply(plan);
    const after = await backend.read();
    expect(verifyState(after, desired)).toEqual([]);
    expect(planChanges(after, desired, []).ops).toEqual([]);

    const restore = desiredStateFromSnapshot(before, [], scopeOf(desired, plan), after);
    await backend.apply(planChanges(after, restore, []));
    expect(comparable(await backend.read())).toEqual(comparable(before));

    const again = planStep(running, networks, await backend.read());
    await backend.apply(again.plan);
    const final = await backend.read();
    expect(verifyState(final, again.desired)).toEqual([]);
    expect(comparable(final)).toEqual(comparable(after));
    running = next;
    return final;
  }

  it('builds the management bridge over eth0, moving its address and default route', async () => {
    const state = await change({ ovirtmgmt: mgmt });
    expect(state.links.find((l) => l.name === 'eth0')?.master).toBe('ovirtmgmt');
    expect(state.addresses.filter((a) => a.family === 4).map((a) => `${a.dev} ${a.address}`)).toEqual([`ovirtmgmt ${MGMT.ipaddr}`]);
  });

  it('adds a bridgeless storage network with its own gateway, table and rules', async () => {
    const state = await change({ storage });
    expect(
      state.routes
        .filter((r) => r.dev === 'eth1')
        .map((r) => `${r.dst} ${r.gateway ?? '-'}`)
        .sort(),
    ).toEqual(['198.18.41.0/24 -', 'default 198.18.41.1']);
  });

  it('changes the storage address: routes the kernel flushed with the old address are added again', async () => {
    const state = await change({ storage: { ...storage, ipaddr: '198.18.41.11' } });
    expect(state.addresses.filter((a) => a.dev === 'eth1').map((a) => a.address)).toEqual(['198.18.41.11']);
    expect(state.routes.filter((r) => r.dev === 'eth1')).toHaveLength(2);
  });

  it('moves storage to another subnet and gateway: routes and rules follow', async () => {
    const state = await change({ storage: { ...storage, ipaddr: '198.18.42.10', gateway: '198.18.42.1' } });
    expect(state.rules.map((r) => r.from ?? r.to).sort()).toEqual(['198.18.40.0/24', '198.18.40.0/24', '198.18.42.0/24', '198.18.42.0/24']);
  });

  it('raises the management MTU across bridge and port, then lowers it again', async () => {
    let state = await change({ ovirtmgmt: { ...mgmt, mtu: 9000 } });
    expect(state.links.filter((l) => l.name === 'eth0' || l.name === 'ovirtmgmt').map((l) => l.mtu)).toEqual([9000, 9000]);
    state = await change({ ovirtmgmt: { ...mgmt, mtu: 1500 } });
    expect(state.links.filter((l) => l.name === 'eth0' || l.name === 'ovirtmgmt').map((l) => l.mtu)).toEqual([1500, 1500]);
  });

  it('turns STP on for the management bridge', async () => {
    const state = await change({ ovirtmgmt: { ...mgmt, stp: true } });
    expect(state.links.find((l) => l.name === 'ovirtmgmt')?.bridge).toMatchObject({ stp: true });
  });

  it('moves the default route to storage', async () => {
    const state = await change({ storage: { ...storage, ipaddr: '198.18.42.10', gateway: '198.18.42.1', defaultRoute: true } });
    expect(state.routes.filter((r) => r.table === 254 && r.dst === 'default').map((r) => r.dev)).toEqual(['eth1']);
  });

  it('bridges storage (a bridge over the NIC that carried it), then removes it', async () => {
    await change({ storage: { ...storage, bridged: 'true', ipaddr: '198.18.42.10', gateway: '198.18.42.1', defaultRoute: true } });
    const state = await change({ storage: { remove: true } });
    expect(state.links.map((l) => l.name)).not.toContain('storage');
    expect(state.links.find((l) => l.name === 'eth1')?.master).toBeNull();
  });

  it('makes a leased address static by replacing it: a lease would expire once its client is gone', async () => {
    // What the OS's DHCP client leaves behind when the agent takes the device over: a finite lifetime.
    await host.ip(['addr', 'add', '198.18.43.10/24', 'dev', 'eth1', 'valid_lft', '3600', 'preferred_lft', '3600']);
    const before = await backend.read();
    expect(before.addresses.filter((a) => a.dev === 'eth1' && a.family === 4)).toEqual([
      expect.objectContaining({ address: '198.18.43.10', dynamic: true }),
    ]);
    const { next, desired, plan } = planStep(running, { storage: { ...storage, ipaddr: '198.18.43.10', gateway: '198.18.43.1' } }, before);
    await backend.apply(plan);
    const after = await backend.read();
    expect(verifyState(after, desired)).toEqual([]);
    expect(after.addresses.filter((a) => a.dev === 'eth1' && a.family === 4)).toEqual([
      expect.objectContaining({ address: '198.18.43.10', dynamic: false }),
    ]);
    expect(after.routes.filter((r) => r.dev === 'eth1')).toHaveLength(2);
    expect(planChanges(after, desired, []).ops).toEqual([]);
    running = next;
  });
});
