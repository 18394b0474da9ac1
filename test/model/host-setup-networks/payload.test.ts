/**
 * Golden VDSM payloads and intents. Every file under test/fixtures/host-setup-networks/ is one case: the
 * request, and the exact `Host.setupNetworks` parameters and store intent prepareHostSetupNetworks must
 * make from it in the world of ./world.ts (changed as the case's `world` edit says). Any difference fails.
 *
 * After a deliberate change, regenerate and review the diff:
 *   UPDATE_GOLDEN=1 npx vitest run test/model/host-setup-networks/payload.test.ts
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AttachmentChanges } from '../../../model/host-networking/intent';
import { completeRequest } from '../../../model/host-setup-networks/complete';
import { buildSetupNetworksPayload, managementNetworkChanged } from '../../../model/host-setup-networks/payload';
import { PreparedKind, prepareHostSetupNetworks } from '../../../model/host-setup-networks/prepare';
import type { HostSetupNetworksRequestInput } from '../../../model/host-setup-networks/request';
import { canonicalizeRequest } from '../../../model/network/canonicalize';
import { EMPTY_CONFIG } from '../../../model/network/config';
import { VdsmCode, VdsmError } from '../../../model/vdsm/error-codes';
import { SetupNetworksParams } from '../../../model/vdsm/setup-networks';
import { A, defaultRouteMovedToDisplay, request, world } from './world';

const FIXTURES = join(import.meta.dirname, '../../fixtures/host-setup-networks');
const UPDATE = process.env.UPDATE_GOLDEN === '1';

type Parts = Omit<HostSetupNetworksRequestInput, 'version' | 'hostId'>;

/** Changes to the world a case may name. */
const WORLDS = { base: () => undefined, 'default-route-moved-to-display': defaultRouteMovedToDisplay } as const;

interface GoldenCase {
  description: string;
  world: keyof typeof WORLDS;
  request: Parts;
}

/** The cases; their fixtures hold these inputs and the expected outputs. */
const CASES: Record<string, GoldenCase> = {
  'add-static-and-dhcp-remove-third': {
    description:
      'vmnet static with its own gateway on eth1 and display by DHCP on eth4 are added, storage is removed, in one atomic request committed on success',
    world: 'base',
    request: {
      attachments: [
        {
          networkName: 'vmnet',
          nicName: 'eth1',
          ipConfiguration: {
            ipv4: { bootProtocol: 'STATIC_IP', address: '203.0.113.10', netmask: '255.255.255.0', gateway: '203.0.113.1' },
          },
        },
        {
          networkName: 'display',
          nicName: 'eth4',
          ipConfiguration: { ipv4: { bootProtocol: 'DHCP' }, ipv6: { bootProtocol: 'AUTOCONF' } },
        },
      ],
      removedAttachments: [A.storage],
      options: { commitOnSuccess: true, connectivityTimeoutSeconds: 60 },
    },
  },
  'bond-with-vlan-networks': {
    description:
      'bond1 is created from eth1 and eth4 without options (so with the engine defaults) and carries VM network vmnet (VLAN 300, DHCP) and jumbo (VLAN 400, MTU 9000, netmask as a prefix); no connectivity check',
    world: 'base',
    request: {
      bonds: [{ name: 'bond1', slaves: ['eth1', 'eth4'] }],
      attachments: [
        { networkName: 'vmnet', nicName: 'bond1', ipConfiguration: { ipv4: { bootProtocol: 'DHCP' } } },
        {
          networkName: 'jumbo',
          nicName: 'bond1',
          ipConfiguration: { ipv4: { bootProtocol: 'STATIC_IP', address: '198.51.100.20', netmask: '/24' } },
        },
      ],
      options: { rollbackOnFailure: false },
    },
  },
  'default-route-move': {
    description:
      'the cluster moved the default-route role from ovirtmgmt to display; syncing display sends it with defaultRoute, its name servers and its IPv6 gateway, and adds ovirtmgmt without the role and without its IPv6 gateway (stored that way too)',
    world: 'default-route-moved-to-display',
    request: { attachments: [{ id: A.display, overrideConfiguration: true }] },
  },
  'ipv6-gateway-only-on-default-route': {
    description:
      'ovirtmgmt (the default route) keeps its IPv6 gateway and sends its own name servers; vmnet with static IPv6 is sent ipv6gateway "::"',
    world: 'base',
    request: {
      attachments: [
        { id: A.ovirtmgmt, dns: { nameServers: ['192.0.2.54', '2001:db8::53'] } },
        {
          networkName: 'vmnet',
          nicName: 'eth1',
          ipConfiguration: { ipv6: { bootProtocol: 'STATIC_IP', address: '2001:db8:3::10', prefix: 64 } },
        },
      ],
    },
  },
  'qos-properties-and-removals': {
    description:
      'vmnet on eth6 with a QoS override and bridge_opts; storage moves off bond0, which is removed; the unmanaged network legacy is removed by its name on the host',
    world: 'base',
    request: {
      attachments: [
        {
          networkName: 'vmnet',
          nicName: 'eth6',
          qos: { outAverageLinkshare: 20, outAverageUpperlimit: 1000, outAverageRealtime: 500 },
          properties: { bridge_opts: 'forward_delay=1500' },
        },
        { id: A.storage, nicName: 'eth7' },
      ],
      removedBonds: ['bond0'],
      removedUnmanagedNetworks: ['legacy'],
    },
  },
};

/** JSON with keys sorted, one line per array element of objects. */
function fixtureText(value: unknown, indent = ''): string {
  const inner = `${indent}  `;
  if (Array.isArray(value))
    return value.length ? `[\n${value.map((v) => `${inner}${fixtureText(v, inner)}`).join(',\n')}\n${indent}]` : '[]';
  if (value && typeof value === 'object') {
    const entries = Object.entries(value).sort(([a], [b]) => a.localeCompare(b));
    return entries.length
      ? `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${fixtureText(v, inner)}`).join(',\n')}\n${indent}}`
      : '{}';
  }
  return JSON.stringify(value);
}

function outputs(c: GoldenCase) {
  const prepared = prepareHostSetupNetworks(request(c.request), world(WORLDS[c.world]));
  if (prepared.kind !== PreparedKind.READY) throw new Error(`case is not ready: ${JSON.stringify(prepared)}`);
  return { payload: prepared.payload, intent: prepared.intent };
}

describe('golden hostSetupNetworks payloads and intents', () => {
  for (const [name, c] of Object.entries(CASES)) {
    it(`${name}: ${c.description}`, () => {
      const file = join(FIXTURES, `${name}.json`);
      const got = { ...c, ...outputs(c) };
      if (UPDATE) {
        mkdirSync(FIXTURES, { recursive: true });
        writeFileSync(file, `${fixtureText(got)}\n`);
      }
      expect(existsSync(file), `${file} is missing; run with UPDATE_GOLDEN=1`).toBe(true);
      const stored = JSON.parse(readFileSync(file, 'utf8')) as typeof got;
      // the fixture's inputs are the case's: a fixture cannot drift from what is tested
      expect({ description: stored.description, world: stored.world, request: stored.request }).toEqual({
        description: c.description,
        world: c.world,
        request: c.request,
      });
      expect(got.payload).toEqual(stored.payload);
      expect(got.intent).toEqual(stored.intent);
      expect(SetupNetworksParams.strict().parse(got.payload)).toEqual(got.payload);
      expect(AttachmentChanges.safeParse(got.intent).success).toBe(true);
    });
  }

  it('has no fixture without a case', () => {
    const files = readdirSync(FIXTURES).filter((f) => f.endsWith('.json'));
    expect(files.sort()).toEqual(
      Object.keys(CASES)
        .map((n) => `${n}.json`)
        .sort(),
    );
  });
});

describe('payload rules', () => {
  it('a removed attachment whose network the same request attaches again (a move) is not sent as a removal', () => {
    const context = world();
    // buildSetupNetworksPayload alone: validation would refuse this request (ATTACHMENT_IS_NOT_REUSED)
    const payload = buildSetupNetworksPayload(
      completeRequest(request({ attachments: [{ networkName: 'storage', nicName: 'eth1' }], removedAttachments: [A.storage] }), context),
      context,
    );
    expect(payload.networks).toEqual({ storage: expect.objectContaining({ nic: 'eth1', vlan: '100' }) });
  });

  it('names a network VDSM cannot take by "on" and its id, and removes it under that name', () => {
    const long = world((w) => {
      w.networks[4].name = 'vm.network-with-a-long-name';
      w.attachments.push({
        ...w.attachments[1],
        id: '30000000-0000-4000-8000-000000000005',
        networkId: w.networks[4].id,
        networkName: 'vm.network-with-a-long-name',
        nicName: 'eth1',
      });
    });
    const removed = buildSetupNetworksPayload(
      completeRequest(request({ removedAttachments: ['30000000-0000-4000-8000-000000000005'] }), long),
      long,
    );
    expect(removed.networks).toEqual({ on1000000000004: { remove: 'true' } });
  });

  it('sends the agent what it accepts, host QoS, bridge_opts and IPv6 autoconf included, except the custom properties it refuses rather than ignore (documented mismatch)', () => {
    for (const c of Object.values(CASES)) {
      const { payload } = outputs(c);
      // The agent sets hostQos, bridge_opts and ipv6autoconf; it refuses other custom properties.
      const refused = Object.entries(payload.networks).filter(([, n]) => Object.keys(n.custom ?? {}).some((key) => key !== 'bridge_opts'));
      const accepted = {
        ...payload,
        networks: Object.fromEntries(Object.entries(payload.networks).filter(([name]) => !refused.some(([r]) => r === name))),
      };
      expect(() => canonicalizeRequest(accepted, { currentNameservers: [], running: EMPTY_CONFIG })).not.toThrow();
      for (const [name, attrs] of refused) {
        let code: number | undefined;
        try {
          canonicalizeRequest({ ...payload, networks: { [name]: attrs } }, { currentNameservers: [], running: EMPTY_CONFIG });
        } catch (err) {
          code = err instanceof VdsmError ? err.code : undefined;
        }
        expect(code, `network ${name}`).toBe(VdsmCode.BAD_PARAMS);
      }
    }
    // The QoS override and bridge_opts of the case that has them reach the agent's canonical form.
    const { payload } = outputs(CASES['qos-properties-and-removals']!);
    const vmnet = canonicalizeRequest(payload, { currentNameservers: [], running: EMPTY_CONFIG }).networks.vmnet;
    expect(vmnet).toMatchObject({
      custom: { bridge_opts: 'forward_delay=1500' },
      hostQos: expect.objectContaining({ ls: expect.any(Number) }),
    });
    // What stays refused: other custom properties.
    expect(() =>
      canonicalizeRequest(
        { ...payload, networks: { other: { nic: 'eth1', custom: { ethtool_opts: '-K eth1 tso off' } } } },
        { currentNameservers: [], running: EMPTY_CONFIG },
      ),
    ).toThrow(VdsmError);
    expect(
      canonicalizeRequest(
        { ...payload, networks: { other: { nic: 'eth1', ipv6autoconf: 'true' } } },
        { currentNameservers: [], running: EMPTY_CONFIG },
      ).networks.other,
    ).toMatchObject({ ipv6autoconf: true });
  });
});

describe('managementNetworkChanged', () => {
  const changed = (parts: Parts, edit?: Parameters<typeof world>[0]) => {
    const context = world(edit);
    return managementNetworkChanged(completeRequest(request(parts), context), context);
  };
  it('is true when the request configures the management network, also as the other half of a default-route move, or updates the bond under it', () => {
    expect(changed({ attachments: [{ id: A.ovirtmgmt, ipConfiguration: { ipv4: { bootProtocol: 'DHCP' } } }] })).toBe(true);
    expect(changed({ attachments: [{ id: A.display, overrideConfiguration: true }] }, defaultRouteMovedToDisplay)).toBe(true);
    const mgmtOnBond0 = (w: Parameters<NonNullable<Parameters<typeof world>[0]>>[0]) => (w.attachments[0].nicName = 'bond0');
    expect(changed({ bonds: [{ name: 'bond0', slaves: ['eth2', 'eth3'], options: 'mode=4' }] }, mgmtOnBond0)).toBe(true);
  });
  it('is false for a change that leaves it alone', () => {
    expect(
      changed({
        attachments: [{ networkName: 'vmnet', nicName: 'eth1' }],
        bonds: [{ name: 'bond0', slaves: ['eth2', 'eth3'], options: 'mode=4' }],
      }),
    ).toBe(false);
  });
});
