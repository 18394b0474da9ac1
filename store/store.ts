/**
 * The host networking store: the system of record for data-center networks, clusters and their network
 * roles, hosts and network attachments. One API over SQLite (a file, the default) and PostgreSQL (a URL),
 * typed with the model/host-networking schemas; inputs are validated (StoreInputError), breaches of a rule
 * are StoreConstraintError with the rule's name, missing rows StoreNotFoundError. Every write is one
 * transaction; writes to one host's attachments are serialized (a row lock on PostgreSQL, the single
 * writer on SQLite).
 */
import type { Cluster, ClusterDraft, ClusterNetwork, ClusterNetworkRolesPatch, ClusterPatch } from '../model/host-networking/cluster';
import type { Host, HostDraft, HostPatch } from '../model/host-networking/host';
import type { AttachmentChanges, IntentSnapshot } from '../model/host-networking/intent';
import type { Network, NetworkDraft, NetworkPatch } from '../model/host-networking/network';
import type { AttachmentDraft, AttachmentPatch, NetworkAttachment } from '../model/host-networking/network-attachment';
import type { ReportedInterfacesInput } from '../model/host-networking/reported-interfaces';
import type { StoreDialect } from './dialect';

/** Who asks for a write, kept on attachment rows for audit. */
export interface WriteOptions {
  requestedBy?: string;
}

export interface IntentOptions extends WriteOptions {
  /**
   * The key of the request that records this intent (activities/request-key.ts). Recording under a key that
   * was recorded before writes nothing and returns the first snapshot: a retry never takes the first write
   * for the state before it. Kept for {@link INTENT_KEY_RETENTION_DAYS} days. @default none (always records)
   */
  intentKey?: string | undefined;
}

/** How long an intent's key is remembered: far longer than any retry of the activity that recorded it. */
export const INTENT_KEY_RETENTION_DAYS = 30;

export interface NetworkRepository {
  create(draft: NetworkDraft): Promise<Network>;
  get(id: string): Promise<Network | null>;
  getByName(name: string): Promise<Network | null>;
  list(): Promise<Network[]>;
  update(id: string, patch: NetworkPatch): Promise<Network>;
  /** Refused (NETWORK_IN_USE) while a cluster or a host has the network. */
  remove(id: string): Promise<void>;
  /** The network of that name, created with the engine's defaults if there is none. */
  ensure(name: string): Promise<Network>;
}

export interface ClusterRepository {
  /** Creates the cluster with its management network (roles management, default route, required). */
  create(draft: ClusterDraft): Promise<Cluster>;
  get(id: string): Promise<Cluster | null>;
  list(): Promise<Cluster[]>;
  update(id: string, patch: ClusterPatch): Promise<Cluster>;
  /** Refused (CLUSTER_IN_USE) while hosts are in it; its network roles go with it. */
  remove(id: string): Promise<void>;
  listNetworks(clusterId: string): Promise<ClusterNetwork[]>;
  getNetwork(clusterId: string, networkId: string): Promise<ClusterNetwork | null>;
  /**
   * Attaches a network with roles (unset roles are false). `defaultRoute` moves the role from the network
   * that held it; `management` is refused (CLUSTER_ONE_MANAGEMENT): use `setManagementNetwork`.
   */
  attachNetwork(clusterId: string, networkId: string, roles?: ClusterNetworkRolesPatch): Promise<ClusterNetwork>;
  /** Changes roles as `attachNetwork` does; the management network cannot drop its role. */
  updateNetworkRoles(clusterId: string, networkId: string, roles: ClusterNetworkRolesPatch): Promise<ClusterNetwork>;
  /** Refused for the management network; a detached default-route network hands the role to it. */
  detachNetwork(clusterId: string, networkId: string): Promise<void>;
  /** Moves the management role to another network of the cluster, in one transaction. */
  setManagementNetwork(clusterId: string, networkId: string): Promise<ClusterNetwork>;
}

export interface HostRepository {
  create(draft: HostDraft): Promise<Host>;
  get(id: string): Promise<Host | null>;
  list(): Promise<Host[]>;
  update(id: string, patch: HostPatch): Promise<Host>;
  /** Removes the host and its attachments. */
  remove(id: string): Promise<void>;
  /** The host with that id, registered (named by its id, no cluster) if the store has not seen it. */
  ensure(id: string): Promise<Host>;
  /** Replaces the host's last reported interfaces. */
  recordReportedInterfaces(id: string, report: ReportedInterfacesInput, reportedAt?: string): Promise<Host>;
}

export interface IntentResult {
  /** The exact previous state of every attachment the intent touched. */
  snapshot: IntentSnapshot;
  /** The host's attachments after the intent. */
  attachments: NetworkAttachment[];
}

export interface AttachmentRepository {
  get(id: string): Promise<NetworkAttachment | null>;
  listByHost(hostId: string): Promise<NetworkAttachment[]>;
  listByNic(hostId: string, nicName: string): Promise<NetworkAttachment[]>;
  listByNetwork(networkId: string): Promise<NetworkAttachment[]>;
  /** Adds one attachment; refused when the host has that network already (ATTACHMENT_HOST_NETWORK_UNIQUE). */
  add(hostId: string, draft: AttachmentDraft, options?: WriteOptions): Promise<NetworkAttachment>;
  update(id: string, patch: AttachmentPatch, options?: WriteOptions): Promise<NetworkAttachment>;
  remove(id: string): Promise<void>;
  /**
   * Applies removals, then upserts, to one host's attachments in one transaction, and returns the exact
   * previous state of every row it touched (`before: null` for rows it created).
   */
  recordIntent(hostId: string, changes: AttachmentChanges, options?: IntentOptions): Promise<IntentResult>;
  /**
   * Puts every row of the snapshot back exactly (same id, fields and timestamps) and removes the rows the
   * intent created, in one transaction. Idempotent.
   */
  restore(snapshot: IntentSnapshot): Promise<{ restored: number; removed: number }>;
}

export interface HostNetworkingStore {
  readonly dialect: StoreDialect;
  readonly networks: NetworkRepository;
  readonly clusters: ClusterRepository;
  readonly hosts: HostRepository;
  readonly attachments: AttachmentRepository;
  /** Schema versions applied to this database, oldest first. */
  migrations(): Promise<string[]>;
  close(): Promise<void>;
}
