/**
 * What refreshing one host's networks from its capabilities works from: the host (with the interfaces it
 * reported last time), its cluster's networks with their roles, the data-center networks, and the host's
 * stored attachments. The workflow loads it from the store through an activity; it is plain JSON, so it
 * travels through workflow history, and parsing it checks that its parts belong together.
 */
import { z } from 'zod';
import { ClusterNetwork } from '../host-networking/cluster';
import { Host } from '../host-networking/host';
import { refineHostRows } from '../host-networking/host-rows';
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
  .superRefine((context, ctx) => refineHostRows(context, context.host.clusterId, ctx));
export type RefreshContext = z.infer<typeof RefreshContext>;
export type RefreshContextInput = z.input<typeof RefreshContext>;
