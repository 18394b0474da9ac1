/**
 * JSON → KernelState on captured-shape `ip -j -d` output, including bond and VLAN links (this test kernel
 * cannot create them; their JSON keys follow iproute2's ip/iplink_bond.c and iplink_vlan.c printers).
 */
import { describe, expect, it } from 'vitest';
import { IpAddrJson, IpLinkJson, IpRouteJson, IpRuleJson } from '../../../agent/backend/iproute2/ip-json';
import { IpJsonShapeError } from '../../../agent/backend/errors';
import {
  dumpFromBatchLines,
  joinLinkArrays,
  kernelStateFromIpJson,
  perLinkCommands,
  perLinkReadMax,
  type IpJsonDump,
} from '../../../agent/backend/iproute2/read';
import { routeTableId, routeTableNamesFromText } from '../../../agent/backend/iproute2/route-tables';
import type { KernelState } from '../../../model/net-state';

const links = [
  {
    ifindex: 1,
    ifname: 'lo',
    flags: ['LOOPBACK', 'UP', 'LOWER_UP'],
    mtu: 65536,
    operstate: 'UNKNOWN',
    link_type: 'loopback',
    address: '00:00:00:00:00:00',
  },
  {
    ifindex: 2,
    ifname: 'eth0',
    flags: ['BROADCAST', 'MULTICAST', 'SLAVE', 'UP', 'LOWER_UP'],
    mtu: 1500,
    master: 'bond0',
    operstate: 'UP',
    link_type: 'ether',
    address: '52:54:00:AA:00:01',
    linkinfo: { info_slave_kind: 'bond', info_slave_data: { state: 'ACTIVE', mii_status: 'UP', perm_hwaddr: '52:54:00:aa:00:01' } },
  },
  {
    ifindex: 3,
    ifname: 'eth1',
    flags: ['BROADCAST', 'MULTICAST', 'SLAVE', 'UP', 'LOWER_UP'],
    mtu: 1500,
    master: 'bond0',
    operstate: 'UP',
    link_type: 'ether',
    address: '52:54:00:aa:00:01',
    // The second slave has the bond's MAC, not its own.
    linkinfo: { info_slave_kind: 'bond', info_slave_data: { state: 'BACKUP', perm_hwaddr: '52:54:00:AA:00:02' } },
  },
  {
    ifindex: 4,
    ifname: 'bond0',
    flags: ['BROADCAST', 'MULTICAST', 'MASTER', 'UP', 'LOWER_UP'],
    mtu: 1500,
    operstate: 'UP',
    link_type: 'ether',
    address: '52:54:00:aa:00:01',
    linkinfo: {
      info_kind: 'bond',
      info_data: {
        mode: 'active-backup',
        active_slave: 'eth0',
        miimon: 100,
        updelay: 0,
        downdelay: 0,
        peer_notify_delay: 0,
        use_carrier: 1,
        arp_interval: 0,
        arp_ip_target: ['198.18.0.1', '198.18.0.2'],
        arp_validate: null,
        arp_all_targets: 'any',
        primary_reselect: 'always',
        fail_over_mac: 'none',
        xmit_hash_policy: 'layer2',
        resend_igmp: 1,
        num_peer_notif: 1,
        all_slaves_active: 0,
        min_links: 0,
        lp_interval: 1,
        packets_per_slave: 1,
        ad_lacp_active: 'on',
        ad_lacp_rate: 'slow',
        ad_select: 'stable',
        ad_info: { aggregator: 1, num_ports: 1 },
        tlb_dynamic_lb: 1,
      },
    },
  },
  {
    ifindex: 5,
    ifname: 'bond0.100',
    link: 'bond0',
    flags: ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'],
    mtu: 1500,
    master: 'ovirtmgmt',
    operstate: 'UP',
    link_type: 'ether',
    address: '52:54:00:aa:00:01',
    linkinfo: { info_kind: 'vlan', info_data: { protocol: '802.1Q', id: 100, flags: ['REORDER_HDR'] }, info_slave_kind: 'bridge' },
  },
  {
    ifindex: 6,
    ifname: 'ovirtmgmt',
    flags: ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'],
    mtu: 1500,
    operstate: 'UP',
    link_type: 'ether',
    address: '52:54:00:aa:00:01',
    linkinfo: { info_kind: 'bridge', info_data: { stp_state: 1, forward_delay: 1500 } },
  },
  {
    ifindex: 7,
    ifname: 'veth1',
    link: 'veth0',
    flags: ['NO-CARRIER', 'BROADCAST', 'MULTICAST', 'UP'],
    mtu: 9000,
    operstate: 'LOWERLAYERDOWN',
    link_type: 'ether',
    address: '02:00:00:00:00:07',
    linkinfo: { info_kind: 'veth' },
  },
  {
    ifindex: 8,
    ifname: 'vx0',
    flags: ['BROADCAST', 'MULTICAST'],
    mtu: 1450,
    operstate: 'DOWN',
    link_type: 'ether',
    address: '02:00:00:00:00:08',
    linkinfo: { info_kind: 'vxlan', info_data: { id: 42 } },
  },
  {
    ifindex: 9,
    ifname: 'tun0',
    flags: ['POINTOPOINT', 'NOARP', 'UP'],
    mtu: 1480,
    operstate: 'UNKNOWN',
    link_type: 'none',
    linkinfo: { info_kind: 'ipip' },
    address: '0.0.0.0',
  },
];

const addrs4 = [
  { ifname: 'lo', addr_info: [{ family: 'inet', local: '127.0.0.1', prefixlen: 8, scope: 'host', valid_life_time: 4294967295 }] },
  {
    ifname: 'ovirtmgmt',
    addr_info: [
      { family: 'inet', local: '198.18.1.5', prefixlen: 24, scope: 'global', valid_life_time: 4294967295, preferred_life_time: 4294967295 },
      {
        family: 'inet',
        local: '198.18.2.9',
        prefixlen: 24,
        scope: 'global',
        dynamic: true,
        valid_life_time: 3600,
        preferred_life_time: 3600,
      },
    ],
  },
];
const addrs6 = [
  {
    ifname: 'ovirtmgmt',
    addr_info: [
      { family: 'inet6', local: '2001:DB8::5', prefixlen: 64, scope: 'global', valid_life_time: 4294967295 },
      // Made by the kernel from a router advertisement: SLAAC, and a privacy address from it.
      {
        family: 'inet6',
        local: '2001:db8:6::5054:ff:feaa:1',
        prefixlen: 64,
        scope: 'global',
        dynamic: true,
        mngtmpaddr: true,
        valid_life_time: 3592,
      },
      {
        family: 'inet6',
        local: '2001:db8:6::77a1:2b3c:4d5e:6f70',
        prefixlen: 64,
        scope: 'global',
        temporary: true,
        dynamic: true,
        valid_life_time: 3592,
      },
      { family: 'inet6', local: 'fe80::5054:ff:feaa:1', prefixlen: 64, scope: 'link', valid_life_time: 4294967295 },
    ],
  },
];

const routes4 = [
  {
    type: 'unicast',
    dst: 'default',
    gateway: '198.18.1.1',
    dev: 'ovirtmgmt',
    table: 'main',
    protocol: 'static',
    scope: 'global',
    flags: [],
  },
  {
    type: 'unicast',
    dst: '198.18.1.0/24',
    dev: 'ovirtmgmt',
    table: 'main',
    protocol: 'kernel',
    scope: 'link',
    prefsrc: '198.18.1.5',
    flags: [],
  },
  {
    type: 'unicast',
    dst: '198.18.9.9',
    gateway: '198.18.1.1',
    dev: 'ovirtmgmt',
    table: '1234',
    protocol: 'boot',
    scope: 'global',
    metric: 7,
    flags: [],
  },
  { type: 'unicast', dst: '198.18.1.0/24', dev: 'ovirtmgmt', table: 'mgmt', protocol: 'dhcp', scope: 'link', flags: [] },
  { type: 'unicast', dst: 'default', dev: 'ovirtmgmt', table: 'default', protocol: 'static', metric: 0, flags: [] },
  { type: 'blackhole', dst: '198.18.50.0/24', table: 'main', protocol: 'boot', flags: [] },
  {
    type: 'local',
    dst: '198.18.1.5',
    dev: 'ovirtmgmt',
    table: 'local',
    protocol: 'kernel',
    scope: 'host',
    prefsrc: '198.18.1.5',
    flags: [],
  },
  { type: 'broadcast', dst: '198.18.1.255', dev: 'ovirtmgmt', table: 'local', protocol: 'kernel', scope: 'link', flags: [] },
  { type: 'unicast', dst: '198.18.60.0/24', dev: 'ovirtmgmt', table: 'nosuchname', protocol: 'static', flags: [] },
];
const routes6 = [
  {
    type: 'unicast',
    dst: 'default',
    gateway: '2001:DB8::1',
    dev: 'ovirtmgmt',
    table: 'main',
    protocol: 'static',
    metric: 1024,
    flags: [],
    pref: 'medium',
  },
  { type: 'unicast', dst: '2001:db8::/64', dev: 'ovirtmgmt', table: 'main', protocol: 'kernel', metric: 256, flags: [] },
  { type: 'unicast', dst: 'fe80::/64', dev: 'ovirtmgmt', table: 'main', protocol: 'ra', metric: 256, flags: [] },
  { type: 'unicast', dst: 'default', gateway: 'fe80::1', dev: 'ovirtmgmt', table: 'main', protocol: 'ra', metric: 1024, flags: [] },
  { type: 'unicast', dst: '2001:db8:7::7', dev: 'ovirtmgmt', table: '1234', protocol: 'static', metric: 5, flags: [] },
  { type: 'multicast', dst: 'ff00::/8', dev: 'ovirtmgmt', table: 'local', protocol: 'kernel', metric: 256, flags: [] },
];
const rules4 = [
  { priority: 0, src: 'all', table: 'local', protocol: 'kernel' },
  { priority: 3200, src: '198.18.1.0', srclen: 24, table: '1234', protocol: 'unspec' },
  { priority: 3200, src: 'all', dst: '198.18.1.0', dstlen: 24, table: '1234' },
  { priority: 100, src: '198.18.7.7', table: 'main' },
  { priority: 101, src: 'all', iif: 'eth0', table: '6' },
  { priority: 102, src: 'all', fwmark: '0x7', table: '6' },
  { priority: 103, not: null, src: '1.2.3.0', srclen: 24, table: '6' },
  { priority: 104, src: 'all', action: 'prohibit' },
  { priority: 105, src: 'all', table: 'main' },
  { priority: 32766, src: 'all', table: 'main', protocol: 'kernel' },
  { priority: 32767, src: 'all', table: 'default', protocol: 'kernel' },
];
const rules6 = [
  { priority: 0, src: 'all', table: 'local', protocol: 'kernel' },
  { priority: 3200, src: 'all', dst: '2001:db8::', dstlen: 64, table: '1234' },
  { priority: 32766, src: 'all', table: 'main', protocol: 'kernel' },
];

function dump(): IpJsonDump {
  return {
    links: links.map((l) => IpLinkJson.parse(l)),
    addresses: { 4: addrs4.map((a) => IpAddrJson.parse(a)), 6: addrs6.map((a) => IpAddrJson.parse(a)) },
    routes: { 4: routes4.map((r) => IpRouteJson.parse(r)), 6: routes6.map((r) => IpRouteJson.parse(r)) },
    rules: { 4: rules4.map((r) => IpRuleJson.parse(r)), 6: rules6.map((r) => IpRuleJson.parse(r)) },
  };
}

describe('kernelStateFromIpJson', () => {
  const skipped: string[] = [];
  const state: KernelState = kernelStateFromIpJson(dump(), {
    tableNames: new Map([['mgmt', 4242]]),
    speeds: new Map([['eth0', 10000]]),
    onSkip: (what) => skipped.push(what),
  });

  /** A slave of bond0, with the bond's MAC and `permMac` its own. */
  const bondSlave = (name: string, permMac: string, extra: object = {}) => ({
    name,
    kind: 'nic',
    mtu: 1500,
    up: true,
    operUp: true,
    mac: '52:54:00:aa:00:01',
    master: 'bond0',
    permMac,
    ...extra,
  });

  it('classifies links and reads their details', () => {
    expect(state.links).toEqual([
      { name: 'lo', kind: 'loopback', mtu: 65536, up: true, operUp: true, mac: '00:00:00:00:00:00', master: null },
      bondSlave('eth0', '52:54:00:aa:00:01', { speed: 10000 }),
      bondSlave('eth1', '52:54:00:aa:00:02'),
      {
        name: 'bond0',
        kind: 'bond',
        mtu: 1500,
        up: true,
        operUp: true,
        mac: '52:54:00:aa:00:01',
        master: null,
        bond: {
          mode: 'active-backup',
          activeSlave: 'eth0',
          options: {
            miimon: '100',
            updelay: '0',
            downdelay: '0',
            peer_notify_delay: '0',
            use_carrier: '1',
            arp_interval: '0',
            arp_ip_target: '198.18.0.1,198.18.0.2',
            arp_validate: 'none',
            arp_all_targets: 'any',
            primary_reselect: 'always',
            fail_over_mac: 'none',
            xmit_hash_policy: 'layer2',
            resend_igmp: '1',
            num_grat_arp: '1',
            all_slaves_active: '0',
            min_links: '0',
            lp_interval: '1',
            packets_per_slave: '1',
            lacp_active: 'on',
            lacp_rate: 'slow',
            ad_select: 'stable',
            tlb_dynamic_lb: '1',
          },
        },
      },
      {
        name: 'bond0.100',
        kind: 'vlan',
        mtu: 1500,
        up: true,
        operUp: true,
        mac: '52:54:00:aa:00:01',
        master: 'ovirtmgmt',
        vlan: { base: 'bond0', id: 100 },
      },
      {
        name: 'ovirtmgmt',
        kind: 'bridge',
        mtu: 1500,
        up: true,
        operUp: true,
        mac: '52:54:00:aa:00:01',
        master: null,
        // Of the bridge's info_data, the options hostprov sets, by sysfs name (model/network/bridge-options.ts).
        bridge: { stp: true, options: { forward_delay: '1500' } },
      },
      { name: 'veth1', kind: 'nic', mtu: 9000, up: true, operUp: false, mac: '02:00:00:00:00:07', master: null },
      { name: 'vx0', kind: 'other', mtu: 1450, up: false, operUp: false, mac: '02:00:00:00:00:08', master: null },
      { name: 'tun0', kind: 'other', mtu: 1480, up: true, operUp: false, mac: '', master: null },
    ]);
  });

  it('keeps scope-global addresses, lower-cased, dynamic when the lifetime is finite; not those the kernel made from a router advertisement', () => {
    expect(state.addresses).toEqual([
      { dev: 'ovirtmgmt', family: 4, address: '198.18.1.5', prefixLen: 24, dynamic: false },
      { dev: 'ovirtmgmt', family: 4, address: '198.18.2.9', prefixLen: 24, dynamic: true },
      { dev: 'ovirtmgmt', family: 6, address: '2001:db8::5', prefixLen: 64, dynamic: false },
    ]);
  });

  it('keeps non-kernel unicast routes outside the local table, with numeric tables and explicit prefixes; not those learned from router advertisements', () => {
    expect(state.routes).toEqual([
      { family: 4, table: 254, dst: 'default', gateway: '198.18.1.1', dev: 'ovirtmgmt', protocol: 'static' },
      { family: 4, table: 1234, dst: '198.18.9.9/32', gateway: '198.18.1.1', dev: 'ovirtmgmt', metric: 7, protocol: 'boot' },
      { family: 4, table: 4242, dst: '198.18.1.0/24', dev: 'ovirtmgmt', protocol: 'dhcp' },
      { family: 4, table: 253, dst: 'default', dev: 'ovirtmgmt', protocol: 'static' },
      { family: 6, table: 254, dst: 'default', gateway: '2001:db8::1', dev: 'ovirtmgmt', protocol: 'static' },
      { family: 6, table: 1234, dst: '2001:db8:7::7/128', dev: 'ovirtmgmt', metric: 5, protocol: 'static' },
    ]);
    expect(skipped).toContain('unknown routing table name nosuchname');
  });

  it('drops the kernel default rules and rules with selectors the model cannot express', () => {
    expect(state.rules).toEqual([
      { family: 4, priority: 3200, from: '198.18.1.0/24', table: 1234 },
      { family: 4, priority: 3200, to: '198.18.1.0/24', table: 1234 },
      { family: 4, priority: 100, from: '198.18.7.7/32', table: 254 },
      { family: 4, priority: 105, table: 254 },
      { family: 6, priority: 3200, to: '2001:db8::/64', table: 1234 },
    ]);
    expect(skipped.filter((s) => s.startsWith('rule with'))).toEqual([
      'rule with iif',
      'rule with fwmark',
      'rule with not',
      'rule with action',
    ]);
  });
});

describe('routing table names', () => {
  it('maps built-in names, numbers and rt_tables entries', () => {
    const names = routeTableNamesFromText('#\n# reserved values\n255\tlocal\n254 main\n  100 mgmt # ours\n0x10 hex\nbogus line\n');
    expect(names.get('mgmt')).toBe(100);
    expect(names.get('hex')).toBe(16);
    expect(routeTableId('main')).toBe(254);
    expect(routeTableId('default')).toBe(253);
    expect(routeTableId('1234')).toBe(1234);
    expect(routeTableId('mgmt', names)).toBe(100);
    expect(routeTableId('mgmt')).toBeUndefined();
  });
});

describe('dumpFromBatchLines', () => {
  // `ip -j -d addr show` without a family: each link as `link show` prints it, with both families' addresses.
  const addrShow = JSON.stringify([
    {
      ifindex: 1,
      ifname: 'lo',
      flags: ['LOOPBACK', 'UP', 'LOWER_UP'],
      mtu: 65536,
      operstate: 'UNKNOWN',
      link_type: 'loopback',
      addr_info: [],
    },
    {
      ifindex: 4,
      ifname: 'ovirtmgmt',
      flags: ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'],
      mtu: 1500,
      operstate: 'UP',
      link_type: 'ether',
      address: '52:54:00:aa:00:01',
      linkinfo: { info_kind: 'bridge', info_data: { stp_state: 0 } },
      addr_info: [
        { family: 'inet', local: '198.18.1.5', prefixlen: 24, scope: 'global', valid_life_time: 4294967295 },
        { family: 'inet6', local: '2001:db8:1::5', prefixlen: 64, scope: 'global', valid_life_time: 4294967295 },
        { family: 'inet6', local: 'fe80::1', prefixlen: 64, scope: 'link', valid_life_time: 4294967295 },
      ],
    },
  ]);

  it('takes the links and the addresses of both families from the one addr show line', () => {
    const dump = dumpFromBatchLines([addrShow], ['[]', '[]'], ['[]', '[]']);
    const state = kernelStateFromIpJson(dump);
    expect(state.links.map((l) => [l.name, l.kind])).toEqual([
      ['lo', 'loopback'],
      ['ovirtmgmt', 'bridge'],
    ]);
    expect(state.addresses).toEqual([
      { dev: 'ovirtmgmt', family: 4, address: '198.18.1.5', prefixLen: 24, dynamic: false },
      { dev: 'ovirtmgmt', family: 6, address: '2001:db8:1::5', prefixLen: 64, dynamic: false },
    ]);
  });

  it('refuses output with a line missing', () => {
    expect(() => dumpFromBatchLines([addrShow], ['[]'], ['[]', '[]'])).toThrow(IpJsonShapeError);
  });

  it('refuses an element whose used fields have the wrong type, naming where', () => {
    const [lo, bridge] = JSON.parse(addrShow) as Array<Record<string, unknown>>;
    const refused = (links: string, v4: string[] = ['[]', '[]'], v6: string[] = ['[]', '[]']): IpJsonShapeError => {
      try {
        dumpFromBatchLines([links], v4, v6);
      } catch (err) {
        if (err instanceof IpJsonShapeError) return err;
        throw err;
      }
      throw new Error('accepted');
    };
    expect(refused(JSON.stringify([lo, { ...bridge, mtu: '1500' }])).issues).toBe('[1].mtu: expected a number, got string');
    expect(refused(JSON.stringify([{ ...lo, ifname: undefined }])).issues).toBe('[0].ifname: expected a string, got undefined');
    expect(refused(JSON.stringify([{ ...lo, flags: ['UP', 1] }])).issues).toBe('[0].flags[1]: expected a string, got number');
    expect(refused(JSON.stringify([{ ...lo, master: null }])).issues).toBe('[0].master: expected a string, got null');
    expect(refused(JSON.stringify([{ ...lo, addr_info: [{ family: 'inet', prefixlen: '8' }] }])).issues).toBe(
      '[0].addr_info[0].prefixlen: expected a number, got string',
    );
    expect(refused(JSON.stringify({ ifname: 'lo' })).issues).toBe('expected an array, got object');
    expect(refused('[]', [JSON.stringify([{ dst: 'default', metric: '5' }]), '[]']).what).toBe('-4 route show');
    expect(refused('[]', ['[]', '[]'], ['[]', JSON.stringify([{ src: 'all', table: 'main' }])]).issues).toBe(
      '[0].priority: expected a number, got undefined',
    );
    expect(refused('[]', [JSON.stringify([7]), '[]']).issues).toBe('[0]: expected an object, got number');
    // A link left out of a partial read is not checked: only the links asked for are.
    expect(dumpFromBatchLines([JSON.stringify([lo, { ...bridge, mtu: '1500' }])], null, null, new Set(['lo'])).links).toHaveLength(1);
  });

  it('keeps only the link fields the model uses, and refuses link details that are not an object', () => {
    const [lo, bridge] = JSON.parse(addrShow) as Array<Record<string, unknown>>;
    const withExtras = JSON.stringify([{ ...lo, qdisc: 'noqueue', gso_max_size: 65536 }, bridge]);
    const dump = dumpFromBatchLines([withExtras], ['[]', '[]'], ['[]', '[]']);
    expect(Object.keys(dump.links[0] ?? {})).not.toContain('qdisc');
    expect(dump.links[1]?.linkinfo?.info_data).toEqual({ stp_state: 0 });
    for (const infoData of ['stp_state 0', [0], null]) {
      const bad = JSON.stringify([lo, { ...bridge, linkinfo: { info_kind: 'bridge', info_data: infoData } }]);
      expect(() => dumpFromBatchLines([bad], ['[]', '[]'], ['[]', '[]'])).toThrow(IpJsonShapeError);
    }
  });
});

describe('reading a few links by name (the verify read of a small change)', () => {
  it('asks for each link by name, up to 16 links', () => {
    expect(perLinkCommands(new Set(['bn0', 'eth0']), new Set())).toEqual(['addr show dev bn0', 'addr show dev eth0']);
    expect(perLinkCommands(new Set(), undefined)).toEqual([]);
    const sixteen = new Set(Array.from({ length: 16 }, (_, i) => `eth${i}`));
    expect(perLinkCommands(sixteen, undefined)).toHaveLength(16);
    expect(perLinkCommands(new Set([...sixteen, 'eth16']), undefined)).toBeNull();
    expect(perLinkCommands(new Set([...sixteen, 'eth16']), undefined, 17)).toHaveLength(17);
  });

  it('asks for up to a third of the host by name, and never fewer than 16', () => {
    expect(perLinkReadMax(0)).toBe(16);
    expect(perLinkReadMax(50)).toBe(16);
    expect(perLinkReadMax(101)).toBe(33);
    expect(perLinkReadMax(420)).toBe(140);
  });

  it('dumps every link instead for all links, a link expected gone, or a name that is not one plain word', () => {
    expect(perLinkCommands(undefined, undefined)).toBeNull();
    expect(perLinkCommands(new Set(['bn0', 'eth0']), new Set(['bn0']))).toBeNull();
    for (const name of ['eth0 x', 'eth0\naddr flush dev eth1', 'a"b', 'a#b', 'sixteen-chars-xx', '']) {
      expect(perLinkCommands(new Set(['eth1', name]), undefined), name).toBeNull();
    }
  });

  it('joins the per-link lines into the one array a dump would print, refusing a line that is not an array', () => {
    const joined = joinLinkArrays(['[{"ifname":"bn0"}]\n', '[]', ' [{"ifname":"eth0"}] ']);
    expect(JSON.parse(joined)).toEqual([{ ifname: 'bn0' }, { ifname: 'eth0' }]);
    expect(joinLinkArrays([])).toBe('[]');
    expect(() => joinLinkArrays(['[{"ifname":"bn0"}]', '{"ifname":"eth0"}'])).toThrow(IpJsonShapeError);
  });
});
