/**
 * Clusters and their networks' roles. Invariants: exactly one management network per cluster (named at
 * creation, never detached or demoted, moved only by `setManagementNetwork`) and at most one default-route
 * network (setting the role moves it; detaching its network hands it back to the management network, as
 * the engine's NetworkClusterHelper.removeNetworkAndReassignRoles does). Partial unique indexes back both.
 */
import { randomUUID } from 'node:crypto';
import type { Transaction } from 'kysely';
import type { Cluster } from '../model/host-networking/cluster';
import {
  ClusterDraft,
  ClusterNetworkRolesPatch,
  ClusterPatch,
  MANAGEMENT_ROLES,
  NO_ROLES,
  type ClusterNetwork,
  type ClusterNetworkRoles,
} from '../model/host-networking/cluster';
import { EntityId, ExternalId } from '../model/host-networking/values';
import { byKey, parseInput, type Db, type StoreContext } from './context';
import { StoreConstraint, StoreConstraintError, StoreEntity, StoreNotFoundError } from './errors';
import { clusterFromRow, clusterNetworkFromRow } from './rows';
import type { Database } from './schema';
import type { ClusterRepository } from './store';

export function createClusterRepository(ctx: StoreContext): ClusterRepository {
  const { codec } = ctx;

  /** Loads the cluster, locking it on PostgreSQL so role changes of one cluster run one at a time. */
  async function lockCluster(trx: Transaction<Database>, id: string): Promise<Cluster> {
    const row = await trx
      .selectFrom('clusters')
      .selectAll()
      .where('id', '=', parseInput(ExternalId, id, 'cluster id'))
      .$if(ctx.locksRows, (q) => q.forUpdate())
      .executeTakeFirst();
    if (!row) throw new StoreNotFoundError(StoreEntity.CLUSTER, id);
    return clusterFromRow(row);
  }

  async function networkRows(db: Db, clusterId: string): Promise<ClusterNetwork[]> {
    const rows = await db.selectFrom('cluster_networks').selectAll().where('cluster_id', '=', clusterId).execute();
    return rows.map(clusterNetworkFromRow);
  }

  async function networkName(db: Db, networkId: string): Promise<string> {
    const row = await db.selectFrom('networks').select('name').where('id', '=', networkId).executeTakeFirst();
    if (!row) throw new StoreNotFoundError(StoreEntity.NETWORK, networkId);
    return row.name;
  }

  function roleColumns(roles: ClusterNetworkRoles) {
    return {
      management: codec.bool(roles.management),
      default_route: codec.bool(roles.defaultRoute),
      display: codec.bool(roles.display),
      migration: codec.bool(roles.migration),
      required: codec.bool(roles.required),
    };
  }

  async function setRoles(
    trx: Transaction<Database>,
    row: ClusterNetwork,
    roles: ClusterNetworkRoles,
    now: string,
  ): Promise<ClusterNetwork> {
    await trx
      .updateTable('cluster_networks')
      .set({ ...roleColumns(roles), updated_at: now })
      .where('cluster_id', '=', row.clusterId)
      .where('network_id', '=', row.networkId)
      .execute();
    return { ...row, roles, updatedAt: now };
  }

  /** Takes the default-route role from whichever other network of the cluster holds it. */
  async function releaseDefaultRoute(trx: Transaction<Database>, rows: ClusterNetwork[], except: string, now: string): Promise<void> {
    for (const other of rows.filter((r) => r.roles.defaultRoute && r.networkId !== except)) {
      await setRoles(trx, other, { ...other.roles, defaultRoute: false }, now);
    }
  }

  async function changeRoles(
    trx: Transaction<Database>,
    clusterId: string,
    networkId: string,
    patch: ClusterNetworkRolesPatch,
    attaching: boolean,
  ): Promise<ClusterNetwork> {
    const rows = await networkRows(trx, clusterId);
    const current = rows.find((r) => r.networkId === networkId);
    const name = await networkName(trx, networkId);
    if (attaching && current)
      throw new StoreConstraintError(StoreConstraint.CLUSTER_NETWORK_UNIQUE, `network ${name} is already attached to cluster ${clusterId}`);
    if (!attaching && !current) throw new StoreNotFoundError(StoreEntity.CLUSTER_NETWORK, `${clusterId}/${networkId}`);
    const base = current?.roles ?? NO_ROLES;
    const roles: ClusterNetworkRoles = { ...base, ...patch };
    if (base.management && !roles.management) {
      throw new StoreConstraintError(
        StoreConstraint.CLUSTER_MANAGEMENT_REQUIRED,
        `${name} is the management network of cluster ${clusterId}; move the role with setManagementNetwork first`,
      );
    }
    if (!base.management && roles.management) {
      const holder = rows.find((r) => r.roles.management);
      throw new StoreConstraintError(
        StoreConstraint.CLUSTER_ONE_MANAGEMENT,
        `cluster ${clusterId} already has management network ${holder?.networkId ?? '(unknown)'}; move the role with setManagementNetwork`,
      );
    }
    const now = ctx.now();
    if (roles.defaultRoute && !base.defaultRoute) await releaseDefaultRoute(trx, rows, networkId, now);
    if (!current) {
      await trx
        .insertInto('cluster_networks')
        .values({ cluster_id: clusterId, network_id: networkId, ...roleColumns(roles), created_at: now, updated_at: now })
        .execute();
      return { clusterId, networkId, roles, createdAt: now, updatedAt: now };
    }
    return setRoles(trx, current, roles, now);
  }

  return {
    create: (draft) =>
      ctx.write(async (trx) => {
        const parsed = parseInput(ClusterDraft, draft, 'cluster');
        await networkName(trx, parsed.managementNetworkId);
        const now = ctx.now();
        const cluster: Cluster = {
          id: parsed.id ?? randomUUID(),
          name: parsed.name,
          compatibilityVersion: parsed.compatibilityVersion,
          createdAt: now,
          updatedAt: now,
        };
        await trx
          .insertInto('clusters')
          .values({
            id: cluster.id,
            name: cluster.name,
            compatibility_version: cluster.compatibilityVersion,
            created_at: now,
            updated_at: now,
          })
          .execute();
        await trx
          .insertInto('cluster_networks')
          .values({
            cluster_id: cluster.id,
            network_id: parsed.managementNetworkId,
            ...roleColumns(MANAGEMENT_ROLES),
            created_at: now,
            updated_at: now,
          })
          .execute();
        return cluster;
      }),

    get: (id) =>
      ctx.read(async (db) => {
        const row = await db.selectFrom('clusters').selectAll().where('id', '=', id).executeTakeFirst();
        return row ? clusterFromRow(row) : null;
      }),

    list: () =>
      ctx.read(async (db) => (await db.selectFrom('clusters').selectAll().execute()).map(clusterFromRow).sort(byKey((c) => c.name))),

    update: (id, patch) =>
      ctx.write(async (trx) => {
        const changes = parseInput(ClusterPatch, patch, 'cluster update');
        const current = await lockCluster(trx, id);
        const next: Cluster = { ...current, ...changes, updatedAt: ctx.now() };
        await trx
          .updateTable('clusters')
          .set({ name: next.name, compatibility_version: next.compatibilityVersion, updated_at: next.updatedAt })
          .where('id', '=', id)
          .execute();
        return next;
      }),

    remove: (id) =>
      ctx.write(async (trx) => {
        await lockCluster(trx, id);
        const host = await trx.selectFrom('hosts').select('id').where('cluster_id', '=', id).executeTakeFirst();
        if (host)
          throw new StoreConstraintError(
            StoreConstraint.CLUSTER_IN_USE,
            `cluster ${id} still has host ${host.id}; move or remove its hosts first`,
          );
        await trx.deleteFrom('clusters').where('id', '=', id).execute();
      }),

    listNetworks: (clusterId) => ctx.read(async (db) => (await networkRows(db, clusterId)).sort(byKey((r) => r.networkId))),

    getNetwork: (clusterId, networkId) =>
      ctx.read(async (db) => {
        if (!EntityId.safeParse(networkId).success) return null;
        const row = await db
          .selectFrom('cluster_networks')
          .selectAll()
          .where('cluster_id', '=', clusterId)
          .where('network_id', '=', networkId)
          .executeTakeFirst();
        return row ? clusterNetworkFromRow(row) : null;
      }),

    attachNetwork: (clusterId, networkId, roles = {}) =>
      ctx.write(async (trx) => {
        await lockCluster(trx, clusterId);
        return changeRoles(
          trx,
          clusterId,
          parseInput(EntityId, networkId, 'network id'),
          parseInput(ClusterNetworkRolesPatch, roles, 'roles'),
          true,
        );
      }),

    updateNetworkRoles: (clusterId, networkId, roles) =>
      ctx.write(async (trx) => {
        await lockCluster(trx, clusterId);
        return changeRoles(
          trx,
          clusterId,
          parseInput(EntityId, networkId, 'network id'),
          parseInput(ClusterNetworkRolesPatch, roles, 'roles'),
          false,
        );
      }),

    detachNetwork: (clusterId, networkId) =>
      ctx.write(async (trx) => {
        await lockCluster(trx, clusterId);
        const rows = await networkRows(trx, clusterId);
        const current = rows.find((r) => r.networkId === networkId);
        if (!current) throw new StoreNotFoundError(StoreEntity.CLUSTER_NETWORK, `${clusterId}/${networkId}`);
        if (current.roles.management) {
          throw new StoreConstraintError(
            StoreConstraint.CLUSTER_MANAGEMENT_REQUIRED,
            `network ${networkId} is the management network of cluster ${clusterId}; move the role with setManagementNetwork first`,
          );
        }
        await trx.deleteFrom('cluster_networks').where('cluster_id', '=', clusterId).where('network_id', '=', networkId).execute();
        const management = rows.find((r) => r.roles.management);
        if (current.roles.defaultRoute && management)
          await setRoles(trx, management, { ...management.roles, defaultRoute: true }, ctx.now());
      }),

    setManagementNetwork: (clusterId, networkId) =>
      ctx.write(async (trx) => {
        await lockCluster(trx, clusterId);
        const rows = await networkRows(trx, clusterId);
        const target = rows.find((r) => r.networkId === networkId);
        if (!target) throw new StoreNotFoundError(StoreEntity.CLUSTER_NETWORK, `${clusterId}/${networkId}`);
        if (target.roles.management) return target;
        const now = ctx.now();
        // Demote first: the partial unique index allows one management row at any moment.
        for (const old of rows.filter((r) => r.roles.management)) await setRoles(trx, old, { ...old.roles, management: false }, now);
        return setRoles(trx, target, { ...target.roles, management: true, required: true }, now);
      }),
  };
}
