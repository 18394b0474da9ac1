import { describe, expect, it } from 'vitest';
import { sourceRouteTableId } from '../../model/ip';
import type { KernelState } from '../../model/net-state';
import { canonicalizeRequest } from '../../model/network/canonicalize';
import { EMPTY_CONFIG, mergeRunningConfig, type RunningConfig } from '../../model/network/config';
import { desiredStateForChange, desiredStateFromSnapshot } from '../../model/network/desired-state';
import { planChanges } from '../../model/network/plan';
import { verifyState } from '../../model/network/verify';
import type { NetworkAttributes } from '../../model/vdsm/setup-networks';
import { addr, defaultVia, installedHost } from '../helpers/host-state';
import { simulatePlan } from '../helpers/kernel-simulator';

function configFor(networks: Record<string, NetworkAttributes>, running: RunningConfig = EMPTY_CONFIG, bondings = {}): RunningConfig {
  const request = canonicalizeRequest({ networks, bondings, options: {} }, { currentNameservers: ['198.18.1.1'], running });
  return mergeRunningConfig(running, request);
}

function change(current: KernelState, previous: RunningConfig, next: RunningConfig) {
  const desired = desiredStateForChange(previous, next, current);
  const plan = planChanges(current, desired, []);
  const after = simulatePlan(current, plan.ops);
  return { desired, plan, after };
}

const mgmt: NetworkAttributes = {
  nic: 'eth0',
  bridged: 'true',
  ipaddr: '198.18.1.10',
  netmask: '255.255.255.0',
  gateway: '198.18.1.1',
  defaultRoute: true,
  mtu: 1500,
};

describe('planChanges: ovirtmgmt on the NIC that reaches the manager', () => {
  const current = installedHost();
  const next = configFor({ ovirtmgmt: mgmt });
  const { desired, plan, after } = change(current, EMPTY_CONFIG, next);

  it('yields a state the verifier accepts', () => {
    expect(verifyState(after, desired)).toEqual([]);
  });

  it('moves the address and default route from the NIC to a bridge with the NIC MAC', () => {
    const bridge = after.links.find((l) => l.name === 'ovirtmgmt');
    expect(bridge).toMatchObject({ kind: 'bridge', mac: '52:54:00:00:00:10', up: true, bridge: { stp: false } });
    expect(after.links.find((l) => l.name === 'eth0')?.master).toBe('ovirtmgmt');
    expect(after.addresses).toEqual([addr('ovirtmgmt', '198.18.1.10/24')]);
    expect(after.routes.filter((r) => r.table === 254)).toEqual([
      expect.objectContaining({ dst: 'default', gateway: '198.18.1.1', dev: 'ovirtmgmt' }),
    ]);
  });

  it('gives the network its own routing table and source rules (multiple gateways)', () => {
    const table = sourceRouteTableId('ovirtmgmt');
    expect(
      after.routes
        .filter((r) => r.table === table)
        .map((r) => `${r.dst} ${r.gateway ?? ''}`)
        .sort(),
    ).toEqual(['198.18.1.0/24 ', 'default 198.18.1.1']);
    expect(after.rules.map((r) => `${r.from ?? ''}>${r.to ?? ''}@${r.priority}`).sort()).toEqual([
      '198.18.1.0/24>@3200',
      '>198.18.1.0/24@3200',
    ]);
  });

  it('deletes before it adds, and creates the bridge before enslaving the NIC', () => {
    const kinds = plan.ops.map((o) => o.kind);
    expect(kinds.indexOf('route-del')).toBeLessThan(kinds.indexOf('addr-del'));
    expect(kinds.indexOf('addr-del')).toBeLessThan(kinds.indexOf('link-add'));
    const enslave = plan.ops.findIndex((o) => o.kind === 'link-set' && o.master === 'ovirtmgmt');
    expect(kinds.indexOf('link-add')).toBeLessThan(enslave);
    expect(enslave).toBeLessThan(kinds.indexOf('addr-add'));
    expect(kinds.lastIndexOf('addr-add')).toBeLessThan(kinds.indexOf('route-add'));
  });

  it('is idempotent: planning the same change again yields nothing', () => {
    const again = planChanges(after, desiredStateForChange(next, next, after), []);
    expect(again.ops).toEqual([]);
  });

  it('rolls back to exactly the previous kernel state', () => {
    const scope = { links: [...new Set([...desired.links.map((l) => l.name), ...desired.absentLinks])], tables: desired.ruleTables };
    const restore = desiredStateFromSnapshot(current, [], scope, after);
    const back = simulatePlan(after, planChanges(after, restore, []).ops);
    const norm = (s: KernelState) => JSON.stringify({ ...s, links: [...s.links].sort((a, b) => a.name.localeCompare(b.name)) });
    expect(norm(back)).toEqual(norm(current));
  });

  it('removing the network deletes the bridge and its table rules', () => {
    const removed = configFor({ ovirtmgmt: { remove: true } }, next);
    const r = change(after, next, removed);
    expect(r.after.links.map((l) => l.name)).not.toContain('ovirtmgmt');
    expect(r.after.rules).toEqual([]);
    expect(r.after.links.find((l) => l.name === 'eth0')?.master).toBeNull();
  });
});

describe('planChanges: other shapes', () => {
  it('a bridgeless network keeps the address on the NIC and only adjusts it', () => {
    const current = installedHost();
    const next = configFor({ ovirtmgmt: { ...mgmt, bridged: false, mtu: 9000 } });
    const { desired, plan, after } = change(current, EMPTY_CONFIG, next);
    expect(verifyState(after, desired)).toEqual([]);
    expect(plan.ops.filter((o) => o.kind === 'link-add')).toEqual([]);
    expect(after.links.find((l) => l.name === 'eth0')?.mtu).toBe(9000);
    expect(after.addresses).toEqual([addr('eth0', '198.18.1.10/24')]);
  });

  it('bridge options: created with the bridge, verified, and a time read one hundredth lower still holds', () => {
    const current = installedHost();
    const next = configFor({ ovirtmgmt: { ...mgmt, custom: { bridge_opts: 'multicast_snooping=0 forward_delay=1234' } } });
    const { desired, plan, after } = change(current, EMPTY_CONFIG, next);
    expect(plan.ops.find((o) => o.kind === 'link-add' && o.name === 'ovirtmgmt')).toMatchObject({
      bridgeOptions: { forward_delay: '1234', multicast_snooping: '0' },
    });
    expect(verifyState(after, desired)).toEqual([]);
    const withOptions = (options: Record<string, string>): KernelState => ({
      ...after,
      links: after.links.map((l) => (l.name === 'ovirtmgmt' ? { ...l, bridge: { stp: false, options } } : l)),
    });
    expect(verifyState(withOptions({ forward_delay: '1233', multicast_snooping: '0' }), desired)).toEqual([]);
    expect(verifyState(withOptions({ forward_delay: '1232', multicast_snooping: '1' }), desired)).toEqual([
      'bridge ovirtmgmt has forward_delay 1232, expected 1234',
      'bridge ovirtmgmt has multicast_snooping 1, expected 0',
    ]);
    expect(verifyState(withOptions({ forward_delay: '1234' }), desired)).toEqual([
      'bridge ovirtmgmt has multicast_snooping unset, expected 0',
    ]);
  });

  it('IPv6 per bridge: off for a network without IPv6 configuration, verified when read, left alone unless asked', () => {
    const current = installedHost();
    const next = configFor({ ovirtmgmt: mgmt });
    const desired = desiredStateForChange(EMPTY_CONFIG, next, current, { ipv6: true });
    expect(desired.links.find((l) => l.name === 'ovirtmgmt')?.ipv6).toBe(false);
    const plan = planChanges(current, desired, []);
    // Off last, after the bridge came up: whatever it learned meanwhile goes with it.
    expect(plan.ops.at(-1)).toEqual({ kind: 'link-ipv6', name: 'ovirtmgmt', enabled: false });
    const after = simulatePlan(current, plan.ops);
    expect(verifyState(after, desired)).toEqual([]);
    const turnedOn = { ...after, links: after.links.map((l) => (l.name === 'ovirtmgmt' ? { ...l, ipv6: true } : l)) };
    expect(verifyState(turnedOn, desired)).toEqual(['link ovirtmgmt has IPv6 on, expected off']);
    // Not read (a backend driving another namespace): nothing to verify.
    const unread = { ...after, links: after.links.map(({ ipv6: _ipv6, ...l }) => l) };
    expect(verifyState(unread, desired)).toEqual([]);
    // Without the option the desired state says nothing about IPv6, and the plan has no such op.
    expect(change(current, EMPTY_CONFIG, next).plan.ops.some((o) => o.kind === 'link-ipv6')).toBe(false);
  });

  it('IPv6 per bridge: router advertisements taken only with ipv6autoconf, verified when read, written when not read', () => {
    const current = installedHost();
    const withIpv6 = (attrs: Record<string, string>) =>
      desiredStateForChange(EMPTY_CONFIG, configFor({ ovirtmgmt: { ...mgmt, ...attrs } }), current, { ipv6: true });
    const bridge = (d: ReturnType<typeof withIpv6>) => d.links.find((l) => l.name === 'ovirtmgmt');
    // An advertised router becomes a default route only on the default route's network.
    expect(bridge(withIpv6({ ipv6autoconf: 'true' }))).toMatchObject({ ipv6: true, ipv6Autoconf: true, ipv6DefaultRouter: true });
    expect(bridge(withIpv6({ ipv6autoconf: 'true', defaultRoute: 'false' }))).toMatchObject({ ipv6DefaultRouter: false });
    expect(bridge(withIpv6({ dhcpv6: 'true' }))).toMatchObject({ ipv6: true, ipv6Autoconf: false });
    expect(bridge(withIpv6({ dhcpv6: 'true', ipv6autoconf: 'true' }))).toMatchObject({ ipv6: true, ipv6Autoconf: true });
    expect(bridge(withIpv6({ ipv6addr: '2001:db8::10/64' }))).toMatchObject({ ipv6: true, ipv6Autoconf: false });
    expect(bridge(withIpv6({ dhcpv6: 'true' }))).not.toHaveProperty('ipv6DefaultRouter');
    expect(bridge(withIpv6({}))).not.toHaveProperty('ipv6Autoconf');

    const desired = withIpv6({ dhcpv6: 'true' });
    const plan = planChanges(current, desired, []);
    expect(plan.ops.find((o) => o.kind === 'link-ipv6')).toEqual({ kind: 'link-ipv6', name: 'ovirtmgmt', enabled: true, autoconf: false });
    const after = simulatePlan(current, plan.ops);
    expect(verifyState(after, desired)).toEqual([]);
    const bridgeIs = (state: KernelState, link: Partial<KernelState['links'][number]>): KernelState => ({
      ...state,
      links: state.links.map(({ ipv6Autoconf: _autoconf, ...l }) => (l.name === 'ovirtmgmt' ? { ...l, ...link } : l)),
    });
    expect(verifyState(bridgeIs(after, { ipv6: true, ipv6Autoconf: true }), desired)).toEqual([
      'link ovirtmgmt takes router advertisements, expected it to ignore them',
    ]);
    // On, and already as wanted: nothing to do. On, but whether it takes them was not read: written, and
    // whatever it may have learned forgotten.
    expect(
      planChanges(bridgeIs(after, { ipv6: true, ipv6Autoconf: false }), desired, []).ops.filter((o) => o.kind === 'link-ipv6'),
    ).toEqual([]);
    expect(planChanges(bridgeIs(after, { ipv6: true }), desired, []).ops.filter((o) => o.kind === 'link-ipv6')).toEqual([
      { kind: 'link-ipv6', name: 'ovirtmgmt', enabled: true, autoconf: false, forget: 'everything' },
    ]);
    // Not read at all (a backend driving another namespace): left alone, nothing to verify.
    expect(planChanges(bridgeIs(after, { ipv6: undefined }), desired, []).ops.some((o) => o.kind === 'link-ipv6')).toBe(false);
    expect(verifyState(bridgeIs(after, {}), desired)).toEqual([]);

    // Autoconf on the default route's network: advertised routers become default routes, planned, verified.
    const slaac = withIpv6({ ipv6autoconf: 'true' });
    const slaacPlan = planChanges(after, slaac, []);
    expect(slaacPlan.ops.filter((o) => o.kind === 'link-ipv6')).toEqual([
      { kind: 'link-ipv6', name: 'ovirtmgmt', enabled: true, autoconf: true, defaultRouter: true },
    ]);
    const slaacAfter = simulatePlan(after, slaacPlan.ops);
    expect(verifyState(slaacAfter, slaac)).toEqual([]);
    const noDefaultRouter = bridgeIs(slaacAfter, { ipv6: true, ipv6Autoconf: true, ipv6DefaultRouter: false });
    expect(verifyState(noDefaultRouter, slaac)).toEqual(['link ovirtmgmt ignores advertised default routers, expected it to take them']);
    expect(planChanges(noDefaultRouter, slaac, []).ops.filter((o) => o.kind === 'link-ipv6')).toEqual([
      { kind: 'link-ipv6', name: 'ovirtmgmt', enabled: true, autoconf: true, defaultRouter: true },
    ]);
    // Leaving the default route, it forgets its learned default route; leaving autoconf, all it learned.
    const ipv6Ops = (state: KernelState, desired: ReturnType<typeof withIpv6>) =>
      planChanges(state, desired, []).ops.filter((o) => o.kind === 'link-ipv6');
    expect(ipv6Ops(slaacAfter, withIpv6({ ipv6autoconf: 'true', defaultRoute: 'false' }))).toEqual([
      { kind: 'link-ipv6', name: 'ovirtmgmt', enabled: true, autoconf: true, defaultRouter: false, forget: 'default-route' },
    ]);
    expect(ipv6Ops(slaacAfter, withIpv6({ dhcpv6: 'true' }))).toEqual([
      { kind: 'link-ipv6', name: 'ovirtmgmt', enabled: true, autoconf: false, forget: 'everything' },
    ]);
  });

  it("IPv6 per device: bridge ports off, a bridgeless network's device by its network, a device a network leaves off", () => {
    const current = installedHost();
    current.links.push({ name: 'eth2', kind: 'nic', mtu: 1500, up: true, mac: '52:54:00:00:00:12', master: null });
    const bond0 = { nics: ['eth2'], options: 'mode=1 miimon=100' };
    const next = configFor(
      {
        ovirtmgmt: mgmt,
        vmnet: { bonding: 'bond0', vlan: '100', bridged: 'true' },
        storage: { nic: 'eth1', bridged: 'false', ipv6autoconf: 'true' },
      },
      EMPTY_CONFIG,
      { bond0 },
    );
    const ipv6Of = (desired: ReturnType<typeof desiredStateForChange>) =>
      Object.fromEntries(
        desired.links.map((l) => [
          l.name,
          [l.ipv6, l.ipv6Autoconf, l.ipv6DefaultRouter].map((v) => (v === undefined ? '-' : String(v))).join(' '),
        ]),
      );
    const desired = desiredStateForChange(EMPTY_CONFIG, next, current, { ipv6: true });
    // The VLAN is vmnet's port; the bond under it and its slave are no network's top device or port.
    expect(ipv6Of(desired)).toEqual({
      eth0: 'false - -',
      eth1: 'true true false',
      eth2: '- - -',
      bond0: '- - -',
      'bond0.100': 'false - -',
      ovirtmgmt: 'false - -',
      vmnet: 'false - -',
    });
    // storage leaves eth1 (off), and vmnet moves off the VLAN onto the bond, its port now (off).
    const later = configFor({ ovirtmgmt: mgmt, vmnet: { bonding: 'bond0', bridged: 'true' }, storage: { remove: 'true' } }, next);
    const leaving = desiredStateForChange(next, later, current, { ipv6: true });
    expect(ipv6Of(leaving)).toMatchObject({ eth1: 'false - -', bond0: 'false - -' });
    expect(leaving.absentLinks).toContain('bond0.100');
    // Without the option, no device's IPv6 is decided.
    expect(desiredStateForChange(EMPTY_CONFIG, next, current).links.every((l) => l.ipv6 === undefined)).toBe(true);
  });

  it('a NIC a network left stays released, IPv6 off, until a network takes it again; a VLAN on it does not', () => {
    const current = installedHost();
    const mgmt = { nic: 'eth0', bridged: 'true', ipaddr: '198.18.1.10', netmask: '255.255.255.0', defaultRoute: true };
    const withStorage = configFor({ ovirtmgmt: mgmt, storage: { nic: 'eth1', bridged: 'false', ipv6autoconf: 'true' } });
    expect(withStorage.releasedDevices).toBeUndefined();
    // ovirtmgmt stays on eth0 (changed, not moved); storage leaves eth1
    const released = configFor({ ovirtmgmt: { ...mgmt, mtu: 1500 }, storage: { remove: 'true' } }, withStorage);
    expect(released.releasedDevices).toEqual(['eth1']);
    // rendered on its own, as at a boot: eth1 has IPv6 off; without the option, or once gone from the kernel, nothing
    const eth1Of = (config: RunningConfig, kernel: KernelState = current, ipv6 = true) =>
      desiredStateForChange(EMPTY_CONFIG, config, kernel, { ipv6 }).links.find((l) => l.name === 'eth1');
    expect(eth1Of(released)).toEqual({ name: 'eth1', ipv6: false });
    expect(eth1Of(released, current, false)).toBeUndefined();
    expect(eth1Of(released, { ...current, links: current.links.filter((l) => l.name !== 'eth1') })).toBeUndefined();
    // a VLAN network over eth1 leaves it released; a network on eth1 itself takes it back
    const tagged = configFor({ tagged: { nic: 'eth1', vlan: '7', bridged: 'false', ipaddr: '198.18.7.10', prefix: 24 } }, released);
    expect(tagged.releasedDevices).toEqual(['eth1']);
    const taken = configFor({ vmnet: { nic: 'eth1', bridged: 'true' } }, tagged);
    expect(taken.releasedDevices).toBeUndefined();
    expect(eth1Of(taken)).toMatchObject({ name: 'eth1', master: 'vmnet', ipv6: false });
  });

  it('a VLAN network on a bond creates bond, slaves, VLAN and bridge in dependency order', () => {
    const current = installedHost();
    current.links.push({ name: 'eth2', kind: 'nic', mtu: 1500, up: true, mac: '52:54:00:00:00:12', master: null });
    const next = configFor({ vmnet: { bonding: 'bond0', vlan: '100', bridged: 'true', bootproto: 'dhcp', mtu: 9000 } }, EMPTY_CONFIG, {
      bond0: { nics: ['eth2', 'eth1'], options: 'mode=802.3ad miimon=100' },
    });
    const { desired, plan, after } = change(current, EMPTY_CONFIG, next);
    expect(verifyState(after, desired)).toEqual([]);
    const adds = plan.ops.filter((o) => o.kind === 'link-add').map((o) => (o.kind === 'link-add' ? `${o.type}:${o.name}` : ''));
    expect(adds).toEqual(['bond:bond0', 'vlan:bond0.100', 'bridge:vmnet']);
    expect(after.links.find((l) => l.name === 'bond0')).toMatchObject({ mtu: 9000, bond: { mode: '802.3ad', options: { miimon: '100' } } });
    expect(plan.ops.at(-1)).toEqual({
      kind: 'dhcp-start',
      dev: 'vmnet',
      family: 4,
      table: sourceRouteTableId('vmnet'),
      defaultRoute: false,
      sourceRouting: true,
    });
  });

  it('moving the default route to another network strips it from the previous owner', () => {
    const current = installedHost();
    current.addresses.push(addr('eth1', '198.18.2.10/24'));
    const first = configFor({ ovirtmgmt: mgmt });
    const s1 = change(current, EMPTY_CONFIG, first).after;
    const second = configFor(
      { storage: { nic: 'eth1', bridged: false, ipaddr: '198.18.2.10', prefix: 24, gateway: '198.18.2.1', defaultRoute: true } },
      first,
    );
    expect(second.networks.ovirtmgmt?.defaultRoute).toBe(false);
    const { desired, after } = change(s1, first, second);
    expect(verifyState(after, desired)).toEqual([]);
    expect(after.routes.filter((r) => r.table === 254)).toEqual([expect.objectContaining({ dev: 'eth1', gateway: '198.18.2.1' })]);
    // both networks keep their own tables: replies leave through the network they came in on
    expect(after.rules.length).toBe(4);
  });

  it('a NIC released from a bridge that stays is explicitly un-enslaved', () => {
    const current = installedHost();
    const first = configFor({ vm: { nic: 'eth1', bridged: true } });
    const s1 = change(current, EMPTY_CONFIG, first).after;
    const moved = configFor({ vm: { nic: 'eth0', bridged: true } }, first);
    const { after } = change(s1, first, moved);
    expect(after.links.find((l) => l.name === 'eth1')?.master).toBeNull();
    expect(after.links.find((l) => l.name === 'eth0')?.master).toBe('vm');
  });

  it('keeps routes and dynamic addresses that a kept DHCP client learned', () => {
    const current = installedHost();
    current.addresses = [addr('eth0', '198.18.1.77/24', true)];
    current.routes = [{ ...defaultVia('198.18.1.1', 'eth0'), protocol: 'dhcp' }];
    const cfg = configFor({ mgmt: { nic: 'eth0', bridged: false, bootproto: 'dhcp', defaultRoute: true } });
    const client = { dev: 'eth0', family: 4 as const, table: 254, defaultRoute: true, sourceRouting: false };
    const plan = planChanges(current, desiredStateForChange(cfg, cfg, current), [client]);
    expect(plan.ops).toEqual([]);
  });
});
