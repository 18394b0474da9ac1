/**
 * Network compliance after a refresh (ovirt-engine HostNetworkTopologyPersisterImpl
 * `enforceNetworkCompliance`, NetworkMonitoringHelper; docs/engine-host-networking.md#refresh-from-capabilities):
 * - a required cluster network the host does not report makes the host non-operational with
 *   `NETWORK_UNREACHABLE`;
 * - a VM network the host reports on an interface without a bridge, with `VM_NETWORK_IS_BRIDGELESS`.
 * The engine stops at the first kind it finds; this lists every problem and names the reason the engine
 * would give (the first kind). With `skipManagementNetwork` (right after an install) the management
 * network is left out of both checks while no interface carries it.
 *
 * hostprov has no per-network cluster status and no host maintenance mode, so every required network
 * counts as operational and the check always runs.
 */
import type { ClusterNetwork } from '../host-networking/cluster';
import type { Network } from '../host-networking/network';
import type { ReportedInterfaces } from '../host-networking/reported-interfaces';
import { vdsmNetworkName } from '../host-networking/vdsm-name';

/** The engine's `NonOperationalReason` values for networks, in the order the engine checks them. */
export const NonOperationalReason = {
  NETWORK_UNREACHABLE: 'NETWORK_UNREACHABLE',
  VM_NETWORK_IS_BRIDGELESS: 'VM_NETWORK_IS_BRIDGELESS',
} as const;
export type NonOperationalReason = (typeof NonOperationalReason)[keyof typeof NonOperationalReason];

export const HostNetworkStatus = { OPERATIONAL: 'operational', NON_OPERATIONAL: 'non-operational' } as const;
export type HostNetworkStatus = (typeof HostNetworkStatus)[keyof typeof HostNetworkStatus];

export interface ComplianceProblem {
  reason: NonOperationalReason;
  networkId: string;
  networkName: string;
  message: string;
}

export interface NetworkCompliance {
  status: HostNetworkStatus;
  /** The engine's reason: the first problem's; `null` when operational. */
  reason: NonOperationalReason | null;
  /** Every problem, missing required networks first, each kind sorted by network name. */
  problems: ComplianceProblem[];
}

export interface ComplianceInput {
  clusterNetworks: readonly ClusterNetwork[];
  /** Data-center networks (at least the cluster's). */
  networks: readonly Network[];
  reported: ReportedInterfaces;
}

export interface ComplianceOptions {
  /**
   * Leave the management network out while no interface carries it: the check right after an install
   * (ovirt-engine CollectVdsNetworkDataAfterInstallationVDSCommand `skipManagementNetwork`).
   * @default false
   */
  skipManagementNetwork?: boolean;
}

export function networkCompliance(input: ComplianceInput, options: ComplianceOptions = {}): NetworkCompliance {
  const networks = new Map(input.networks.map((n) => [n.id, n]));
  const reportedByName = new Map(input.reported.networks.map((n) => [n.name, n]));
  const onInterface = (name: string) => (reportedByName.get(name)?.baseInterface ?? null) !== null;

  const checked = input.clusterNetworks
    .flatMap((cn) => {
      const network = networks.get(cn.networkId);
      return network ? [{ network, roles: cn.roles, hostName: vdsmNetworkName(network) }] : [];
    })
    .filter((n) => !(options.skipManagementNetwork && n.roles.management && !onInterface(n.hostName)))
    .sort((a, b) => (a.network.name < b.network.name ? -1 : a.network.name > b.network.name ? 1 : 0));

  const missing = checked
    .filter((n) => n.roles.required && !reportedByName.has(n.hostName))
    .map(({ network }) =>
      problem(NonOperationalReason.NETWORK_UNREACHABLE, network, `required network ${network.name} is not on the host`),
    );
  const bridgeless = checked
    .filter((n) => {
      const reported = reportedByName.get(n.hostName);
      return n.network.vmNetwork && reported !== undefined && reported.baseInterface !== null && !reported.bridged;
    })
    .map(({ network }) =>
      problem(NonOperationalReason.VM_NETWORK_IS_BRIDGELESS, network, `VM network ${network.name} is on the host without a bridge`),
    );
  const problems = [...missing, ...bridgeless];
  return {
    status: problems.length ? HostNetworkStatus.NON_OPERATIONAL : HostNetworkStatus.OPERATIONAL,
    reason: problems[0]?.reason ?? null,
    problems,
  };
}

function problem(reason: NonOperationalReason, network: Network, message: string): ComplianceProblem {
  return { reason, networkId: network.id, networkName: network.name, message };
}
