import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { chooseManagementDevice } from '../../model/install-host/choose-device';
import { ManagementNetworkInput } from '../../model/install-host/contract';
import { defaultRouteViolations } from '../../model/install-host/default-route-role';
import { DeviseFailureType, deviseManagementNetwork } from '../../model/install-host/devise-management-network';
import { bondModeAllowsVmNetwork } from '../../model/network/bond-modes';
import { NetworkCapabilities } from '../../model/vdsm/capabilities';
import { SetupNetworksParams } from '../../model/vdsm/setup-networks';

const fixture = (name: string) =>
  NetworkCapabilities.parse(JSON.parse(readFileSync(new URL(`../fixtures/capabilities/${name}.json`, import.meta.url), 'utf8')));
const ovirtmgmt = (over: Partial<ManagementNetworkInput> = {}) => ManagementNetworkInput.parse({ ...over });

describe('deviseManagementNetwork over capability fixtures', () => {
  const table = [
    {
      fixture: 'static-nic',
      device: 'eth0',
      network: ovirtmgmt(),
      expect: {
        kind: 'configure',
        networks: {
          ovirtmgmt: {
            nic: 'eth0',
            mtu: 1500,
            bridged: 'true',
            STP: 'no',
            ipaddr: '198.18.1.10',
            netmask: '255.255.255.0',
            gateway: '198.18.1.1',
            dhcpv6: false,
            ipv6autoconf: false,
            ipv6addr: '2001:db8:1::10/64',
            ipv6gateway: '2001:db8:1::1',
            defaultRoute: true,
          },
        },
      },
    },
    {
      fixture: 'dhcp-nic',
      device: 'eth0',
      network: ovirtmgmt({ mtu: 9000, vmNetwork: false }),
      expect: {
        kind: 'configure',
        networks: {
          ovirtmgmt: {
            nic: 'eth0',
            mtu: 9000,
            bridged: 'false',
            bootproto: 'dhcp',
            dhcpv6: false,
            ipv6autoconf: false,
            defaultRoute: true,
          },
        },
      },
    },
    {
      fixture: 'bond',
      device: 'bond0',
      network: ovirtmgmt(),
      expect: {
        kind: 'configure',
        baseDevice: 'bond0',
        networks: { ovirtmgmt: { bonding: 'bond0', ipaddr: '198.18.1.20', gateway: '198.18.1.1' } },
      },
    },
    {
      fixture: 'vlan-on-bond',
      device: 'bond4.3000',
      network: ovirtmgmt({ vlan: 3000, mtu: 9000 }),
      expect: {
        kind: 'configure',
        baseDevice: 'bond4',
        attachment: { nicName: 'bond4' },
        networks: { ovirtmgmt: { bonding: 'bond4', vlan: '3000', mtu: 9000, bootproto: 'dhcp' } },
      },
    },
    { fixture: 'already-configured', device: 'ovirtmgmt', network: ovirtmgmt(), expect: { kind: 'already-configured' } },
    { fixture: 'foreign-bridge', device: 'br0', network: ovirtmgmt(), expect: { kind: 'failed', type: 'IpOnForeignBridge' } },
    { fixture: 'vlan-mismatch', device: 'eth0.200', network: ovirtmgmt({ vlan: 100 }), expect: { kind: 'failed', type: 'VlanMismatch' } },
    { fixture: 'static-nic', device: 'eth0', network: ovirtmgmt({ vlan: 100 }), expect: { kind: 'failed', type: 'VlanMismatch' } },
    { fixture: 'one-slave-bond', device: 'bond0', network: ovirtmgmt(), expect: { kind: 'failed', type: 'DegenerateBond' } },
    { fixture: 'static-nic', device: 'eth1', network: ovirtmgmt(), expect: { kind: 'failed', type: 'NoBootProtocol' } },
    { fixture: 'static-nic', device: 'eth9', network: ovirtmgmt(), expect: { kind: 'failed', type: 'DeviceNotFound' } },
  ] as const;

  for (const row of table) {
    it(`${row.fixture} via ${row.device}${row.network.vlan ? ` (vlan ${row.network.vlan})` : ''} → ${row.expect.kind}${'type' in row.expect ? ` ${row.expect.type}` : ''}`, () => {
      const result = deviseManagementNetwork(fixture(row.fixture), row.device, row.network);
      expect(result).toMatchObject(row.expect);
      if (result.kind === 'configure') {
        // what we devise must be a valid setupNetworks request on the wire
        expect(() => SetupNetworksParams.parse({ networks: result.networks, bondings: {}, options: {} })).not.toThrow();
      }
      if (result.kind === 'failed') expect(result.message).toMatch(new RegExp(row.device.split('.')[0] ?? ''));
    });
  }

  it('taking the default route from another network sends that one too, without the role and its IPv6 gateway', () => {
    const result = deviseManagementNetwork(fixture('default-route-elsewhere'), 'eth1', ovirtmgmt());
    expect(result).toMatchObject({ kind: 'configure', detail: expect.stringMatching(/^takes the default route from storage/) });
    if (result.kind !== 'configure') return;
    expect(result.networks).toEqual({
      ovirtmgmt: {
        nic: 'eth1',
        mtu: 1500,
        bridged: 'true',
        STP: 'no',
        ipaddr: '198.18.5.10',
        netmask: '255.255.255.0',
        gateway: '198.18.5.1',
        dhcpv6: false,
        ipv6autoconf: false,
        defaultRoute: true,
      },
      storage: {
        nic: 'eth0',
        mtu: 1500,
        bridged: 'false',
        ipaddr: '198.18.1.10',
        netmask: '255.255.255.0',
        gateway: '198.18.1.1',
        dhcpv6: false,
        ipv6autoconf: false,
        ipv6addr: '2001:db8:1::10/64',
        defaultRoute: false,
      },
    });
    expect(defaultRouteViolations(result.networks)).toEqual([]);
    expect(() => SetupNetworksParams.parse({ networks: result.networks, bondings: {}, options: {} })).not.toThrow();
  });

  it('a management network without the role leaves the holder alone', () => {
    const result = deviseManagementNetwork(fixture('default-route-elsewhere'), 'eth1', ovirtmgmt({ defaultRoute: false }));
    expect(result.kind === 'configure' && Object.keys(result.networks)).toEqual(['ovirtmgmt']);
  });

  it('copies only the boot protocol for DHCP, never the leased address', () => {
    const result = deviseManagementNetwork(fixture('dhcp-nic'), 'eth0', ovirtmgmt());
    expect(result.kind === 'configure' && result.networks.ovirtmgmt).not.toHaveProperty('ipaddr');
    expect(result.kind === 'configure' && result.attachment.ipConfiguration.ipv4).toEqual({ bootProtocol: 'DHCP' });
  });
});

describe('chooseManagementDevice: getRoute → lastClientIface → address match', () => {
  const caps = fixture('static-nic');
  const base = { caps, managerAddress: '198.18.1.1', hostAddresses: ['198.18.1.10'], lastClientIface: 'eth1' };

  it('trusts getRoute when the agent has it', () => {
    expect(chooseManagementDevice({ ...base, route: { kind: 'route', device: 'eth0', source: '198.18.1.10' } })).toMatchObject({
      device: 'eth0',
      rule: 'get-route',
    });
  });
  it('no route from getRoute means no device (NAT): the install skips, visibly', () => {
    expect(chooseManagementDevice({ ...base, route: { kind: 'no-route', reason: 'Network is unreachable' } })).toMatchObject({
      device: null,
      rule: 'get-route',
    });
  });
  it('falls back to lastClientIface for agents without getRoute', () => {
    expect(chooseManagementDevice({ ...base, route: { kind: 'unsupported' } })).toMatchObject({
      device: 'eth1',
      rule: 'last-client-iface',
    });
  });
  it('then to the engine rule: the device holding the host address', () => {
    expect(chooseManagementDevice({ ...base, lastClientIface: '', route: { kind: 'unsupported' } })).toMatchObject({
      device: 'eth0',
      rule: 'address-match',
    });
  });
  it('a bridge holding the address wins over its port', () => {
    const result = chooseManagementDevice({
      ...base,
      caps: fixture('already-configured'),
      lastClientIface: '',
      route: { kind: 'unsupported' },
    });
    expect(result).toMatchObject({ device: 'ovirtmgmt', rule: 'address-match' });
  });
  it('nothing matches: no device', () => {
    expect(
      chooseManagementDevice({ ...base, lastClientIface: '', hostAddresses: ['203.0.113.9'], route: { kind: 'unsupported' } }).device,
    ).toBeNull();
  });
});

describe('bond modes under a VM network (docs/engine-host-networking.md#bond-modes)', () => {
  const withMode = (mode: string | undefined) => {
    const caps = fixture('vlan-on-bond');
    const bond = caps.bondings.bond4;
    if (bond) bond.opts = mode === undefined ? {} : { mode };
    return caps;
  };

  it('the one predicate: modes 1-4 by number or name allow a VM network; 0, 5, 6, none or unknown do not', () => {
    for (const mode of ['1', '2', '3', '4', 'active-backup', 'balance-xor', 'broadcast', '802.3ad'])
      expect(bondModeAllowsVmNetwork(mode), mode).toBe(true);
    for (const mode of ['0', '5', '6', 'balance-rr', 'balance-tlb', 'balance-alb', '7', 'fast', '', undefined, null])
      expect(bondModeAllowsVmNetwork(mode), String(mode)).toBe(false);
  });

  for (const mode of ['0', '5', '6', 'balance-alb', undefined]) {
    it(`a VM network on a bond in mode ${mode ?? '(none)'} is refused before anything is sent`, () => {
      const result = deviseManagementNetwork(withMode(mode), 'bond4.3000', ovirtmgmt({ vlan: 3000, mtu: 9000 }));
      expect(result).toMatchObject({ kind: 'failed', type: DeviseFailureType.BOND_MODE_FORBIDS_VM_NETWORK });
      expect(result.kind === 'failed' && result.message).toMatch(/bond4.*mode/);
    });
  }

  it('a non-VM network may sit on such a bond', () => {
    expect(deviseManagementNetwork(withMode('0'), 'bond4.3000', ovirtmgmt({ vlan: 3000, vmNetwork: false }))).toMatchObject({
      kind: 'configure',
    });
  });

  it('the workflow may switch the rule off for executions recorded before it (patched marker)', () => {
    let asked = 0;
    const check = () => {
      asked += 1;
      return false;
    };
    expect(deviseManagementNetwork(withMode('0'), 'bond4.3000', ovirtmgmt({ vlan: 3000 }), { checkBondMode: check })).toMatchObject({
      kind: 'configure',
    });
    expect(asked).toBe(1);
    // Not asked at all when no bond is involved, so those executions record no marker.
    deviseManagementNetwork(fixture('static-nic'), 'eth0', ovirtmgmt(), { checkBondMode: check });
    expect(asked).toBe(1);
  });
});

describe('the default-route role in a request', () => {
  it('allows one holder, and an IPv6 gateway and nameservers only on it', () => {
    expect(
      defaultRouteViolations({
        a: { defaultRoute: true, ipv6gateway: '2001:db8::1', nameservers: ['198.18.1.1'] },
        b: { gateway: '198.18.2.1', ipv6gateway: '::' },
      }),
    ).toEqual([]);
  });
  it('names every break of the rules', () => {
    expect(
      defaultRouteViolations({
        a: { defaultRoute: 'true' },
        b: { defaultRoute: true },
        c: { ipv6gateway: '2001:db8::1' },
        d: { nameservers: ['198.18.1.1'] },
      }),
    ).toEqual([
      'more than one network takes the default route: a, b',
      'c has an IPv6 gateway but not the default route',
      'd has nameservers but not the default route',
    ]);
  });
});
