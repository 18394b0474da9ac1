/**
 * A cluster as the CLI shows it: the cluster and its networks with their roles, each named (the store
 * keeps network ids on the role rows). `clusters get --json` prints this shape; writes print it before and
 * after.
 */
import { z } from 'zod';
import { Cluster, ClusterNetwork } from '../../model/host-networking/cluster';
import { NetworkName } from '../../model/host-networking/network';
import type { HostNetworkingStore } from '../../store/store';
import { cell, formatFields, formatTable } from './output';

export const ClusterNetworkView = ClusterNetwork.extend({ networkName: NetworkName }).strict();
export type ClusterNetworkView = z.infer<typeof ClusterNetworkView>;

export const ClusterView = z.object({ cluster: Cluster, networks: z.array(ClusterNetworkView) }).strict();
export type ClusterView = z.infer<typeof ClusterView>;

export async function loadClusterView(store: HostNetworkingStore, cluster: Cluster): Promise<ClusterView> {
  const names = new Map((await store.networks.list()).map((n) => [n.id, n.name]));
  const networks = (await store.clusters.listNetworks(cluster.id))
    .map((row) => ({ ...row, networkName: names.get(row.networkId) ?? row.networkId }))
    .sort((a, b) => (a.networkName < b.networkName ? -1 : a.networkName > b.networkName ? 1 : 0));
  return { cluster, networks };
}

/** The roles a network holds, in one word list (`management,defaultRoute,required`), or `attached` for none. */
export function roleList(roles: ClusterNetworkView['roles']): string {
  const held = Object.entries(roles).flatMap(([role, on]) => (on ? [role] : []));
  return held.length ? held.join(',') : 'attached';
}

/** The view with networks keyed by name, so a change reads `networks.storage: attached → display`. */
export function clusterViewForDiff(view: ClusterView | null): unknown {
  if (!view) return null;
  return { ...view.cluster, networks: Object.fromEntries(view.networks.map((n) => [n.networkName, roleList(n.roles)])) };
}

const yes = (flag: boolean): string => (flag ? 'yes' : '-');

export function formatClusterNetworks(networks: ClusterNetworkView[]): string {
  return formatTable(
    ['NETWORK', 'MANAGEMENT', 'DEFAULT ROUTE', 'DISPLAY', 'MIGRATION', 'REQUIRED', 'NETWORK ID'],
    networks.map((n) => [
      n.networkName,
      yes(n.roles.management),
      yes(n.roles.defaultRoute),
      yes(n.roles.display),
      yes(n.roles.migration),
      yes(n.roles.required),
      n.networkId,
    ]),
    'no networks',
  );
}

export function formatClusterView(view: ClusterView): string {
  const { cluster } = view;
  return [
    formatFields([
      ['id', cluster.id],
      ['name', cluster.name],
      ['compatibility', cluster.compatibilityVersion],
      ['management', cell(view.networks.find((n) => n.roles.management)?.networkName)],
      ['default route', cell(view.networks.find((n) => n.roles.defaultRoute)?.networkName)],
      ['created', cluster.createdAt],
      ['updated', cluster.updatedAt],
    ]),
    '',
    formatClusterNetworks(view.networks),
  ].join('\n');
}
