/**
 * Properties of `Host.setupNetworks` on the real agent against a real kernel (a namespaced test host,
 * test/helpers/agent-host.ts): a request that is invalid in any of the ways docs/setup-networks.md lists
 * is refused with a VDSM or JSON-RPC code, never with an internal error, and leaves the kernel exactly as
 * it was (links, addresses, routes and rules, compared after every case). Each request also carries
 * valid changes and `connectivityCheck: false`, so a refusal that came too late, or an acceptance, would
 * stay visible in the kernel rather than being rolled back.
 */
import { isIPv4 } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseBridgeOpts } from '../../model/network/bridge-options';
import { JsonRpcCode, VdsmCode } from '../../model/vdsm/error-codes';
import { Capabilities } from '../../model/vdsm/capabilities';
import { AgentRpcError } from '../../vdsm/client/errors';
import { netnsUnavailableReason } from '../../testbed/netns';
import { comparable, createAgentHost, type AgentHost } from '../helpers/agent-host';
import { skipBecause } from '../helpers/skip';
import { propertyParameters, REPLAY_HINT } from '../helpers/property';

const unavailable = await netnsUnavailableReason();

/** The host's devices (test/helpers/agent-host.ts); a NIC named anything else does not exist. */
const EXISTING_NICS = new Set(['eth0', 'eth1']);
const KNOWN_NETWORK_KEYS = new Set([
  'nic',
  'bonding',
  'vlan',
  'mtu',
  'bridged',
  'stp',
  'STP',
  'bootproto',
  'ipaddr',
  'netmask',
  'prefix',
  'gateway',
  'ipv6addr',
  'ipv6gateway',
  'dhcpv6',
  'ipv6autoconf',
  'defaultRoute',
  'nameservers',
  'switch',
  'hostQos',
  'custom',
  'remove',
  'blockingdhcp',
]);

/** Text with what would split an `ip -batch` line or a command: spaces, newlines, `#`, quotes, separators. */
const hostileText: fc.Arbitrary<string> = fc.oneof(
  fc.string({
    unit: fc.constantFrom('a', 'e', 't', 'h', '0', '1', '.', ':', '-', ' ', '\n', '\t', '#', '"', "'", '\\', ';', '/', '%', '\0'),
    maxLength: 20,
  }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.constantFrom('eth1 down', 'eth1\nlink del eth0', 'eth1#', '"eth1"', 'eth0;reboot', '../eth1', 'eth1 type dummy', 'x'.repeat(40)),
);

type Params = { networks: Record<string, unknown>; bondings: Record<string, unknown>; options: Record<string, unknown> };
/** An invalid part of a request, and the codes its refusal may carry. */
type Poison = { what: string; params: Record<string, unknown>; codes: readonly number[] };

const { BAD_PARAMS, BAD_ADDR, BAD_NIC, BAD_BONDING, BAD_VLAN, BAD_BRIDGE } = VdsmCode;
const INVALID_PARAMS = JsonRpcCode.INVALID_PARAMS;
/** This host's kernel may lack bonding: then every bond is refused with 25 before its other checks. */
const OR_NO_BONDING = [BAD_BONDING];

const poison = (what: string, codes: readonly number[], params: Record<string, unknown>): Poison => ({ what, params, codes });

/** Whether the agent's parser refuses these bridge options (a hostile string can still be valid: `priority=1 `). */
function refusedBridgeOpts(opts: string): boolean {
  try {
    parseBridgeOpts('pnet', opts);
    return false;
  } catch {
    return true;
  }
}
const net = (name: string, attrs: Record<string, unknown>) => ({ networks: { [name]: attrs } });
const name = fc.constantFrom('pnet', 'ovirtmgmt', 'storage');
/** Names every plain object inherits: a lookup by name must not find them. */
const inheritedName = fc.constantFrom('constructor', 'toString', 'valueOf', 'hasOwnProperty', '__defineGetter__');

/**
 * One way a request can be invalid; each is enough on its own to refuse the whole request. Leniency VDSM
 * shares is not invalid: integers as strings with surrounding blanks (" 10 ", like Python's int()), an empty
 * gateway, a null section.
 */
const poisons: fc.Arbitrary<Poison> = fc.oneof(
  fc
    .tuple(name, fc.oneof(fc.integer(), fc.boolean(), fc.array(fc.string(), { maxLength: 2 }), fc.constant({})))
    .map(([n, nic]) => poison('nic of the wrong type', [INVALID_PARAMS], net(n, { nic }))),
  fc
    .tuple(
      name,
      fc.string({ minLength: 1, maxLength: 12 }).filter((k) => !KNOWN_NETWORK_KEYS.has(k) && k !== '__proto__'),
    )
    .map(([n, key]) => poison('unknown attribute', [INVALID_PARAMS], net(n, { nic: 'eth1', [key]: 1 }))),
  fc
    .tuple(
      name,
      hostileText.filter((nic) => !EXISTING_NICS.has(nic)),
    )
    .map(([n, nic]) => poison('NIC that does not exist', [BAD_NIC, BAD_PARAMS], net(n, { nic, bridged: true }))),
  fc
    .tuple(name, fc.constantFrom(-1, 4095, 5000, 1.5, 'abc', '', '0x10', '1e3', '1 0', true))
    .map(([n, vlan]) => poison('bad VLAN id', [BAD_VLAN, INVALID_PARAMS], net(n, { nic: 'eth1', vlan }))),
  fc
    .tuple(name, fc.constantFrom(0, 67, 65_536, -1, 'x', 1.5, '9 000'))
    .map(([n, mtu]) => poison('bad MTU', [BAD_PARAMS], net(n, { nic: 'eth1', mtu }))),
  fc
    .tuple(
      name,
      hostileText.filter((a) => !isIPv4(a)),
    )
    .map(([n, ipaddr]) => poison('bad address', [BAD_ADDR], net(n, { nic: 'eth1', bootproto: 'none', ipaddr, netmask: '255.255.255.0' }))),
  fc
    .tuple(name, fc.constantFrom('255.0.255.0', '255.255.255.256', 'x', '24', '0.0.0.255', '255.255.255.0/24'))
    .map(([n, netmask]) => poison('bad netmask', [BAD_ADDR], net(n, { nic: 'eth1', bootproto: 'none', ipaddr: '198.18.77.2', netmask }))),
  // An empty gateway means none, as the engine sends it.
  fc
    .tuple(
      name,
      hostileText.filter((g) => g !== '' && !isIPv4(g)),
    )
    .map(([n, gateway]) =>
      poison(
        'bad gateway',
        [BAD_ADDR],
        net(n, { nic: 'eth1', bootproto: 'none', ipaddr: '198.18.77.2', netmask: '255.255.255.0', gateway }),
      ),
    ),
  fc
    .tuple(
      name,
      fc.string({ maxLength: 10 }).filter((b) => !['dhcp', 'none', ''].includes(b)),
    )
    .map(([n, bootproto]) => poison('unknown bootproto', [BAD_PARAMS], net(n, { nic: 'eth1', bootproto }))),
  fc
    .constantFrom('pnet', 'x')
    .map((n) => poison('address with DHCP', [BAD_ADDR], net(n, { nic: 'eth1', bootproto: 'dhcp', ipaddr: '198.18.77.2', prefix: 24 }))),
  hostileText
    .filter((n) => !/^[0-9A-Za-z_-]{1,15}$/.test(n) && n !== '__proto__')
    .map((n) => poison('network name that is no device name', [BAD_BRIDGE], net(n, { nic: 'eth1', bridged: true }))),
  fc.constantFrom('networks', 'bondings').map((section) =>
    poison('an entry named __proto__', [INVALID_PARAMS], {
      [section]: JSON.parse('{"__proto__": {"nic": "eth1", "nics": ["eth1"]}}') as unknown,
    }),
  ),
  fc
    .oneof(
      inheritedName,
      fc.string({ minLength: 1, maxLength: 15 }).filter((n) => n !== '__proto__'),
    )
    .map((n) => poison('removal of a network that does not exist', [BAD_BRIDGE], net(n, { remove: true }))),
  fc
    .constantFrom({ nic: 'eth1', remove: true }, { nic: 'eth1', bonding: 'bond7' }, { bridged: false })
    .map((attrs) => poison('contradictory attributes', [BAD_PARAMS], net('pnet', attrs))),
  fc.constant(
    poison('two default-route networks', [BAD_PARAMS], {
      networks: { a1: { nic: 'eth1', bootproto: 'dhcp', defaultRoute: true }, a2: { nic: 'eth0', bootproto: 'dhcp', defaultRoute: true } },
    }),
  ),
  // Bridge options: hostile names and values, each item or the whole string; none may reach the kernel.
  fc
    .oneof(
      hostileText.map((t) => `priority=${t}`),
      hostileText.map((t) => `${t}=1`),
      hostileText.map((t) => `multicast_snooping=0 ${t}`),
      fc.constantFrom(
        'priority=1 priority=2',
        'stp_state=1',
        'flush=1',
        'priority=65536',
        'multicast_router=3',
        'priority=0x10',
        '__proto__=1',
      ),
    )
    .filter((opts) => refusedBridgeOpts(opts))
    .map((bridge_opts) => poison('bad bridge options', [BAD_PARAMS], net('pnet', { nic: 'eth1', custom: { bridge_opts } }))),
  fc
    .constantFrom(
      { switch: 'ovs' },
      { hostQos: { out: { ul: { m2: 8_000_000 } } } },
      { hostQos: { out: { ls: { m1: 8, d: 10, m2: 100 } } } },
      { hostQos: { out: { ls: { m2: 'fast' } } } },
      { hostQos: { in: { ls: { m2: 1 } } } },
      { hostQos: { out: { ls: { m2: 1 }, ul: { m2: 12_345_678 } } } },
      { custom: { x: '1' } },
    )
    .map((attrs) => poison('what the agent does not do', [BAD_PARAMS], net('pnet', { nic: 'eth1', ...attrs }))),
  fc
    .constantFrom({ ipv6addr: '2001:db8::5/64', ipv6autoconf: true }, { ipv6addr: '2001:db8::5/64', dhcpv6: 'true' })
    .map((attrs) => poison('a static IPv6 address with dynamic IPv6', [BAD_ADDR], net('pnet', { nic: 'eth1', ...attrs }))),
  fc
    .tuple(name, fc.constantFrom(['1.2.3.4 5.6.7.8'], ['x'], ['1.2.3.4\nnameserver 6.6.6.6'], ['']))
    .map(([n, nameservers]) =>
      poison('bad nameservers', [BAD_ADDR], net(n, { nic: 'eth1', bootproto: 'dhcp', defaultRoute: true, nameservers })),
    ),
  fc
    .oneof(fc.constantFrom('bond7', 'bond0'), inheritedName)
    .map((bonding) => poison('a bonding that does not exist', [BAD_BONDING], net('pnet', { bonding, bridged: true }))),
  hostileText
    .filter((b) => !/^bond[A-Za-z0-9_]{1,11}$/.test(b) && b !== '__proto__')
    .map((b) => poison('bad bond name', [BAD_BONDING], { bondings: { [b]: { nics: ['eth1'] } } })),
  fc
    .constantFrom(
      'mode=9',
      'miimon=x',
      'mode=1 mode=2',
      'foo=bar',
      'mode=1\nlink del eth0',
      'mode=1 miimon=100 "',
      'mode=balance-rr#',
      'primary=eth1#',
    )
    .map((options) => poison('bad bond options', [BAD_BONDING], { bondings: { bond7: { nics: ['eth1'], options } } })),
  hostileText
    .filter((nic) => !EXISTING_NICS.has(nic))
    .map((nic) => poison('bond slave that does not exist', [BAD_NIC, ...OR_NO_BONDING], { bondings: { bond7: { nics: ['eth1', nic] } } })),
  fc.constant(poison('bond without nics', [BAD_PARAMS, ...OR_NO_BONDING], { bondings: { bond7: { options: 'mode=1' } } })),
  fc
    .oneof(fc.constantFrom('bond7', 'bond0'), inheritedName)
    .map((b) => poison('removal of an unknown bond', [BAD_BONDING], { bondings: { [b]: { remove: true } } })),
  // (`null` is not among them: the verb reads a null section as an absent one, i.e. empty.)
  fc
    .oneof(fc.constant([]), fc.string(), fc.integer(), fc.boolean())
    .map((networks) => poison('networks that are no object', [INVALID_PARAMS], { networks })),
  fc
    .oneof(fc.constant([1]), fc.string(), fc.integer())
    .map((bondings) => poison('bondings that are no object', [INVALID_PARAMS], { bondings })),
  fc
    .constantFrom(-1, 86_401, 'x', 1.5)
    .map((connectivityTimeout) => poison('bad connectivity timeout', [BAD_PARAMS], { options: { connectivityTimeout } })),
);

/**
 * Valid changes that would show in the kernel if the request were (even partly) applied. They come after
 * the poison in the request, and need no VLAN or bonding support, so that they never decide the refusal.
 */
const validNoise: fc.Arbitrary<Params> = fc
  .subarray([
    { noise1: { nic: 'eth1', bridged: true, bootproto: 'none', ipaddr: '198.18.100.2', netmask: '255.255.255.0' } },
    {
      noise0: {
        nic: 'eth0',
        bridged: true,
        bootproto: 'none',
        ipaddr: '198.18.250.10',
        netmask: '255.255.255.0',
        gateway: '198.18.250.1',
        defaultRoute: true,
      },
    },
  ])
  .map((parts) => ({ networks: Object.assign({}, ...parts) as Record<string, unknown>, bondings: {}, options: {} }));

/** The poison first, then the noise; a poisoned section that is not an object replaces the whole section. */
function request(noise: Params, bad: Poison): Record<string, unknown> {
  const merged: Record<string, unknown> = {};
  for (const section of ['networks', 'bondings', 'options'] as const) {
    const given = bad.params[section];
    const isRecord = typeof given === 'object' && given !== null && !Array.isArray(given);
    // Object.assign copies an own `__proto__` key as data only with defineProperty; build by entries instead.
    merged[section] =
      given !== undefined && !isRecord
        ? given
        : Object.fromEntries([...Object.entries((given as object | undefined) ?? {}), ...Object.entries(noise[section])]);
  }
  merged.options = { connectivityCheck: false, ...(merged.options as object) };
  return merged;
}

describe.skipIf(skipBecause(unavailable, 'setupNetworks property tests'))(
  `Host.setupNetworks properties on a namespaced host (${REPLAY_HINT})`,
  () => {
    let h: AgentHost;
    beforeAll(async () => {
      h = await createAgentHost();
    });
    afterAll(async () => {
      await h?.close();
    });

    it('refuses invalid requests with a VDSM or JSON-RPC code and leaves the kernel as it was', async () => {
      const before = comparable(await h.kernel());
      await fc.assert(
        fc.asyncProperty(validNoise, poisons, async (noise, bad) => {
          const params = request(noise, bad);
          const outcome = await h.client.call('Host.setupNetworks', params, { timeoutMs: 30_000 }).then(
            (result) => ({ accepted: result }),
            (err: unknown) => {
              if (err instanceof AgentRpcError) return { code: err.code, message: err.rpcMessage };
              throw err;
            },
          );
          expect(outcome, `${bad.what}: ${JSON.stringify(params)}`).toEqual({ code: expect.any(Number), message: expect.any(String) });
          expect(bad.codes, `${bad.what} got ${JSON.stringify(outcome)}`).toContain((outcome as { code: number }).code);
          expect(comparable(await h.kernel()), `${bad.what} changed the kernel`).toEqual(before);
        }),
        // No shrinking: the kernel is shared by all cases, and a failing case may have changed it.
        propertyParameters(300, { endOnFailure: true }),
      );
      // Still serving, and still clean: a refused request changes not even netConfigDirty.
      const caps = Capabilities.parse(await h.client.call('Host.getCapabilities', {}));
      expect(caps.netConfigDirty).toBe('False');
      expect(Object.keys(caps.networks)).toEqual([]);
    });
  },
);
