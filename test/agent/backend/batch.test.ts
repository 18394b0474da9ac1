/**
 * Golden table for the `ip -batch` renderer: every op kind, IPv4 and IPv6, and rejection of anything that
 * could smuggle a second argument or command into a batch line.
 */
import { describe, expect, it } from 'vitest';
import { UnsafeBatchArgumentError } from '../../../agent/backend/errors';
import { batchLineFromOp, type IpPlanOp } from '../../../agent/backend/iproute2/batch';
import { isIpOp, PlanOpKind } from '../../../model/net-state';

const MAC = 'aa:bb:cc:dd:ee:01';

const golden: Array<[string, IpPlanOp, string]> = [
  [
    'bridge with pinned MAC, MTU, STP off',
    { kind: 'link-add', name: 'ovirtmgmt', type: 'bridge', mac: 'AA:BB:CC:DD:EE:01', mtu: 1500, stp: false },
    'link add name ovirtmgmt address aa:bb:cc:dd:ee:01 mtu 1500 type bridge stp_state 0',
  ],
  ['bridge, nothing else', { kind: 'link-add', name: 'br0', type: 'bridge' }, 'link add name br0 type bridge'],
  ['bridge, STP on', { kind: 'link-add', name: 'br0', type: 'bridge', stp: true }, 'link add name br0 type bridge stp_state 1'],
  [
    'bridge with options (by sysfs name, written by iproute2 name, sorted)',
    {
      kind: 'link-add',
      name: 'br0',
      type: 'bridge',
      stp: false,
      bridgeOptions: { priority: '7', multicast_snooping: '0', hash_max: '8192' },
    },
    'link add name br0 type bridge stp_state 0 mcast_hash_max 8192 mcast_snooping 0 priority 7',
  ],
  [
    'bond with mode and options (options sorted)',
    {
      kind: 'link-add',
      name: 'bond0',
      type: 'bond',
      bondMode: '802.3ad',
      bondOptions: { miimon: '100', lacp_rate: 'fast', xmit_hash_policy: 'layer3+4' },
    },
    'link add name bond0 type bond mode 802.3ad lacp_rate fast miimon 100 xmit_hash_policy layer3+4',
  ],
  [
    'bond, numeric mode as VDSM writes it',
    {
      kind: 'link-add',
      name: 'bond1',
      type: 'bond',
      bondMode: '1',
      bondOptions: { arp_ip_target: '198.18.0.1,198.18.0.2', arp_interval: '1000', primary: 'eth0' },
    },
    'link add name bond1 type bond mode 1 arp_interval 1000 arp_ip_target 198.18.0.1,198.18.0.2 primary eth0',
  ],
  [
    'vlan on a bond',
    { kind: 'link-add', name: 'bond0.100', type: 'vlan', vlanBase: 'bond0', vlanId: 100 },
    'link add link bond0 name bond0.100 type vlan id 100',
  ],
  [
    'vlan with MTU',
    { kind: 'link-add', name: 'eth0.7', type: 'vlan', vlanBase: 'eth0', vlanId: 7, mtu: 9000 },
    'link add link eth0 name eth0.7 mtu 9000 type vlan id 7',
  ],
  ['link del', { kind: 'link-del', name: 'ovirtmgmt' }, 'link del dev ovirtmgmt'],
  [
    'enslave with MTU (one message)',
    { kind: 'link-set', name: 'eth0', mtu: 9000, master: 'ovirtmgmt' },
    'link set dev eth0 mtu 9000 master ovirtmgmt',
  ],
  ['release from master', { kind: 'link-set', name: 'eth0', master: null }, 'link set dev eth0 nomaster'],
  ['up', { kind: 'link-up', name: 'eth0' }, 'link set dev eth0 up'],
  ['down', { kind: 'link-down', name: 'eth0' }, 'link set dev eth0 down'],
  ['bridge STP', { kind: 'link-set', name: 'br', stp: true }, 'link set dev br type bridge stp_state 1'],
  [
    'bridge options',
    { kind: 'link-set', name: 'br', mtu: 1400, bridgeOptions: { multicast_router: '2' } },
    'link set dev br mtu 1400 type bridge mcast_router 2',
  ],
  [
    'every link-set field, type last',
    { kind: 'link-set', name: 'br', mac: MAC, mtu: 1400, master: null, stp: false },
    `link set dev br address ${MAC} mtu 1400 nomaster type bridge stp_state 0`,
  ],
  [
    'IPv4 address add',
    { kind: 'addr-add', address: { dev: 'ovirtmgmt', family: 4, address: '198.18.1.5', prefixLen: 24, dynamic: false } },
    'addr add 198.18.1.5/24 dev ovirtmgmt',
  ],
  [
    'IPv4 address del',
    { kind: 'addr-del', address: { dev: 'eth0', family: 4, address: '198.18.1.5', prefixLen: 24, dynamic: false } },
    'addr del 198.18.1.5/24 dev eth0',
  ],
  [
    'IPv6 address add',
    { kind: 'addr-add', address: { dev: 'ovirtmgmt', family: 6, address: '2001:db8::5', prefixLen: 64, dynamic: false } },
    'addr add 2001:db8::5/64 dev ovirtmgmt',
  ],
  [
    'IPv6 address del',
    { kind: 'addr-del', address: { dev: 'eth0', family: 6, address: '2001:db8::5', prefixLen: 64, dynamic: true } },
    'addr del 2001:db8::5/64 dev eth0',
  ],
  [
    'IPv4 default route, protocol defaults to static',
    { kind: 'route-add', route: { family: 4, table: 254, dst: 'default', gateway: '198.18.1.1', dev: 'ovirtmgmt' } },
    'route add default via 198.18.1.1 dev ovirtmgmt table 254 proto static',
  ],
  [
    'IPv4 route with src and metric',
    {
      kind: 'route-add',
      route: {
        family: 4,
        table: 254,
        dst: 'default',
        gateway: '198.18.1.1',
        dev: 'ovirtmgmt',
        src: '198.18.1.5',
        metric: 100,
        protocol: 'static',
      },
    },
    'route add default via 198.18.1.1 dev ovirtmgmt table 254 proto static src 198.18.1.5 metric 100',
  ],
  [
    'source-routing subnet route',
    { kind: 'route-add', route: { family: 4, table: 3_000_000_000, dst: '198.18.1.0/24', dev: 'ovirtmgmt', protocol: 'static' } },
    'route add 198.18.1.0/24 dev ovirtmgmt table 3000000000 proto static',
  ],
  [
    'IPv4 host route',
    { kind: 'route-add', route: { family: 4, table: 100, dst: '198.18.9.9/32', gateway: '198.18.1.1', protocol: 'dhcp' } },
    'route add 198.18.9.9/32 via 198.18.1.1 table 100 proto dhcp',
  ],
  [
    'IPv4 route del keeps the protocol it was read with',
    { kind: 'route-del', route: { family: 4, table: 254, dst: 'default', gateway: '198.18.1.1', dev: 'eth0', protocol: 'boot' } },
    'route del default via 198.18.1.1 dev eth0 table 254 proto boot',
  ],
  [
    'IPv4 route del without protocol matches any',
    { kind: 'route-del', route: { family: 4, table: 5, dst: '198.18.1.0/24', dev: 'eth0' } },
    'route del 198.18.1.0/24 dev eth0 table 5',
  ],
  [
    'IPv6 default route is ::/0',
    { kind: 'route-add', route: { family: 6, table: 254, dst: 'default', gateway: '2001:db8::1', dev: 'ovirtmgmt' } },
    'route add ::/0 via 2001:db8::1 dev ovirtmgmt table 254 proto static',
  ],
  [
    'IPv6 route del with metric',
    {
      kind: 'route-del',
      route: { family: 6, table: 100, dst: '2001:db8:5::/64', gateway: 'fe80::1', dev: 'eth0', metric: 5, protocol: 'static' },
    },
    'route del 2001:db8:5::/64 via fe80::1 dev eth0 table 100 proto static metric 5',
  ],
  [
    'rule from',
    { kind: 'rule-add', rule: { family: 4, priority: 3200, from: '198.18.1.0/24', table: 1234 } },
    'rule add from 198.18.1.0/24 table 1234 priority 3200',
  ],
  [
    'rule to',
    { kind: 'rule-add', rule: { family: 4, priority: 3200, to: '198.18.1.0/24', table: 1234 } },
    'rule add to 198.18.1.0/24 table 1234 priority 3200',
  ],
  [
    'rule from and to, del',
    { kind: 'rule-del', rule: { family: 4, priority: 10, from: '198.18.1.0/24', to: '198.18.2.0/24', table: 7 } },
    'rule del from 198.18.1.0/24 to 198.18.2.0/24 table 7 priority 10',
  ],
  [
    'IPv6 rule',
    { kind: 'rule-add', rule: { family: 6, priority: 3200, from: '2001:db8::/64', table: 1234 } },
    'rule add from 2001:db8::/64 table 1234 priority 3200',
  ],
  ['IPv4 rule for all sources', { kind: 'rule-add', rule: { family: 4, priority: 1000, table: 100 } }, 'rule add table 100 priority 1000'],
];

describe('batchLineFromOp (golden)', () => {
  it.each(golden)('%s', (_name, op, line) => {
    expect(batchLineFromOp(op).text).toBe(line);
  });

  it('has a case for every ip op kind', () => {
    const ipKinds = Object.values(PlanOpKind).filter((kind) => isIpOp({ kind } as IpPlanOp));
    expect(new Set(golden.map(([, op]) => op.kind))).toEqual(new Set(ipKinds));
  });

  it('says which ip process can run each line: IPv6 rules only under -6, IPv4 lines never', () => {
    const flags = golden.map(([name, op]) => [name, batchLineFromOp(op).familyFlag]);
    const expected = golden.map(([name, op]) => {
      if (op.kind === 'rule-add' || op.kind === 'rule-del') return [name, op.rule.family === 6 ? '-6' : 'none'];
      if (op.kind === 'route-add' || op.kind === 'route-del') return [name, op.route.family === 6 ? 'either' : 'none'];
      if (op.kind === 'addr-add' || op.kind === 'addr-del') return [name, op.address.family === 6 ? 'either' : 'none'];
      return [name, 'either'];
    });
    expect(flags).toEqual(expected);
    expect(batchLineFromOp({ kind: 'rule-del', rule: { family: 6, priority: 1000, table: 100 } })).toEqual({
      text: 'rule del table 100 priority 1000',
      familyFlag: '-6',
    });
  });
});

const unsafe: Array<[string, IpPlanOp, string]> = [
  ['name with a space (second argument)', { kind: 'link-del', name: 'eth0 up' }, 'name'],
  ['name with a newline (second command)', { kind: 'link-up', name: 'br0\nlink del eth0' }, 'name'],
  ['down with a name that is a second argument', { kind: 'link-down', name: 'eth0 up' }, 'name'],
  ['name with a quote', { kind: 'link-del', name: 'br"0' }, 'name'],
  ['name with a comment sign', { kind: 'link-del', name: 'br#0' }, 'name'],
  ['name longer than 15 bytes', { kind: 'link-add', name: 'abcdefghijklmnop', type: 'bridge' }, 'name'],
  ['empty name', { kind: 'link-del', name: '' }, 'name'],
  ['name ".."', { kind: 'link-del', name: '..' }, 'name'],
  ['name that looks like an option', { kind: 'link-del', name: '-force' }, 'name'],
  ['master with a space', { kind: 'link-set', name: 'eth0', master: 'br0 down' }, 'master'],
  [
    'route dev injection',
    { kind: 'route-add', route: { family: 4, table: 254, dst: 'default', gateway: '198.18.1.1', dev: 'eth0\nlink del eth0' } },
    'route.dev',
  ],
  ['bad MAC', { kind: 'link-add', name: 'br0', type: 'bridge', mac: 'aa:bb:cc:dd:ee' }, 'mac'],
  ['MTU not an integer', { kind: 'link-set', name: 'eth0', mtu: 1500.5 }, 'mtu'],
  ['MTU too small', { kind: 'link-set', name: 'eth0', mtu: 10 }, 'mtu'],
  [
    'IPv6 address declared IPv4',
    { kind: 'addr-add', address: { dev: 'eth0', family: 4, address: '2001:db8::5', prefixLen: 24, dynamic: false } },
    'address.address',
  ],
  [
    'address with a prefix inside',
    { kind: 'addr-add', address: { dev: 'eth0', family: 4, address: '198.18.1.5/24', prefixLen: 24, dynamic: false } },
    'address.address',
  ],
  [
    'IPv4 prefix 33',
    { kind: 'addr-add', address: { dev: 'eth0', family: 4, address: '198.18.1.5', prefixLen: 33, dynamic: false } },
    'address.prefixLen',
  ],
  ['route dst without prefix', { kind: 'route-add', route: { family: 4, table: 254, dst: '198.18.9.9', dev: 'eth0' } }, 'route.dst'],
  [
    'gateway smuggling arguments',
    { kind: 'route-add', route: { family: 4, table: 254, dst: 'default', gateway: '198.18.1.1 dev eth1' } },
    'route.gateway',
  ],
  [
    'gateway of the other family',
    { kind: 'route-add', route: { family: 6, table: 254, dst: 'default', gateway: '198.18.1.1' } },
    'route.gateway',
  ],
  ['table 0', { kind: 'route-add', route: { family: 4, table: 0, dst: 'default', gateway: '198.18.1.1' } }, 'route.table'],
  [
    'negative metric',
    { kind: 'route-add', route: { family: 4, table: 254, dst: 'default', gateway: '198.18.1.1', metric: -1 } },
    'route.metric',
  ],
  [
    'protocol with arguments',
    { kind: 'route-add', route: { family: 4, table: 254, dst: 'default', gateway: '198.18.1.1', protocol: 'static dev eth1' } },
    'route.protocol',
  ],
  ['rule from without prefix', { kind: 'rule-add', rule: { family: 4, priority: 3200, from: '198.18.1.0', table: 5 } }, 'rule.from'],
  [
    'rule priority not integer',
    { kind: 'rule-add', rule: { family: 4, priority: 3200.5, from: '198.18.1.0/24', table: 5 } },
    'rule.priority',
  ],
  ['unknown bond option', { kind: 'link-add', name: 'bond0', type: 'bond', bondOptions: { foo: '1' } }, 'bondOptions.foo'],
  [
    'bond option value with arguments',
    { kind: 'link-add', name: 'bond0', type: 'bond', bondOptions: { miimon: '100 mode 0' } },
    'bondOptions.miimon',
  ],
  [
    'bond option enum outside its set',
    { kind: 'link-add', name: 'bond0', type: 'bond', bondOptions: { lacp_rate: 'sometimes' } },
    'bondOptions.lacp_rate',
  ],
  ['bond mode in the options', { kind: 'link-add', name: 'bond0', type: 'bond', bondOptions: { mode: '4' } }, 'bondOptions.mode'],
  ['unknown bond mode', { kind: 'link-add', name: 'bond0', type: 'bond', bondMode: 'fastest' }, 'bondMode'],
  ['STP on a bond', { kind: 'link-add', name: 'bond0', type: 'bond', stp: true }, 'stp'],
  ['bridge options on a bond', { kind: 'link-add', name: 'bond0', type: 'bond', bridgeOptions: { priority: '1' } }, 'bridgeOptions'],
  ['a bridge option hostprov does not set', { kind: 'link-set', name: 'br', bridgeOptions: { flush: '1' } }, 'bridgeOptions.flush'],
  ['a bridge option smuggling a word', { kind: 'link-set', name: 'br', bridgeOptions: { priority: '1 down' } }, 'bridgeOptions.priority'],
  ['a bridge option out of range', { kind: 'link-set', name: 'br', bridgeOptions: { priority: '65536' } }, 'bridgeOptions.priority'],
  ['a bridge option with leading zeros', { kind: 'link-set', name: 'br', bridgeOptions: { priority: '01' } }, 'bridgeOptions.priority'],
  [
    'bridge options that are not an object',
    { kind: 'link-set', name: 'br', bridgeOptions: 'priority 1' as unknown as Record<string, string> },
    'bridgeOptions',
  ],
  ['VLAN id 4095', { kind: 'link-add', name: 'eth0.4095', type: 'vlan', vlanBase: 'eth0', vlanId: 4095 }, 'vlanId'],
  ['VLAN without base', { kind: 'link-add', name: 'eth0.5', type: 'vlan', vlanId: 5 }, 'vlanBase'],
  ['link-set that changes nothing', { kind: 'link-set', name: 'eth0' }, 'link-set'],
];

describe('batchLineFromOp (rejections)', () => {
  it.each(unsafe)('rejects %s', (_name, op, field) => {
    let thrown: unknown;
    try {
      batchLineFromOp(op);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(UnsafeBatchArgumentError);
    expect((thrown as UnsafeBatchArgumentError).field).toBe(field);
  });
});
