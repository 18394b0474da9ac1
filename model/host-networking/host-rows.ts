/**
 * Whether one host's rows, loaded together from the store, belong together: its cluster's networks are of
 * the cluster it is in, its attachments are its own, and every network they name is among the networks
 * given. Shared by the contexts that workflows load through activities (model/host-setup-networks,
 * model/refresh), as a zod refinement.
 */
import type { z } from 'zod';
import type { ClusterNetwork } from './cluster';
import type { Network } from './network';
import type { NetworkAttachment } from './network-attachment';

export interface HostRows {
  host: { id: string };
  clusterNetworks: readonly ClusterNetwork[];
  networks: readonly Network[];
  attachments: readonly NetworkAttachment[];
}

/** Adds an issue for every row that does not belong to the host in cluster `clusterId`. */
export function refineHostRows(rows: HostRows, clusterId: string | null, ctx: z.RefinementCtx): void {
  const networkIds = new Set(rows.networks.map((n) => n.id));
  for (const [i, cn] of rows.clusterNetworks.entries()) {
    if (cn.clusterId !== clusterId)
      ctx.addIssue({
        code: 'custom',
        path: ['clusterNetworks', i, 'clusterId'],
        message: `cluster network of cluster ${cn.clusterId}, but host ${rows.host.id} is in ${clusterId ?? 'no cluster'}`,
      });
    if (!networkIds.has(cn.networkId))
      ctx.addIssue({
        code: 'custom',
        path: ['clusterNetworks', i, 'networkId'],
        message: `network ${cn.networkId} is not among the networks`,
      });
  }
  for (const [i, a] of rows.attachments.entries()) {
    if (a.hostId !== rows.host.id)
      ctx.addIssue({ code: 'custom', path: ['attachments', i, 'hostId'], message: `attachment ${a.id} belongs to host ${a.hostId}` });
    if (!networkIds.has(a.networkId))
      ctx.addIssue({ code: 'custom', path: ['attachments', i, 'networkId'], message: `network ${a.networkId} is not among the networks` });
  }
}
