/** Data-center networks: CRUD, by name, and `ensure` for callers that only know a name (install-host). */
import { randomUUID } from 'node:crypto';
import type { Network } from '../model/host-networking/network';
import { NetworkDraft, NetworkName, NetworkPatch } from '../model/host-networking/network';
import { EntityId } from '../model/host-networking/values';
import { byKey, parseInput, type Db, type StoreContext } from './context';
import { StoreConstraint, StoreConstraintError, StoreEntity, StoreNotFoundError } from './errors';
import { networkFromRow, networkToRow } from './rows';
import type { NetworkRepository } from './store';

export function createNetworkRepository(ctx: StoreContext): NetworkRepository {
  const { codec } = ctx;

  async function load(db: Db, id: string): Promise<Network | null> {
    const row = await db
      .selectFrom('networks')
      .selectAll()
      .where('id', '=', id)
      .$if(ctx.locksRows && db.isTransaction, (q) => q.forUpdate())
      .executeTakeFirst();
    return row ? networkFromRow(row) : null;
  }

  async function insert(db: Db, draft: NetworkDraft): Promise<Network> {
    const parsed = parseInput(NetworkDraft, draft, 'network');
    const now = ctx.now();
    const network: Network = { ...parsed, id: parsed.id ?? randomUUID(), createdAt: now, updatedAt: now };
    await db.insertInto('networks').values(networkToRow(network, codec)).execute();
    return network;
  }

  return {
    create: (draft) => ctx.write((trx) => insert(trx, draft)),

    get: (id) => ctx.read((db) => (EntityId.safeParse(id).success ? load(db, id) : Promise.resolve(null))),

    getByName: (name) =>
      ctx.read(async (db) => {
        const row = await db.selectFrom('networks').selectAll().where('name', '=', name).executeTakeFirst();
        return row ? networkFromRow(row) : null;
      }),

    list: () =>
      ctx.read(async (db) => (await db.selectFrom('networks').selectAll().execute()).map(networkFromRow).sort(byKey((n) => n.name))),

    update: (id, patch) =>
      ctx.write(async (trx) => {
        const changes = parseInput(NetworkPatch, patch, 'network update');
        const current = await load(trx, parseInput(EntityId, id, 'network id'));
        if (!current) throw new StoreNotFoundError(StoreEntity.NETWORK, id);
        const next: Network = { ...current, ...changes, updatedAt: ctx.now() };
        await trx.updateTable('networks').set(networkToRow(next, codec)).where('id', '=', id).execute();
        return next;
      }),

    remove: (id) =>
      ctx.write(async (trx) => {
        const current = await load(trx, parseInput(EntityId, id, 'network id'));
        if (!current) throw new StoreNotFoundError(StoreEntity.NETWORK, id);
        const cluster = await trx.selectFrom('cluster_networks').select('cluster_id').where('network_id', '=', id).executeTakeFirst();
        if (cluster)
          throw new StoreConstraintError(
            StoreConstraint.NETWORK_IN_USE,
            `network ${current.name} is attached to cluster ${cluster.cluster_id}; detach it first`,
          );
        const host = await trx.selectFrom('network_attachments').select('host_id').where('network_id', '=', id).executeTakeFirst();
        if (host)
          throw new StoreConstraintError(
            StoreConstraint.NETWORK_IN_USE,
            `network ${current.name} is attached to host ${host.host_id}; remove the attachment first`,
          );
        await trx.deleteFrom('networks').where('id', '=', id).execute();
      }),

    async ensure(name) {
      const valid = parseInput(NetworkName, name, 'network name');
      const byName = async (db: Db) => {
        const row = await db.selectFrom('networks').selectAll().where('name', '=', valid).executeTakeFirst();
        return row ? networkFromRow(row) : null;
      };
      try {
        return await ctx.write(async (trx) => (await byName(trx)) ?? insert(trx, { name: valid }));
      } catch (err) {
        // A concurrent ensure of the same name won (PostgreSQL lets both look first): take its row.
        if (err instanceof StoreConstraintError && err.constraint === StoreConstraint.NETWORK_NAME_UNIQUE) {
          const winner = await ctx.read(byName);
          if (winner) return winner;
        }
        throw err;
      }
    },
  };
}
