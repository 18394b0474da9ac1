/** Hosts: CRUD, `ensure` for install-host, and the interfaces a host last reported. */
import type { Host } from '../model/host-networking/host';
import { HostDraft, HostPatch } from '../model/host-networking/host';
import { ReportedInterfaces } from '../model/host-networking/reported-interfaces';
import { ExternalId, Timestamp } from '../model/host-networking/values';
import { byKey, parseInput, type Db, type StoreContext } from './context';
import { StoreConstraint, StoreConstraintError, StoreEntity, StoreNotFoundError } from './errors';
import { hostFromRow, hostToRow } from './rows';
import type { HostRepository } from './store';

export function createHostRepository(ctx: StoreContext): HostRepository {
  const { codec } = ctx;

  async function load(db: Db, id: string): Promise<Host | null> {
    const row = await db
      .selectFrom('hosts')
      .selectAll()
      .where('id', '=', id)
      .$if(ctx.locksRows && db.isTransaction, (q) => q.forUpdate())
      .executeTakeFirst();
    return row ? hostFromRow(row) : null;
  }

  async function requireCluster(db: Db, clusterId: string | null | undefined): Promise<void> {
    if (!clusterId) return;
    const row = await db.selectFrom('clusters').select('id').where('id', '=', clusterId).executeTakeFirst();
    if (!row) throw new StoreNotFoundError(StoreEntity.CLUSTER, clusterId);
  }

  async function insert(db: Db, draft: HostDraft): Promise<Host> {
    const parsed = parseInput(HostDraft, draft, 'host');
    await requireCluster(db, parsed.clusterId);
    const now = ctx.now();
    const host: Host = { ...parsed, reportedInterfaces: null, interfacesReportedAt: null, createdAt: now, updatedAt: now };
    await db.insertInto('hosts').values(hostToRow(host, codec)).execute();
    return host;
  }

  async function change(id: string, next: (current: Host, now: string) => Host): Promise<Host> {
    return ctx.write(async (trx) => {
      const current = await load(trx, parseInput(ExternalId, id, 'host id'));
      if (!current) throw new StoreNotFoundError(StoreEntity.HOST, id);
      const updated = next(current, ctx.now());
      await requireCluster(trx, updated.clusterId !== current.clusterId ? updated.clusterId : null);
      await trx.updateTable('hosts').set(hostToRow(updated, codec)).where('id', '=', id).execute();
      return updated;
    });
  }

  return {
    create: (draft) => ctx.write((trx) => insert(trx, draft)),
    get: (id) => ctx.read((db) => load(db, id)),
    list: () => ctx.read(async (db) => (await db.selectFrom('hosts').selectAll().execute()).map(hostFromRow).sort(byKey((h) => h.name))),

    async update(id, patch) {
      const changes = parseInput(HostPatch, patch, 'host update');
      return change(id, (current, now) => ({ ...current, ...changes, updatedAt: now }));
    },

    remove: (id) =>
      ctx.write(async (trx) => {
        const deleted = await trx.deleteFrom('hosts').where('id', '=', id).executeTakeFirst();
        if (!deleted.numDeletedRows) throw new StoreNotFoundError(StoreEntity.HOST, id);
      }),

    async ensure(id) {
      const valid = parseInput(ExternalId, id, 'host id');
      try {
        return await ctx.write(async (trx) => (await load(trx, valid)) ?? insert(trx, { id: valid, name: valid }));
      } catch (err) {
        // A concurrent ensure of the same id won (PostgreSQL lets both look first): take its row.
        if (err instanceof StoreConstraintError && err.constraint === StoreConstraint.PRIMARY_KEY) {
          const winner = await ctx.read((db) => load(db, valid));
          if (winner) return winner;
        }
        throw err;
      }
    },

    async recordReportedInterfaces(id, report, reportedAt) {
      const interfaces = parseInput(ReportedInterfaces, report, 'reported interfaces');
      const at = reportedAt === undefined ? undefined : parseInput(Timestamp, reportedAt, 'report time');
      return change(id, (current, now) => ({
        ...current,
        reportedInterfaces: interfaces,
        interfacesReportedAt: at ?? now,
        updatedAt: now,
      }));
    },
  };
}
