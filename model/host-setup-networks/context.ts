/**
 * What a hostSetupNetworks request is checked and built against: the host with the interfaces and networks
 * it last reported, its cluster with the cluster's networks and their roles, every data-center network, and
 * the host's stored attachments. The workflow loads it from the store through an activity; it is plain JSON
 * so it travels through workflow history. `indexContext` turns it into the lookups the pure functions use.
 */
import { z } from 'zod';
import { Cluster, ClusterNetwork } from '../host-networking/cluster';
import { Host } from '../host-networking/host';
import { Network } from '../host-networking/network';
import { NetworkAttachment } from '../host-networking/network-attachment';
import {
  interfaceKind,
  ReportedInterfaces,
  type InterfaceKind,
  type ReportedBond,
  type ReportedNetwork,
} from '../host-networking/reported-interfaces';
import { refineHostRows } from '../host-networking/host-rows';
import { ExternalId } from '../host-networking/values';
import { vdsmNetworkName } from '../host-networking/vdsm-name';

/** The host as the store has it, assigned to a cluster and with an interface report. */
export const ContextHost = Host.extend({ clusterId: ExternalId, reportedInterfaces: ReportedInterfaces });
export type ContextHost = z.infer<typeof ContextHost>;

export const HostSetupNetworksContext = z
  .object({
    host: ContextHost,
    cluster: Cluster,
    /** The networks attached to the host's cluster, with their roles. */
    clusterNetworks: z.array(ClusterNetwork),
    /** Every data-center network (names and ids resolve among these). */
    networks: z.array(Network),
    /** The host's stored attachments. */
    attachments: z.array(NetworkAttachment),
  })
  .strict()
  .superRefine((context, ctx) => {
    if (context.host.clusterId !== context.cluster.id) {
      ctx.addIssue({
        code: 'custom',
        path: ['cluster', 'id'],
        message: `host ${context.host.id} is in cluster ${context.host.clusterId}, not ${context.cluster.id}`,
      });
    }
    refineHostRows(context, context.cluster.id, ctx);
  });
export type HostSetupNetworksContext = z.infer<typeof HostSetupNetworksContext>;

/** The context with the lookups every rule needs, built once per request. */
export interface ContextIndex {
  readonly context: HostSetupNetworksContext;
  readonly reported: ReportedInterfaces;
  networkById(id: string): Network | undefined;
  networkByName(name: string): Network | undefined;
  /** The network's roles in the host's cluster; `undefined` when the cluster does not have it. */
  clusterNetwork(networkId: string): ClusterNetwork | undefined;
  /** The cluster network whose VDSM name is `name` (how the host reports it), if any. */
  clusterNetworkByVdsmName(name: string): Network | undefined;
  storedById(id: string): NetworkAttachment | undefined;
  storedByNetworkId(networkId: string): NetworkAttachment | undefined;
  /** The cluster's management network, if it has one. */
  readonly managementNetworkId: string | null;
  /** The cluster's default-route network, if it has one. */
  readonly defaultRouteNetworkId: string | null;
  /** What `name` is on the host according to its report, `null` when the report does not name it. */
  interfaceKind(name: string): InterfaceKind | null;
  reportedBond(name: string): ReportedBond | undefined;
  /** The bond a NIC is reported enslaved to. */
  bondOfSlave(nicName: string): ReportedBond | undefined;
  /** Networks the host reports whose name is no cluster network's VDSM name. */
  readonly unmanagedNetworks: readonly ReportedNetwork[];
}

const indexes = new WeakMap<HostSetupNetworksContext, ContextIndex>();

/** The lookups over `context`, built once per context object (the context is never mutated). */
export function indexContext(context: HostSetupNetworksContext): ContextIndex {
  const known = indexes.get(context);
  if (known) return known;
  const index = buildIndex(context);
  indexes.set(context, index);
  return index;
}

function buildIndex(context: HostSetupNetworksContext): ContextIndex {
  const reported = context.host.reportedInterfaces;
  const networksById = new Map(context.networks.map((n) => [n.id, n]));
  const networksByName = new Map(context.networks.map((n) => [n.name, n]));
  const clusterNetworks = new Map(context.clusterNetworks.map((cn) => [cn.networkId, cn]));
  const clusterByVdsmName = new Map(
    context.clusterNetworks.flatMap((cn) => {
      const network = networksById.get(cn.networkId);
      return network ? [[vdsmNetworkName(network), network] as const] : [];
    }),
  );
  const storedById = new Map(context.attachments.map((a) => [a.id, a]));
  const storedByNetworkId = new Map(context.attachments.map((a) => [a.networkId, a]));
  const withRole = (role: 'management' | 'defaultRoute') => context.clusterNetworks.find((cn) => cn.roles[role])?.networkId ?? null;
  return {
    context,
    reported,
    networkById: (id) => networksById.get(id),
    networkByName: (name) => networksByName.get(name),
    clusterNetwork: (networkId) => clusterNetworks.get(networkId),
    clusterNetworkByVdsmName: (name) => clusterByVdsmName.get(name),
    storedById: (id) => storedById.get(id),
    storedByNetworkId: (networkId) => storedByNetworkId.get(networkId),
    managementNetworkId: withRole('management'),
    defaultRouteNetworkId: withRole('defaultRoute'),
    interfaceKind: (name) => interfaceKind(reported, name),
    reportedBond: (name) => reported.bonds.find((b) => b.name === name),
    bondOfSlave: (nicName) => reported.bonds.find((b) => b.slaves.includes(nicName)),
    unmanagedNetworks: reported.networks.filter((n) => !clusterByVdsmName.has(n.name)),
  };
}
