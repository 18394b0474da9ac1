/**
 * Clusters and the networks attached to them with their roles (ovirt-engine `network_cluster`). A cluster
 * always has exactly one management network (it is named when the cluster is created) and at most one
 * default-route network; the store enforces both.
 */
import { z } from 'zod';
import { EntityId, EntityName, ExternalId, Timestamp } from './values';

/** The roles a network can have in a cluster. */
export const ClusterNetworkRole = {
  /** Carries the manager's traffic to the hosts (exactly one per cluster). */
  MANAGEMENT: 'management',
  /** Holds the hosts' default route (at most one per cluster); moving it moves the route (docs/engine-host-networking.md#default-route-role). */
  DEFAULT_ROUTE: 'defaultRoute',
  DISPLAY: 'display',
  MIGRATION: 'migration',
  /** Hosts missing it are not operational (enforced on refresh, not by setupNetworks). */
  REQUIRED: 'required',
} as const;
export type ClusterNetworkRole = (typeof ClusterNetworkRole)[keyof typeof ClusterNetworkRole];

export const ClusterNetworkRoles = z
  .object({
    management: z.boolean(),
    defaultRoute: z.boolean(),
    display: z.boolean(),
    migration: z.boolean(),
    required: z.boolean(),
  })
  .strict();
export type ClusterNetworkRoles = z.infer<typeof ClusterNetworkRoles>;

/** Roles a newly attached network gets unless told otherwise: none, and not required. */
export const NO_ROLES: ClusterNetworkRoles = { management: false, defaultRoute: false, display: false, migration: false, required: false };

/** The management network's roles when a cluster is created (the engine makes it the default route too). */
export const MANAGEMENT_ROLES: ClusterNetworkRoles = {
  management: true,
  defaultRoute: true,
  display: false,
  migration: false,
  required: true,
};

/** Cluster compatibility level, e.g. "4.8". */
export const CompatibilityVersion = z.string().regex(/^\d{1,3}\.\d{1,3}$/, 'compatibility versions look like "4.8"');

export const Cluster = z
  .object({
    id: ExternalId,
    name: EntityName,
    compatibilityVersion: CompatibilityVersion,
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .strict();
export type Cluster = z.infer<typeof Cluster>;

export const ClusterDraft = z
  .object({
    /** @default a new UUID */
    id: ExternalId.optional(),
    name: EntityName,
    compatibilityVersion: CompatibilityVersion,
    /** The data-center network that becomes the cluster's management (and default-route) network. */
    managementNetworkId: EntityId,
  })
  .strict();
export type ClusterDraft = z.input<typeof ClusterDraft>;

export const ClusterPatch = z.object({ name: EntityName, compatibilityVersion: CompatibilityVersion }).partial().strict();
export type ClusterPatch = z.infer<typeof ClusterPatch>;

export const ClusterNetwork = z
  .object({
    clusterId: ExternalId,
    networkId: EntityId,
    roles: ClusterNetworkRoles,
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .strict();
export type ClusterNetwork = z.infer<typeof ClusterNetwork>;

/** Roles to set; omitted ones keep their value (or `false` on attach). */
export const ClusterNetworkRolesPatch = ClusterNetworkRoles.partial();
export type ClusterNetworkRolesPatch = z.infer<typeof ClusterNetworkRolesPatch>;
