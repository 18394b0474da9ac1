/**
 * What refreshing one host's networks from its capabilities works from: the host (with the interfaces it
 * reported last time), its cluster's networks with their roles, the data-center networks, and the host's
 * stored attachments. The workflow loads it from the store through an activity; it is plain JSON, so it
 * travels through workflow history, and parsing it checks that its parts belong together.
 */
import { z } from 'zod';
import { ClusterNetwork } from '../host-networking/cluster';
import { Host } from '../host-networking/host';
import { Network } from '../host-networking/network';
import { NetworkAttachment } from '../host-networking/network-attachment';

export const RefreshContext = z
  .object({
    /** Its `reportedInterfaces` is the previous report (`null` before the first). */
    host: Host,
    /** The networks of the host's cluster, with their roles; `[]` for a host in no cluster. */
    clusterNetworks: z.array(ClusterNetwork),
    /** Data-center networks: at least every cluster network's and every attachment's. */
    networks: z.array(Network),
    /** The host's stored attachments. */
    attachments: z.array(NetworkAttachment),
  })
  .strict()
  .superRefine((context, ctx) => {
    const networkIds = new Set(context.networks.map((n) => n.id));
    for (const [i, cn] of context.clusterNetworks.entries()) {
      if (cn.clusterId !== context.host.clusterId) {
        ctx.addIssue({
          code: 'custom',
          path: ['clusterNetworks', i, 'clusterId'],
          message: `cluster network of cluster ${cn.clusterId}, but host ${context.host.id} is in ${context.host.clusterId ?? 'no cluster'}`,
        });
      }
      if (!networkIds.has(cn.networkId))
        ctx.addIssue({
          code: 'custom',
          path: ['clusterNetworks', i, 'networkId'],
          message: `network ${cn.networkId} is not among the networks`,
        });
    }
    for (const [i, a] of context.attachments.entries()) {
      if (a.hostId !== context.host.id)
        ctx.addIssue({ code: 'custom', path: ['attachments', i, 'hostId'], message: `attachment ${a.id} belongs to host ${a.hostId}` });
      if (!networkIds.has(a.networkId))
        ctx.addIssue({
          code: 'custom',
          path: ['attachments', i, 'networkId'],
          message: `network ${a.networkId} is not among the networks`,
        });
    }
  });
export type RefreshContext = z.infer<typeof RefreshContext>;
export type RefreshContextInput = z.input<typeof RefreshContext>;
