/**
 * reportedNetworks: what a host reports per network, from capabilities as our agent renders them
 * (test/fixtures/capabilities/networks.json), and the engine's boot-protocol rules on single entries.
 */
import { describe, expect, it } from 'vitest';
import { ReportedInterfaces, reportedNetworks } from '../../../model/host-networking/reported-interfaces';
import { reportedIpv4, reportedIpv6, reportedQos } from '../../../model/host-networking/reported-network-details';
import { DeviceInfo } from '../../../model/vdsm/capabilities';
import { capabilities } from './world';

const entry = (over: object) => DeviceInfo.parse(over);

describe('reportedNetworks', () => {
  const { networks, nameServers } = reportedNetworks(capabilities());
  const byName = new Map(networks.map((n) => [n.name, n]));

  it('reports each network with its device, base NIC or bond, bridge, VLAN, the device MTU, switch and IP configuration', () => {
    expect(networks.map((n) => n.name)).toEqual(['display', 'legacy', 'ovirtmgmt', 'storage', 'vmnet']);
    expect(byName.get('ovirtmgmt')).toEqual({
      name: 'ovirtmgmt',
      device: 'eth0',
      baseInterface: 'eth0',
      vlanId: null,
      bridged: true,
      mtu: 1500,
      defaultRoute: true,
      switchType: 'legacy',
      ipv4: { bootProtocol: 'STATIC_IP', address: '192.0.2.10', netmask: '255.255.255.0', gateway: '192.0.2.1' },
      ipv6: { bootProtocol: 'STATIC_IP', address: '2001:db8::10', prefix: 64, gateway: '2001:db8::1' },
      qos: null,
    });
    // bridgeless, VLAN 100 on a bond: the VLAN device carries it, its MTU counts; the gateway VDSM found in the network's own table is kept
    expect(byName.get('storage')).toMatchObject({
      device: 'bond0.100',
      baseInterface: 'bond0',
      vlanId: 100,
      bridged: false,
      mtu: 9000,
      defaultRoute: false,
      ipv4: { bootProtocol: 'STATIC_IP', address: '198.51.100.10', netmask: '255.255.255.0', gateway: '198.51.100.1' },
    });
    expect(byName.get('vmnet')).toMatchObject({
      device: 'bond0.300',
      baseInterface: 'bond0',
      vlanId: 300,
      bridged: true,
      ipv4: { bootProtocol: 'NONE', address: null },
    });
  });

  it('keeps a DHCP lease as the address but no gateway, and the boot protocol DHCP', () => {
    expect(byName.get('display')?.ipv4).toEqual({ bootProtocol: 'DHCP', address: '203.0.113.57', netmask: '255.255.255.0', gateway: null });
  });

  it("reads a bridged network's IP data from the bridge, not from the network entry", () => {
    const caps = capabilities((c) => {
      c.bridges.ovirtmgmt.addr = '192.0.2.99';
      c.bridges.ovirtmgmt.ipv4addrs = ['192.0.2.99/25'];
      c.bridges.ovirtmgmt.netmask = '255.255.255.128';
      c.bridges.ovirtmgmt.ipv4defaultroute = false;
      c.bridges.ovirtmgmt.ipv6gateway = '::';
    });
    const mgmt = reportedNetworks(caps).networks.find((n) => n.name === 'ovirtmgmt');
    expect(mgmt).toMatchObject({ ipv4: { address: '192.0.2.99', netmask: '255.255.255.128' }, defaultRoute: false });
  });

  it("reads the host's name servers, IP addresses only", () => {
    expect(nameServers).toEqual(['192.0.2.53', '2001:db8::53']);
    const odd = reportedNetworks(capabilities((c) => (c.nameservers = ['2001:DB8::53', 'dns.example.test', '192.0.2.53', '2001:db8::53'])));
    expect(odd.nameServers).toEqual(['2001:db8::53', '192.0.2.53']);
  });

  it('converts the QoS VDSM reports to link share and Mbps', () => {
    const caps = capabilities(
      (c) => (c.networks.vmnet.hostQos = { out: { ls: { m2: 50 }, ul: { m2: 100_000_000 }, rt: { m2: 10_500_000 } } }),
    );
    expect(reportedNetworks(caps).networks.find((n) => n.name === 'vmnet')?.qos).toEqual({
      outAverageLinkshare: 50,
      outAverageUpperlimit: 100,
      outAverageRealtime: 10,
    });
    expect(reportedQos({ out: {} })).toBeNull();
    expect(reportedQos(undefined)).toBeNull();
  });

  it('is a report the store accepts, and a report stored before networks carried IP data still reads', () => {
    expect(ReportedInterfaces.safeParse({ nics: [], bonds: [], vlans: [], networks, nameServers }).success).toBe(true);
    const old = {
      nics: [],
      bonds: [],
      vlans: [],
      networks: [{ name: 'ovirtmgmt', baseInterface: 'eth0', vlanId: null, bridged: true, mtu: 1500, defaultRoute: true }],
    };
    expect(ReportedInterfaces.parse(old)).toEqual(old);
  });
});

describe('boot protocols (ovirt-engine Ipv4BootProtocolResolver, Ipv6BootProtocolResolver)', () => {
  it.each([
    [
      'dhcpv4 gives DHCP, whatever the address',
      { dhcpv4: true, addr: '10.0.0.5', netmask: '255.0.0.0', gateway: '10.0.0.1' },
      { bootProtocol: 'DHCP', address: '10.0.0.5', netmask: '255.0.0.0', gateway: null },
    ],
    [
      'an address gives STATIC_IP with its gateway',
      { addr: '10.0.0.5', netmask: '255.0.0.0', gateway: '10.0.0.1' },
      { bootProtocol: 'STATIC_IP', address: '10.0.0.5', netmask: '255.0.0.0', gateway: '10.0.0.1' },
    ],
    [
      'a missing netmask comes from ipv4addrs',
      { addr: '10.0.0.5', ipv4addrs: ['10.0.0.5/22'] },
      { bootProtocol: 'STATIC_IP', address: '10.0.0.5', netmask: '255.255.252.0', gateway: null },
    ],
    ['nothing gives NONE', {}, { bootProtocol: 'NONE', address: null, netmask: null, gateway: null }],
    [
      'an address that is none is no address',
      { addr: 'bogus', gateway: '10.0.0.1' },
      { bootProtocol: 'NONE', address: null, netmask: null, gateway: null },
    ],
  ])('IPv4: %s', (_name, device, expected) => {
    expect(reportedIpv4(entry(device))).toEqual(expected);
  });

  const v6 = ['fe80::1/64', '2001:DB8::5/64'];
  it.each([
    ['dhcpv6 and ipv6autoconf give POLY_DHCP_AUTOCONF', { dhcpv6: true, ipv6autoconf: true, ipv6addrs: v6 }, 'POLY_DHCP_AUTOCONF', null],
    ['dhcpv6 alone gives DHCP', { dhcpv6: true, ipv6addrs: v6, ipv6gateway: '2001:db8::1' }, 'DHCP', null],
    ['ipv6autoconf alone gives AUTOCONF', { ipv6autoconf: true, ipv6addrs: v6 }, 'AUTOCONF', null],
    [
      'a global address gives STATIC_IP, link-local skipped, gateway kept',
      { ipv6addrs: v6, ipv6gateway: '2001:DB8::1' },
      'STATIC_IP',
      '2001:db8::1',
    ],
    ['"::" is no gateway', { ipv6addrs: v6, ipv6gateway: '::' }, 'STATIC_IP', null],
  ])('IPv6: %s', (_name, device, bootProtocol, gateway) => {
    expect(reportedIpv6(entry(device))).toEqual({ bootProtocol, address: '2001:db8::5', prefix: 64, gateway });
  });

  it('IPv6: only a link-local address gives NONE', () => {
    expect(reportedIpv6(entry({ ipv6addrs: ['fe80::1/64'] }))).toEqual({
      bootProtocol: 'NONE',
      address: null,
      prefix: null,
      gateway: null,
    });
  });
});
