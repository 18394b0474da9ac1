/**
 * Operators name networks, clusters and hosts by id or by name; these find the row either way (an id
 * wins over a name that happens to equal another row's id), or fail with StoreNotFoundError.
 */
import type { Cluster } from '../../model/host-networking/cluster';
import type { Host } from '../../model/host-networking/host';
import type { Network } from '../../model/host-networking/network';
import type { NetworkAttachment } from '../../model/host-networking/network-attachment';
import { z } from 'zod';
import { EntityId } from '../../model/host-networking/values';
import { StoreEntity, StoreNotFoundError } from '../../store/errors';
import type { HostNetworkingStore } from '../../store/store';

/** A host named on the command line: its id or its name. */
export const HostRef = z.string().min(1).max(255);

export async function findNetwork(store: HostNetworkingStore, ref: string): Promise<Network> {
  const found = (EntityId.safeParse(ref).success ? await store.networks.get(ref) : null) ?? (await store.networks.getByName(ref));
  if (!found) throw new StoreNotFoundError(StoreEntity.NETWORK, ref);
  return found;
}

export async function findCluster(store: HostNetworkingStore, ref: string): Promise<Cluster> {
  const found = (await store.clusters.get(ref)) ?? (await store.clusters.list()).find((c) => c.name === ref);
  if (!found) throw new StoreNotFoundError(StoreEntity.CLUSTER, ref);
  return found;
}

export async function findHost(store: HostNetworkingStore, ref: string): Promise<Host> {
  const found = (await store.hosts.get(ref)) ?? (await store.hosts.list()).find((h) => h.name === ref);
  if (!found) throw new StoreNotFoundError(StoreEntity.HOST, ref);
  return found;
}

export async function findAttachment(store: HostNetworkingStore, id: string): Promise<NetworkAttachment> {
  const found = await store.attachments.get(id);
  if (!found) throw new StoreNotFoundError(StoreEntity.ATTACHMENT, id);
  return found;
}
