import { describe, expect, it } from 'vitest';
import type { KernelState } from '../../model/net-state';
import { canonicalizeRequest } from '../../model/network/canonicalize';
import { EMPTY_CONFIG, mergeRunningConfig, type RunningConfig } from '../../model/network/config';
import { validateRequest } from '../../model/network/validate';
import { VdsmCode, VdsmError } from '../../model/vdsm/error-codes';
import type { SetupNetworksParams } from '../../model/vdsm/setup-networks';
import { installedHost } from '../helpers/host-state';

function check(
  params: Partial<SetupNetworksParams>,
  opts: { running?: RunningConfig; current?: KernelState; unsupported?: Record<string, string> } = {},
) {
  const running = opts.running ?? EMPTY_CONFIG;
  const request = canonicalizeRequest(
    { networks: {}, bondings: {}, options: {}, ...params },
    { currentNameservers: ['198.18.1.1'], running },
  );
  const next = mergeRunningConfig(running, request);
  validateRequest(request, { running, next, current: opts.current ?? installedHost(), unsupportedLinkTypes: opts.unsupported ?? {} });
  return { request, next };
}

function codeOf(fn: () => unknown): number | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof VdsmError) return err.code;
    throw err;
  }
  return undefined;
}

describe('canonicalize', () => {
  it('keeps a host QoS as its m2 values, rates as numbers, and none for an empty one', () => {
    const { request } = check({
      networks: {
        n: { nic: 'eth0', hostQos: { out: { ls: { m2: '20' }, ul: { m2: 200_000_000 }, rt: { m2: 1_500_000 } } } },
        m: { nic: 'eth1', hostQos: { out: {} } },
      },
    });
    expect(request.networks.n).toMatchObject({ hostQos: { ls: 20, ul: 200_000_000, rt: 1_500_000 } });
    expect(request.networks.m).not.toHaveProperty('hostQos');
  });

  it('keeps bridge options as VDSM does: sorted by name, values in decimal', () => {
    const { request } = check({
      networks: { n: { nic: 'eth0', custom: { bridge_opts: '  priority=007 multicast_snooping=0\thash_max=8192 ' } } },
    });
    expect(request.networks.n).toMatchObject({ custom: { bridge_opts: 'hash_max=8192 multicast_snooping=0 priority=7' } });
    // Empty options are no options.
    expect(check({ networks: { n: { nic: 'eth0', custom: { bridge_opts: '' } } } }).request.networks.n).not.toHaveProperty('custom');
  });

  it("makes VDSM defaults explicit and normalises the engine's string forms", () => {
    const { request } = check({
      networks: {
        ovirtmgmt: {
          nic: 'eth0',
          vlan: '0',
          bridged: 'false',
          STP: 'no',
          ipaddr: '198.18.1.10',
          netmask: '255.255.255.0',
          gateway: '198.18.1.1',
          defaultRoute: 'true',
        },
      },
    });
    expect(request.networks.ovirtmgmt).toEqual({
      nic: 'eth0',
      vlan: 0,
      mtu: 1500,
      bridged: false,
      stp: false,
      bootproto: 'none',
      ipaddr: '198.18.1.10',
      prefix: 24,
      gateway: '198.18.1.1',
      dhcpv6: false,
      ipv6autoconf: false,
      defaultRoute: true,
      nameservers: ['198.18.1.1'],
    });
    expect(request.options).toEqual({ connectivityCheck: true, connectivityTimeoutSeconds: 4, commitOnSuccess: false });
  });

  it('turns blockingdhcp into the leases to wait for: per DHCP family, on the device holding the addresses', () => {
    const request = canonicalizeRequest(
      {
        bondings: {},
        options: {},
        networks: {
          bridged: { nic: 'eth0', bootproto: 'dhcp', dhcpv6: 'true', blockingdhcp: 'true' },
          tagged: { nic: 'eth1', vlan: '30', bridged: false, bootproto: 'dhcp', blockingdhcp: true },
          static: { nic: 'eth2', bridged: false, ipaddr: '198.18.3.10', prefix: '24', blockingdhcp: true },
          notBlocking: { nic: 'eth3', bootproto: 'dhcp', blockingdhcp: 'false' },
        },
      },
      { currentNameservers: [], running: EMPTY_CONFIG },
    );
    expect(request.blockingDhcp).toEqual([
      { network: 'bridged', dev: 'bridged', family: 4 },
      { network: 'bridged', dev: 'bridged', family: 6 },
      { network: 'tagged', dev: 'eth1.30', family: 4 },
    ]);
    expect(request.networks.bridged).not.toHaveProperty('blockingdhcp');
    expect(codeOf(() => check({ networks: { n: { nic: 'eth0', bootproto: 'dhcp', blockingdhcp: 'soon' } } }))).toBe(VdsmCode.BAD_PARAMS);
  });

  it('reads options the way the engine sends them', () => {
    const { request } = check({ options: { connectivityCheck: 'false', connectivityTimeout: '120', commitOnSuccess: true } });
    expect(request.options).toEqual({ connectivityCheck: false, connectivityTimeoutSeconds: 120, commitOnSuccess: true });
  });

  it('normalises bond options and sorts slaves', () => {
    const current = installedHost();
    current.links.push({ name: 'eth2', kind: 'nic', mtu: 1500, up: true, mac: '52:54:00:00:00:12', master: null });
    const { request } = check({ bondings: { bond0: { nics: ['eth2', 'eth1'], options: 'miimon=100 mode=802.3ad' } } }, { current });
    expect(request.bonds.bond0).toEqual({ nics: ['eth1', 'eth2'], options: 'mode=4 miimon=100' });
  });

  it('hands the default route over: the current owner joins the request without it', () => {
    const running = check({
      networks: { ovirtmgmt: { nic: 'eth0', ipaddr: '198.18.1.10', prefix: 24, gateway: '198.18.1.1', defaultRoute: true } },
    }).next;
    const { request } = check({ networks: { other: { nic: 'eth1', bridged: false, bootproto: 'dhcp', defaultRoute: true } } }, { running });
    expect(request.networks.ovirtmgmt).toMatchObject({ defaultRoute: false, nameservers: [] });
  });

  it('clears the nameservers only for a static default-route network sent with an empty list', () => {
    const mgmt = { nic: 'eth0', ipaddr: '198.18.1.10', prefix: 24, gateway: '198.18.1.1', defaultRoute: true };
    const clears = (networks: SetupNetworksParams['networks']) => check({ networks }).request.clearsNameservers;
    expect(clears({ ovirtmgmt: { ...mgmt, nameservers: [] } })).toBe(true);
    expect(clears({ ovirtmgmt: mgmt })).toBe(false);
    expect(clears({ ovirtmgmt: { ...mgmt, nameservers: ['198.18.1.53'] } })).toBe(false);
    expect(clears({ ovirtmgmt: { nic: 'eth0', bootproto: 'dhcp', defaultRoute: true, nameservers: [] } })).toBe(false);
    expect(clears({ storage: { nic: 'eth1', ipaddr: '198.18.2.10', prefix: 24, nameservers: [] } })).toBe(false);
    // Without the list, a static default-route network keeps the host's current nameservers.
    expect(check({ networks: { ovirtmgmt: mgmt } }).request.networks.ovirtmgmt).toMatchObject({ nameservers: ['198.18.1.1'] });
  });

  it('clears them when the network that holds the role with nameservers is removed or gives it up to no other network', () => {
    const mgmt = { nic: 'eth0', ipaddr: '198.18.1.10', prefix: 24, gateway: '198.18.1.1', defaultRoute: true };
    const storage = { nic: 'eth1', ipaddr: '198.18.2.10', prefix: 24, gateway: '198.18.2.1' };
    const holding = (nameservers: string[]) => check({ networks: { ovirtmgmt: { ...mgmt, nameservers }, storage } }).next;
    const clears = (running: RunningConfig, networks: SetupNetworksParams['networks']) =>
      check({ networks }, { running }).request.clearsNameservers;
    const withServers = holding(['198.18.1.53']);
    expect(clears(withServers, { ovirtmgmt: { remove: true } })).toBe(true);
    expect(clears(withServers, { ovirtmgmt: { ...mgmt, defaultRoute: false } })).toBe(true);
    // Another network takes the role over and brings its own; other changes leave the role where it is.
    expect(clears(withServers, { storage: { ...storage, defaultRoute: true } })).toBe(false);
    expect(clears(withServers, { ovirtmgmt: { remove: true }, storage: { ...storage, defaultRoute: true } })).toBe(false);
    expect(clears(withServers, { storage: { remove: true } })).toBe(false);
    expect(clears(withServers, { ovirtmgmt: { ...mgmt, mtu: 1400 } })).toBe(false);
    // A holder without nameservers (a DHCP one, following its leases) has none to clear.
    expect(clears(holding([]), { ovirtmgmt: { remove: true } })).toBe(false);
  });
});

describe('validate: VDSM error codes', () => {
  const cases: Array<[string, Partial<SetupNetworksParams>, number, { running?: RunningConfig; unsupported?: Record<string, string> }?]> = [
    ['nic and bonding together', { networks: { n: { nic: 'eth0', bonding: 'bond0' } } }, VdsmCode.BAD_PARAMS],
    ['bridgeless without a device', { networks: { n: { bridged: false } } }, VdsmCode.BAD_PARAMS],
    ['vlan out of range', { networks: { n: { nic: 'eth0', vlan: 4095 } } }, VdsmCode.BAD_VLAN],
    ['vlan not a number', { networks: { n: { nic: 'eth0', vlan: 'ten' } } }, VdsmCode.BAD_VLAN],
    [
      'netmask and prefix together',
      { networks: { n: { nic: 'eth0', ipaddr: '1.2.3.4', netmask: '255.0.0.0', prefix: 8 } } },
      VdsmCode.BAD_PARAMS,
    ],
    ['static address with dhcp', { networks: { n: { nic: 'eth0', bootproto: 'dhcp', ipaddr: '1.2.3.4', prefix: 8 } } }, VdsmCode.BAD_ADDR],
    ['gateway without address', { networks: { n: { nic: 'eth0', gateway: '1.2.3.4' } } }, VdsmCode.BAD_ADDR],
    ['bad address', { networks: { n: { nic: 'eth0', ipaddr: '1.2.3', prefix: 8 } } }, VdsmCode.BAD_ADDR],
    [
      'two default routes',
      { networks: { a: { nic: 'eth0', defaultRoute: true }, b: { nic: 'eth1', defaultRoute: true } } },
      VdsmCode.BAD_PARAMS,
    ],
    ['nameservers off the default route', { networks: { n: { nic: 'eth0', nameservers: ['1.1.1.1'] } } }, VdsmCode.BAD_PARAMS],
    ['remove with attributes', { networks: { n: { remove: true, mtu: 9000 } } }, VdsmCode.BAD_PARAMS],
    ['remove a missing network', { networks: { n: { remove: 'true' } } }, VdsmCode.BAD_BRIDGE],
    ['missing nic', { networks: { n: { nic: 'eth9' } } }, VdsmCode.BAD_NIC],
    ['bad bridge name', { networks: { 'bad.name': { nic: 'eth0' } } }, VdsmCode.BAD_BRIDGE],
    ['too long bridge name', { networks: { abcdefghijklmnop: { nic: 'eth0' } } }, VdsmCode.BAD_BRIDGE],
    // What iproute2 would refuse at render time is refused here first (found by test/property/setup-networks.test.ts).
    ['bridge name with #', { networks: { 'eth1#': { nic: 'eth0' } } }, VdsmCode.BAD_BRIDGE],
    ['bridge name starting with -', { networks: { '-net': { nic: 'eth0' } } }, VdsmCode.BAD_BRIDGE],
    ['bridge name with a non-ASCII letter', { networks: { nét: { nic: 'eth0' } } }, VdsmCode.BAD_BRIDGE],
    // Names every object inherits are names like any other (found by test/property/setup-networks.test.ts).
    ['remove a missing network called toString', { networks: { toString: { remove: 'true' } } }, VdsmCode.BAD_BRIDGE],
    ['remove a missing bond called constructor', { bondings: { constructor: { remove: 'true' } } }, VdsmCode.BAD_BONDING],
    ['a bonding called constructor that does not exist', { networks: { n: { bonding: 'constructor' } } }, VdsmCode.BAD_BONDING],
    ['two untagged networks on a nic', { networks: { a: { nic: 'eth0' }, b: { nic: 'eth0', bridged: false } } }, VdsmCode.USED_NIC],
    ['unknown bond option', { bondings: { bond0: { nics: ['eth1'], options: 'mode=4 turbo=1' } } }, VdsmCode.BAD_BONDING],
    ['unknown bond mode', { bondings: { bond0: { nics: ['eth1'], options: 'mode=9' } } }, VdsmCode.BAD_BONDING],
    ['bad bond name', { bondings: { team0: { nics: ['eth1'] } } }, VdsmCode.BAD_BONDING],
    ['network on an undefined bond', { networks: { n: { bonding: 'bond7' } } }, VdsmCode.BAD_BONDING],
    [
      'bond without kernel support',
      { bondings: { bond0: { nics: ['eth1'] } } },
      VdsmCode.BAD_BONDING,
      { unsupported: { bond: 'Unknown device type' } },
    ],
    [
      'vlan without kernel support',
      { networks: { n: { nic: 'eth0', vlan: 10 } } },
      VdsmCode.BAD_VLAN,
      { unsupported: { vlan: 'Unknown device type' } },
    ],
    ['unsupported switch', { networks: { n: { nic: 'eth0', switch: 'ovs' } } }, VdsmCode.BAD_PARAMS],
    ['mtu out of range', { networks: { n: { nic: 'eth0', mtu: 10 } } }, VdsmCode.BAD_PARAMS],
    ['host QoS with ul but no ls', { networks: { n: { nic: 'eth0', hostQos: { out: { ul: { m2: 8_000_000 } } } } } }, VdsmCode.BAD_PARAMS],
    [
      'host QoS with m1 and d',
      { networks: { n: { nic: 'eth0', hostQos: { out: { ls: { m1: 8, d: 10, m2: 10 } } } } } },
      VdsmCode.BAD_PARAMS,
    ],
    [
      'host QoS with a curve tc does not have',
      { networks: { n: { nic: 'eth0', hostQos: { out: { ls: { m2: 10 }, sc: { m2: 1 } } } } } },
      VdsmCode.BAD_PARAMS,
    ],
    ['inbound host QoS', { networks: { n: { nic: 'eth0', hostQos: { in: { ls: { m2: 10 } } } } } }, VdsmCode.BAD_PARAMS],
    ['host QoS with a zero share', { networks: { n: { nic: 'eth0', hostQos: { out: { ls: { m2: 0 } } } } } }, VdsmCode.BAD_PARAMS],
    [
      'host QoS with a negative rate',
      { networks: { n: { nic: 'eth0', hostQos: { out: { ls: { m2: 1 }, rt: { m2: -8 } } } } } },
      VdsmCode.BAD_PARAMS,
    ],
    [
      'host QoS with a rate tc would show rounded',
      { networks: { n: { nic: 'eth0', hostQos: { out: { ls: { m2: 1 }, ul: { m2: 12_345_678 } } } } } },
      VdsmCode.BAD_PARAMS,
    ],
    [
      'host QoS with a rate in bits tc cannot keep (not whole bytes)',
      { networks: { n: { nic: 'eth0', hostQos: { out: { ls: { m2: 1 }, rt: { m2: 1001 } } } } } },
      VdsmCode.BAD_PARAMS,
    ],
    [
      'host QoS on a network without a device',
      { networks: { n: { bridged: true, hostQos: { out: { ls: { m2: 10 } } } } } },
      VdsmCode.BAD_PARAMS,
    ],
    ['host QoS on VLAN 0', { networks: { n: { nic: 'eth0', vlan: 0, hostQos: { out: { ls: { m2: 10 } } } } } }, VdsmCode.BAD_PARAMS],
    [
      'a bridge option this agent does not set',
      { networks: { n: { nic: 'eth0', custom: { bridge_opts: 'flush=1' } } } },
      VdsmCode.BAD_PARAMS,
    ],
    ['stp given as a bridge option', { networks: { n: { nic: 'eth0', custom: { bridge_opts: 'stp_state=1' } } } }, VdsmCode.BAD_PARAMS],
    [
      'a bridge option named twice',
      { networks: { n: { nic: 'eth0', custom: { bridge_opts: 'priority=1 priority=2' } } } },
      VdsmCode.BAD_PARAMS,
    ],
    [
      'a bridge option out of range',
      { networks: { n: { nic: 'eth0', custom: { bridge_opts: 'multicast_router=3' } } } },
      VdsmCode.BAD_PARAMS,
    ],
    [
      'a bridge option that is not a number',
      { networks: { n: { nic: 'eth0', custom: { bridge_opts: 'priority=0x10' } } } },
      VdsmCode.BAD_PARAMS,
    ],
    [
      'a bridge option item without a value',
      { networks: { n: { nic: 'eth0', custom: { bridge_opts: 'priority' } } } },
      VdsmCode.BAD_PARAMS,
    ],
    [
      'an inherited name as a bridge option',
      { networks: { n: { nic: 'eth0', custom: { bridge_opts: 'toString=1' } } } },
      VdsmCode.BAD_PARAMS,
    ],
    ['bridge options that are not a string', { networks: { n: { nic: 'eth0', custom: { bridge_opts: 5 } } } }, VdsmCode.BAD_PARAMS],
    [
      'bridge options on a network without a bridge',
      { networks: { n: { nic: 'eth0', bridged: false, custom: { bridge_opts: 'priority=1' } } } },
      VdsmCode.BAD_PARAMS,
    ],
    [
      'custom properties other than bridge_opts (not applied by this agent)',
      { networks: { n: { nic: 'eth0', custom: { ethtool_opts: '-K eth0 tso off' } } } },
      VdsmCode.BAD_PARAMS,
    ],
    [
      'a static IPv6 address with IPv6 autoconf',
      { networks: { n: { nic: 'eth0', ipv6addr: '2001:db8::5/64', ipv6autoconf: 'true' } } },
      VdsmCode.BAD_ADDR,
    ],
  ];
  for (const [name, params, code, opts] of cases) {
    it(`${name} → ${code}`, () => expect(codeOf(() => check(params, opts))).toBe(code));
  }

  it('removing a bond a network still uses → 31', () => {
    const running = check({ bondings: { bond0: { nics: ['eth1'] } }, networks: { n: { bonding: 'bond0' } } }).next;
    expect(codeOf(() => check({ bondings: { bond0: { remove: true } } }, { running }))).toBe(VdsmCode.USED_BOND);
  });

  it('a missing kernel feature names it in the message', () => {
    expect(() =>
      check({ networks: { n: { nic: 'eth0', vlan: 10 } } }, { unsupported: { vlan: 'ip link add type vlan: Unknown device type' } }),
    ).toThrow(/no 802.1Q VLAN support \(ip link add type vlan: Unknown device type\)/);
  });

  it('accepts a well-formed management network', () => {
    expect(
      codeOf(() =>
        check({
          networks: {
            ovirtmgmt: {
              nic: 'eth0',
              ipaddr: '198.18.1.10',
              prefix: '24',
              gateway: '198.18.1.1',
              defaultRoute: true,
              ipv6addr: '2001:db8::10/64',
              ipv6gateway: '2001:db8::1',
            },
          },
        }),
      ),
    ).toBeUndefined();
  });
});
