/** Pure parts of the host networking model: the interface report from capabilities, and request shapes. */
import { describe, expect, it } from 'vitest';
import { AttachmentChanges } from '../../model/host-networking/intent';
import { interfaceKind, ReportedInterfaces, reportedInterfacesFromCapabilities } from '../../model/host-networking/reported-interfaces';
import { NetworkCapabilities } from '../../model/vdsm/capabilities';

const N1 = '11111111-1111-4111-8111-111111111111';
const A1 = '22222222-2222-4222-8222-222222222222';

describe('reported interfaces', () => {
  const caps = NetworkCapabilities.parse({
    nics: { eth1: { hwaddr: '52:54:00:00:00:02', mtu: '9000', speed: 1000 }, eth0: { hwaddr: '52:54:00:00:00:01', mtu: '1500' } },
    bondings: {
      bond0: { hwaddr: '52:54:00:00:00:02', mtu: '9000', slaves: ['eth1', 'eth0'], opts: { mode: '4', miimon: '100' }, active_slave: '' },
    },
    vlans: { 'bond0.100': { iface: 'bond0', vlanid: 100, mtu: '9000' } },
    // a bridged network's IP data (default route included) is read from its bridge, as the engine does
    bridges: { ovirtmgmt: { ports: ['bond0.100'], ipv4defaultroute: true }, legacy: { ports: ['eth1'] } },
    networks: {
      // a VM network over a VLAN on a bond, holding the IPv4 default route
      ovirtmgmt: { iface: 'ovirtmgmt', bridged: true, southbound: 'bond0.100', vlanid: 100, mtu: '9000', ipv4defaultroute: true },
      // a bridgeless network on a NIC, holding an IPv6 gateway
      storage: { iface: 'eth1', bridged: false, interface: 'eth1', mtu: '1500', ipv6gateway: '2001:db8::1' },
      // an older VDSM without southbound: the device comes from the bridge's ports; '::' is no gateway
      legacy: { iface: 'legacy', bridged: true, ports: ['vnet0', 'eth1'], ipv6gateway: '::' },
    },
  });

  const noIp = {
    switchType: 'legacy',
    ipv4: { bootProtocol: 'NONE', address: null, netmask: null, gateway: null },
    ipv6: { bootProtocol: 'NONE', address: null, prefix: null, gateway: null },
    qos: null,
  };

  it('takes NICs, bonds with slaves and options, VLANs and networks from capabilities, sorted, bridges left out', () => {
    const report = reportedInterfacesFromCapabilities(caps);
    expect(report).toEqual({
      nics: [
        { name: 'eth0', mac: '52:54:00:00:00:01', mtu: 1500, speed: 0 },
        { name: 'eth1', mac: '52:54:00:00:00:02', mtu: 9000, speed: 1000 },
      ],
      bonds: [
        {
          name: 'bond0',
          mac: '52:54:00:00:00:02',
          mtu: 9000,
          slaves: ['eth0', 'eth1'],
          options: { mode: '4', miimon: '100' },
          activeSlave: null,
        },
      ],
      vlans: [{ name: 'bond0.100', baseInterface: 'bond0', vlanId: 100, mtu: 9000 }],
      // the MTU is the carrying device's (eth1: 9000), which the engine compares, not the network entry's
      networks: [
        { name: 'legacy', baseInterface: 'eth1', device: 'eth1', vlanId: null, bridged: true, mtu: 9000, defaultRoute: false, ...noIp },
        {
          name: 'ovirtmgmt',
          baseInterface: 'bond0',
          device: 'bond0.100',
          vlanId: 100,
          bridged: true,
          mtu: 9000,
          defaultRoute: true,
          ...noIp,
        },
        { name: 'storage', baseInterface: 'eth1', device: 'eth1', vlanId: null, bridged: false, mtu: 9000, defaultRoute: true, ...noIp },
      ],
      nameServers: [],
    });
    expect(ReportedInterfaces.safeParse(report).success).toBe(true);
    expect([
      interfaceKind(report, 'eth1'),
      interfaceKind(report, 'bond0'),
      interfaceKind(report, 'bond0.100'),
      interfaceKind(report, 'ovirtmgmt'),
    ]).toEqual(['nic', 'bond', 'vlan', null]);
  });

  it('reads a report stored before networks were recorded as one without networks, and refuses a network reported twice', () => {
    const stored = { nics: [], bonds: [], vlans: [] };
    expect(ReportedInterfaces.parse(stored)).toEqual({ ...stored, networks: [] });
    const net = { name: 'ovirtmgmt', baseInterface: 'eth0', vlanId: null, bridged: true, mtu: 1500, defaultRoute: true };
    expect(ReportedInterfaces.safeParse({ ...stored, networks: [net, net] }).error?.issues.map((i) => i.message)).toEqual([
      'network ovirtmgmt is reported twice',
    ]);
  });
});

describe('attachment changes', () => {
  it('refuses a network twice, an id both written and removed, and a removal listed twice', () => {
    const issues = (value: unknown) => AttachmentChanges.safeParse(value).error?.issues.map((i) => i.message) ?? [];
    expect(issues({ upserts: [{ networkId: N1 }, { networkId: N1 }] })).toEqual([`network ${N1} appears twice`]);
    expect(issues({ upserts: [{ id: A1, networkId: N1 }], removals: [A1] })).toEqual([`attachment ${A1} is both written and removed`]);
    expect(issues({ removals: [A1, A1] })).toEqual([`attachment ${A1} is removed twice`]);
    expect(AttachmentChanges.parse({ upserts: [{ networkId: N1 }] })).toEqual({
      upserts: [
        {
          networkId: N1,
          nicName: null,
          ipConfiguration: { ipv4: { bootProtocol: 'NONE' }, ipv6: { bootProtocol: 'NONE' } },
          properties: {},
          qos: null,
          dns: null,
        },
      ],
      removals: [],
    });
  });
});
