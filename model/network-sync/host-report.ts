/**
 * hostSyncReport: every attachment of one host against what the host last reported, summed up as in sync
 * or out of sync (the `NetworkSync` search attribute), with the host's unmanaged networks listed on their
 * own (docs/engine-host-networking.md#out-of-sync). Unmanaged networks are reported, never counted as
 * drift: hostprov does not own them.
 */
import type { ClusterNetwork } from '../host-networking/cluster';
import type { Network } from '../host-networking/network';
import type { NetworkAttachment } from '../host-networking/network-attachment';
import type { ReportedInterfaces, ReportedNetwork } from '../host-networking/reported-interfaces';
import { vdsmNetworkName } from '../host-networking/vdsm-name';
import { AttachmentSyncState, outOfSyncReport, type AttachmentSyncReport, type OutOfSyncOptions } from './attachment-report';
import { NetworkSyncPreconditionError } from './errors';

export const HostSyncState = {
  IN_SYNC: 'in-sync',
  /** At least one attachment is out of sync or not reported by the host. */
  OUT_OF_SYNC: 'out-of-sync',
} as const;
export type HostSyncState = (typeof HostSyncState)[keyof typeof HostSyncState];

/** What the host's report is compared with: the data-center definitions and the host's stored attachments. */
export interface HostNetworksState {
  /** Data-center networks; every attachment's and cluster network's network must be among them. */
  networks: readonly Network[];
  /** The host's cluster's networks with their roles. */
  clusterNetworks: readonly ClusterNetwork[];
  /** The host's stored attachments. */
  attachments: readonly NetworkAttachment[];
  /** What the host last reported. */
  reported: ReportedInterfaces;
}

/** A network the host reports that is not one of its cluster's: shown, never given an attachment. */
export interface UnmanagedNetworkReport {
  /** Its name on the host. */
  name: string;
  baseInterface: string | null;
  vlanId: number | null;
  bridged: boolean;
}

export interface HostSyncReport {
  state: HostSyncState;
  /** Every stored attachment, sorted by network name. */
  attachments: AttachmentSyncReport[];
  counts: Record<AttachmentSyncState, number>;
  /** Sorted by name. */
  unmanagedNetworks: UnmanagedNetworkReport[];
}

export type HostSyncOptions = Omit<OutOfSyncOptions, 'hostNameServers'>;

/**
 * Compares every stored attachment of the host (see `outOfSyncReport`). The host's name servers come from
 * its report.
 * @throws NetworkSyncPreconditionError when an attachment's network is not among `state.networks`.
 */
export function hostSyncReport(state: HostNetworksState, options: HostSyncOptions = {}): HostSyncReport {
  const networks = new Map(state.networks.map((n) => [n.id, n]));
  const roles = new Map(state.clusterNetworks.map((cn) => [cn.networkId, cn.roles]));
  const reportedByName = new Map(state.reported.networks.map((n) => [n.name, n]));
  const compareOptions: OutOfSyncOptions = {
    ...options,
    ...(state.reported.nameServers ? { hostNameServers: state.reported.nameServers } : {}),
  };

  const attachments = state.attachments
    .map((a) => {
      const network = networks.get(a.networkId);
      if (!network)
        throw new NetworkSyncPreconditionError(`attachment ${a.id} is of network ${a.networkId}, which is not among the networks given`);
      return outOfSyncReport(
        a,
        network,
        roles.get(network.id) ?? null,
        reportedByName.get(vdsmNetworkName(network)) ?? null,
        compareOptions,
      );
    })
    .sort((x, y) => (x.networkName < y.networkName ? -1 : x.networkName > y.networkName ? 1 : 0));

  const counts: Record<AttachmentSyncState, number> = {
    [AttachmentSyncState.IN_SYNC]: 0,
    [AttachmentSyncState.OUT_OF_SYNC]: 0,
    [AttachmentSyncState.NOT_REPORTED]: 0,
  };
  for (const a of attachments) counts[a.state] += 1;
  const drifting = counts[AttachmentSyncState.OUT_OF_SYNC] + counts[AttachmentSyncState.NOT_REPORTED];

  return {
    state: drifting ? HostSyncState.OUT_OF_SYNC : HostSyncState.IN_SYNC,
    attachments,
    counts,
    unmanagedNetworks: unmanagedNetworks(state).map((n) => ({
      name: n.name,
      baseInterface: n.baseInterface,
      vlanId: n.vlanId,
      bridged: n.bridged,
    })),
  };
}

/** The networks the host reports whose name is no cluster network's name on the host, sorted by name. */
export function unmanagedNetworks(state: Pick<HostNetworksState, 'networks' | 'clusterNetworks' | 'reported'>): ReportedNetwork[] {
  const networks = new Map(state.networks.map((n) => [n.id, n]));
  const managed = new Set(
    state.clusterNetworks.flatMap((cn) => {
      const network = networks.get(cn.networkId);
      return network ? [vdsmNetworkName(network)] : [];
    }),
  );
  return state.reported.networks.filter((n) => !managed.has(n.name)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
