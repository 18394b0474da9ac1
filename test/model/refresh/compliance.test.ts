/** networkCompliance: required networks present, VM networks bridged; the management network exempt right after an install. World: ../network-sync/world.ts. */
import { describe, expect, it } from 'vitest';
import { NO_ROLES } from '../../../model/host-networking/cluster';
import { reportedInterfacesFromCapabilities } from '../../../model/host-networking/reported-interfaces';
import { HostNetworkStatus, networkCompliance, NonOperationalReason } from '../../../model/refresh/compliance';
import { capabilities, CLUSTER, clusterNetworks, N, networks, T } from '../network-sync/world';

type Json = ReturnType<typeof JSON.parse>;

function compliance(edit: (caps: Json) => void, options = {}, cluster = clusterNetworks()) {
  return networkCompliance(
    { clusterNetworks: cluster, networks: networks(), reported: reportedInterfacesFromCapabilities(capabilities(edit)) },
    options,
  );
}

const withoutNetwork = (name: string) => (c: Json) => {
  delete c.networks[name];
  delete c.bridges[name];
};
/** VM network vmnet made bridgeless by hand: the VLAN device carries it directly. */
const vmnetBridgeless = (c: Json) => {
  delete c.bridges.vmnet;
  c.networks.vmnet = { iface: 'bond0.300', bridged: false, southbound: 'bond0.300', vlanid: 300, interface: 'bond0.300' };
};

describe('networkCompliance', () => {
  it('finds the host operational when it has every required network and bridges its VM networks', () => {
    expect(compliance(() => undefined)).toEqual({ status: HostNetworkStatus.OPERATIONAL, reason: null, problems: [] });
  });

  it('makes the host non-operational with NETWORK_UNREACHABLE when a required network is missing; a missing optional one is fine', () => {
    expect(compliance(withoutNetwork('ovirtmgmt'))).toEqual({
      status: HostNetworkStatus.NON_OPERATIONAL,
      reason: NonOperationalReason.NETWORK_UNREACHABLE,
      problems: [
        {
          reason: NonOperationalReason.NETWORK_UNREACHABLE,
          networkId: N.ovirtmgmt,
          networkName: 'ovirtmgmt',
          message: 'required network ovirtmgmt is not on the host',
        },
      ],
    });
    // migration is not required and not on the host at all
    expect(compliance(withoutNetwork('vmnet')).status).toBe(HostNetworkStatus.OPERATIONAL);
  });

  it('makes the host non-operational with VM_NETWORK_IS_BRIDGELESS when a VM network has no bridge; a non-VM network needs none', () => {
    expect(compliance(vmnetBridgeless)).toMatchObject({
      status: HostNetworkStatus.NON_OPERATIONAL,
      reason: NonOperationalReason.VM_NETWORK_IS_BRIDGELESS,
      problems: [{ reason: NonOperationalReason.VM_NETWORK_IS_BRIDGELESS, networkName: 'vmnet' }],
    });
    // storage is bridgeless and not a VM network
    expect(compliance(() => undefined).problems.map((p) => p.networkName)).not.toContain('storage');
  });

  it('lists every problem and gives the reason the engine checks first', () => {
    const result = compliance((c) => {
      withoutNetwork('ovirtmgmt')(c);
      vmnetBridgeless(c);
    });
    expect(result.reason).toBe(NonOperationalReason.NETWORK_UNREACHABLE);
    expect(result.problems.map((p) => [p.reason, p.networkName])).toEqual([
      ['NETWORK_UNREACHABLE', 'ovirtmgmt'],
      ['VM_NETWORK_IS_BRIDGELESS', 'vmnet'],
    ]);
  });

  it('leaves the management network out right after an install while no interface carries it, and only then', () => {
    expect(compliance(withoutNetwork('ovirtmgmt'), { skipManagementNetwork: true }).status).toBe(HostNetworkStatus.OPERATIONAL);
    const mgmtBridgeless = (c: Json) => {
      delete c.bridges.ovirtmgmt;
      c.networks.ovirtmgmt = { iface: 'eth0', bridged: false, interface: 'eth0' };
    };
    expect(compliance(mgmtBridgeless, { skipManagementNetwork: true }).problems.map((p) => p.networkName)).toEqual(['ovirtmgmt']);
  });

  it('checks the networks of the host’s cluster only', () => {
    const onlyDisplay = [{ clusterId: CLUSTER, networkId: N.display, roles: { ...NO_ROLES, required: true }, createdAt: T, updatedAt: T }];
    expect(compliance(withoutNetwork('ovirtmgmt'), {}, onlyDisplay).status).toBe(HostNetworkStatus.OPERATIONAL);
    expect(compliance(withoutNetwork('display'), {}, onlyDisplay).reason).toBe(NonOperationalReason.NETWORK_UNREACHABLE);
  });
});
