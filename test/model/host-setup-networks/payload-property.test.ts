/**
 * Property: for any request the model accepts, the payload is a valid `Host.setupNetworks` call (it parses
 * with the strict wire schema of model/vdsm/setup-networks.ts) and keeps the engine's rules, and the intent
 * parses as the store's AttachmentChanges; for any request it refuses, every violation parses as one.
 * Requests are drawn from a seeded generator over the world of ./world.ts, so a failure reproduces.
 */
import { describe, expect, it } from 'vitest';
import { AttachmentChanges } from '../../../model/host-networking/intent';
import { vdsmNetworkName } from '../../../model/host-networking/vdsm-name';
import { PreparedKind, prepareHostSetupNetworks } from '../../../model/host-setup-networks/prepare';
import type { HostSetupNetworksRequestInput } from '../../../model/host-setup-networks/request';
import { Violation } from '../../../model/host-setup-networks/violations';
import { SetupNetworksParams } from '../../../model/vdsm/setup-networks';
import { A, defaultRouteMovedToDisplay, request, world } from './world';

/** mulberry32: a small seeded generator, so every run draws the same requests. */
function generator(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
  const chance = (p: number) => next() < p;
  return { pick, chance };
}

const IPV4 = [
  undefined,
  { bootProtocol: 'NONE' },
  { bootProtocol: 'DHCP' },
  { bootProtocol: 'STATIC_IP', address: '203.0.113.10', netmask: '255.255.255.0' },
  { bootProtocol: 'STATIC_IP', address: '203.0.113.11', netmask: '24', gateway: '203.0.113.1' },
] as const;
const IPV6 = [
  undefined,
  { bootProtocol: 'NONE' },
  { bootProtocol: 'DHCP' },
  { bootProtocol: 'AUTOCONF' },
  { bootProtocol: 'POLY_DHCP_AUTOCONF' },
  { bootProtocol: 'STATIC_IP', address: '2001:db8:5::10', prefix: 64 },
  { bootProtocol: 'STATIC_IP', address: '2001:db8:5::11', prefix: 64, gateway: '2001:db8:5::1' },
] as const;
const NICS = ['eth0', 'eth1', 'eth4', 'eth6', 'eth7', 'bond0', 'bond1'];
const NEW_NETWORKS = ['display', 'migration', 'vmnet', 'jumbo'];

type Parts = Omit<HostSetupNetworksRequestInput, 'version' | 'hostId'>;

function draw(rng: ReturnType<typeof generator>): Parts {
  const attachments: NonNullable<Parts['attachments']> = [];
  for (const name of NEW_NETWORKS) {
    if (!rng.chance(0.35)) continue;
    const ipv4 = rng.pick(IPV4);
    const ipv6 = rng.pick(IPV6);
    attachments.push({
      networkName: name,
      nicName: rng.pick(NICS),
      ...(ipv4 || ipv6 ? { ipConfiguration: { ...(ipv4 ? { ipv4 } : {}), ...(ipv6 ? { ipv6 } : {}) } } : {}),
      ...(rng.chance(0.2) ? { qos: { outAverageLinkshare: 10 } } : {}),
      ...(rng.chance(0.2) ? { properties: { bridge_opts: 'forward_delay=1500' } } : {}),
    });
  }
  if (rng.chance(0.3)) attachments.push({ id: A.storage, nicName: rng.pick(NICS) });
  if (rng.chance(0.3))
    attachments.push({
      id: A.ovirtmgmt,
      ipConfiguration: { ipv4: { bootProtocol: 'DHCP' }, ...(rng.chance(0.5) ? { ipv6: rng.pick(IPV6.filter(Boolean)) } : {}) },
      overrideConfiguration: rng.chance(0.5),
    });
  const slaves = ['eth1', 'eth4', 'eth6', 'eth7'].filter(() => rng.chance(0.5));
  return {
    attachments,
    bonds: rng.chance(0.4)
      ? [{ name: 'bond1', slaves, ...(rng.chance(0.5) ? { options: rng.pick(['mode=1 miimon=100', 'mode=802.3ad', 'mode=0']) } : {}) }]
      : [],
    removedAttachments: rng.chance(0.2) ? [A.storage] : [],
    removedBonds: rng.chance(0.1) ? ['bond0'] : [],
    removedUnmanagedNetworks: rng.chance(0.2) ? ['legacy'] : [],
    options: { rollbackOnFailure: rng.chance(0.7), commitOnSuccess: rng.chance(0.5), connectivityTimeoutSeconds: rng.pick([4, 60, 120]) },
  };
}

describe('hostSetupNetworks payload property', () => {
  it('every accepted request gives a strict, engine-shaped setupNetworks call and a storable intent; every refusal gives well-formed violations', () => {
    const rng = generator(20_260_101);
    const counts = { ready: 0, invalid: 0, noOp: 0 };
    for (let i = 0; i < 400; i++) {
      const moved = rng.chance(0.3);
      const context = world(moved ? defaultRouteMovedToDisplay : undefined);
      const parts = draw(rng);
      const prepared = prepareHostSetupNetworks(request(parts), context);
      const where = `draw ${i}: ${JSON.stringify(parts)}`;
      if (prepared.kind === PreparedKind.NO_OP) {
        counts.noOp++;
        continue;
      }
      if (prepared.kind === PreparedKind.INVALID) {
        counts.invalid++;
        for (const v of prepared.violations) expect(Violation.safeParse(v).success, where).toBe(true);
        continue;
      }
      counts.ready++;
      const { payload, intent } = prepared;
      expect(SetupNetworksParams.strict().parse(payload), where).toEqual(payload);
      expect(AttachmentChanges.safeParse(intent).success, where).toBe(true);

      const defaultRouteName = vdsmNetworkName(moved ? { id: '', name: 'display' } : { id: '', name: 'ovirtmgmt' });
      for (const [name, attrs] of Object.entries(payload.networks)) {
        if (attrs.remove !== undefined) {
          expect(attrs, where).toEqual({ remove: 'true' });
          continue;
        }
        expect(
          [attrs.nic, attrs.bonding].filter((d) => d !== undefined),
          where,
        ).toHaveLength(1);
        if (attrs.vlan !== undefined) expect(attrs.vlan, where).toMatch(/^\d+$/);
        expect(['true', 'false'], where).toContain(attrs.bridged);
        expect(attrs.STP !== undefined, where).toBe(attrs.bridged === 'true');
        expect(Number.isInteger(attrs.mtu) && Number(attrs.mtu) >= 68, where).toBe(true);
        expect(attrs.defaultRoute === true, where).toBe(name === defaultRouteName);
        if (attrs.nameservers !== undefined) expect(attrs.defaultRoute, where).toBe(true);
        if (attrs.ipv6gateway !== undefined && attrs.ipv6gateway !== '::') expect(attrs.defaultRoute, where).toBe(true);
        if (attrs.bootproto !== undefined) expect(attrs.ipaddr, where).toBeUndefined();
        expect(attrs.switch, where).toBe('legacy');
      }
      for (const bond of Object.values(payload.bondings)) {
        if (bond.remove === undefined) expect(bond.nics?.length, where).toBeGreaterThanOrEqual(2);
      }
      expect(payload.options.connectivityTimeout !== undefined, where).toBe(payload.options.connectivityCheck === 'true');
      // the intent writes exactly the networks the payload configures
      expect(intent.upserts?.length, where).toBe(Object.values(payload.networks).filter((n) => n.remove === undefined).length);
    }
    // the draw must exercise all three outcomes, else the property says little
    expect(counts.ready).toBeGreaterThan(50);
    expect(counts.invalid).toBeGreaterThan(50);
    expect(counts.noOp).toBeGreaterThan(0);
  });
});
