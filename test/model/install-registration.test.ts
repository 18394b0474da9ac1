/** Where a stored network differs from the one an install builds, and what the workflow registers from its input. */
import { describe, expect, it } from 'vitest';
import { InstallHostInput } from '../../model/install-host/contract';
import { networkDefinitionDifferences } from '../../model/install-host/registration-conflicts';
import { registrationOf } from '../../model/install-host/registration';
import { network } from './network-sync/world';

/** A network with the engine's defaults. */
const STORED = network('display');
const WANTED = { name: 'ovirtmgmt', vlan: null, mtu: 1500, vmNetwork: true, stp: false, defaultRoute: true };

describe('networkDefinitionDifferences', () => {
  it('the engine defaults match an install with the contract defaults (MTU 0 is 1500)', () => {
    expect(networkDefinitionDifferences(STORED, WANTED)).toEqual([]);
  });

  it('names every field that differs, stored → wanted', () => {
    expect(networkDefinitionDifferences({ ...STORED, vlan: 10, mtu: 9000, stp: true }, { ...WANTED, vlan: null, stp: false })).toEqual([
      'vlan 10 → none',
      'mtu 9000 → 1500',
      'stp true → false',
    ]);
    expect(networkDefinitionDifferences(STORED, { ...WANTED, vmNetwork: false })).toEqual(['vmNetwork true → false']);
  });

  it('STP counts only where both are bridged: a bridgeless network has none', () => {
    expect(networkDefinitionDifferences({ ...STORED, vmNetwork: false, stp: true }, { ...WANTED, vmNetwork: false })).toEqual([]);
  });
});

describe('registrationOf', () => {
  it("carries the management network's definition, the host's name, its cluster and the level it was told, its agent (at the host's address by default) and the device found", () => {
    const input = InstallHostInput.parse({
      version: 1,
      host: { id: 'h1', name: 'hv1', address: '192.0.2.10', clusterId: 'c1' },
      agent: { tls: { insecure: true } },
      managerAddress: '192.0.2.1',
      managementNetwork: { name: 'mgmt', vlan: 7, mtu: 9000, vmNetwork: false, stp: false, defaultRoute: false },
      clusterLevel: '4.8',
      policy: { reboot: false },
    });
    expect(registrationOf(input, 'eth0.7')).toEqual({
      network: { name: 'mgmt', vlan: 7, mtu: 9000, vmNetwork: false, stp: false, defaultRoute: false },
      host: {
        name: 'hv1',
        clusterId: 'c1',
        clusterLevel: '4.8',
        agentEndpoint: { host: '192.0.2.10', port: 54321, tls: { insecure: true } },
        activeNic: 'eth0.7',
      },
    });
  });
});
