/**
 * Network attachments: queries, single-row commands, and the two operations the networking workflows are
 * built on: `recordIntent` (write what is about to be applied, return the exact previous rows) and
 * `restore` (put those rows back). Every write locks the host first, so writes to one host's
 * attachments never interleave and each sees the previous one's result.
 */
import { randomUUID } from 'node:crypto';
import type { Transaction } from 'kysely';
import { AttachmentChanges, IntentSnapshot, INTENT_SNAPSHOT_VERSION } from '../model/host-networking/intent';
import { AttachmentDraft, AttachmentPatch, type NetworkAttachment } from '../model/host-networking/network-attachment';
import { interfaceKind, InterfaceKind, ReportedInterfaces } from '../model/host-networking/reported-interfaces';
import { EntityId, ExternalId, IntentKey } from '../model/host-networking/values';
import { readJson } from './codec';
import { byKey, parseInput, type Db, type StoreContext } from './context';
import { StoreConstraint, StoreConstraintError, StoreEntity, StoreInputError, StoreNotFoundError } from './errors';
import { attachmentFromRow, attachmentToRow, type AttachmentRow } from './rows';
import type { Database } from './schema';
import { INTENT_KEY_RETENTION_DAYS, type AttachmentRepository, type WriteOptions } from './store';

type StoredAttachment = Omit<NetworkAttachment, 'networkName'>;
type ParsedDraft = ReturnType<typeof AttachmentDraft.parse>;

interface LockedHost {
  id: string;
  reported: ReportedInterfaces | null;
}

export function createAttachmentRepository(ctx: StoreContext): AttachmentRepository {
  const { codec } = ctx;

  function selectAttachments(db: Db) {
    return db
      .selectFrom('network_attachments as a')
      .innerJoin('networks as n', 'n.id', 'a.network_id')
      .selectAll('a')
      .select('n.name as network_name');
  }

  const sorted = (rows: AttachmentRow[]): NetworkAttachment[] => rows.map(attachmentFromRow).sort(byKey((a) => a.networkName));

  async function hostAttachments(db: Db, hostId: string): Promise<NetworkAttachment[]> {
    return sorted(await selectAttachments(db).where('a.host_id', '=', hostId).execute());
  }

  /** The snapshot recorded under `key`, if any; a key recorded for another host is refused. */
  async function recordedIntent(trx: Transaction<Database>, key: string, hostId: string): Promise<IntentSnapshot | undefined> {
    const row = await trx.selectFrom('intent_records').select(['host_id', 'snapshot']).where('key', '=', key).executeTakeFirst();
    if (!row) return undefined;
    if (row.host_id !== hostId) throw new StoreInputError('intent key', [`${key} was recorded for host ${row.host_id}, not ${hostId}`]);
    return IntentSnapshot.parse(readJson(row.snapshot));
  }

  /** Keeps `snapshot` under `key`, and forgets keys older than the retention. */
  async function rememberIntent(trx: Transaction<Database>, key: string, snapshot: IntentSnapshot, now: string): Promise<void> {
    const expired = new Date(Date.parse(now) - INTENT_KEY_RETENTION_DAYS * 86_400_000).toISOString();
    await trx.deleteFrom('intent_records').where('recorded_at', '<', expired).execute();
    await trx
      .insertInto('intent_records')
      .values({ key, host_id: snapshot.hostId, snapshot: JSON.stringify(snapshot), recorded_at: now })
      .execute();
  }

  /** Locks the host row (PostgreSQL) for the rest of the transaction and reads its reported interfaces. */
  async function lockHost(trx: Transaction<Database>, hostId: string): Promise<LockedHost> {
    const row = await trx
      .selectFrom('hosts')
      .select(['id', 'reported_interfaces'])
      .where('id', '=', hostId)
      .$if(ctx.locksRows, (q) => q.forUpdate())
      .executeTakeFirst();
    if (!row) throw new StoreNotFoundError(StoreEntity.HOST, hostId);
    const report = readJson(row.reported_interfaces);
    return { id: row.id, reported: report === null ? null : ReportedInterfaces.parse(report) };
  }

  /** The NIC must be a base NIC or bond: a VLAN device in the host's last report is refused. */
  function checkNic(host: LockedHost, nicName: string | null): void {
    if (nicName === null || !host.reported) return;
    if (interfaceKind(host.reported, nicName) === InterfaceKind.VLAN) {
      const vlan = host.reported.vlans.find((v) => v.name === nicName);
      throw new StoreConstraintError(
        StoreConstraint.ATTACHMENT_NIC_NOT_VLAN,
        `${nicName} is a VLAN device on host ${host.id}; attach the network to its base interface ${vlan?.baseInterface ?? ''} (the VLAN comes from the network)`.trim(),
      );
    }
  }

  async function networkNames(db: Db, ids: string[]): Promise<Map<string, string>> {
    if (!ids.length) return new Map();
    const rows = await db.selectFrom('networks').select(['id', 'name']).where('id', 'in', ids).execute();
    const names = new Map(rows.map((r) => [r.id, r.name]));
    const missing = ids.find((id) => !names.has(id));
    if (missing) throw new StoreNotFoundError(StoreEntity.NETWORK, missing);
    return names;
  }

  async function insertRow(trx: Transaction<Database>, row: StoredAttachment): Promise<void> {
    await trx.insertInto('network_attachments').values(attachmentToRow(row, codec)).execute();
  }

  async function replaceRow(trx: Transaction<Database>, row: StoredAttachment): Promise<void> {
    await trx.updateTable('network_attachments').set(attachmentToRow(row, codec)).where('id', '=', row.id).execute();
  }

  function fromDraft(
    draft: ParsedDraft,
    id: string,
    hostId: string,
    createdAt: string,
    now: string,
    requestedBy: string | null,
  ): StoredAttachment {
    return {
      id,
      hostId,
      networkId: draft.networkId,
      nicName: draft.nicName,
      ipConfiguration: draft.ipConfiguration,
      properties: draft.properties,
      qos: draft.qos,
      dns: draft.dns,
      requestedBy,
      createdAt,
      updatedAt: now,
    };
  }

  function duplicate(networkName: string, hostId: string, existingId: string): StoreConstraintError {
    return new StoreConstraintError(
      StoreConstraint.ATTACHMENT_HOST_NETWORK_UNIQUE,
      `network ${networkName} is already attached to host ${hostId} (attachment ${existingId}); update that attachment instead`,
    );
  }

  async function lockedAttachment(trx: Transaction<Database>, id: string): Promise<{ host: LockedHost; current: NetworkAttachment }> {
    const owner = await trx.selectFrom('network_attachments').select('host_id').where('id', '=', id).executeTakeFirst();
    if (!owner) throw new StoreNotFoundError(StoreEntity.ATTACHMENT, id);
    const host = await lockHost(trx, owner.host_id);
    // Read again under the lock: a writer that held it may have changed or removed the row.
    const row = await selectAttachments(trx).where('a.id', '=', id).executeTakeFirst();
    if (!row) throw new StoreNotFoundError(StoreEntity.ATTACHMENT, id);
    return { host, current: attachmentFromRow(row) };
  }

  const requester = (options?: WriteOptions): string | null => options?.requestedBy ?? null;

  return {
    get: (id) =>
      ctx.read(async (db) => {
        if (!EntityId.safeParse(id).success) return null;
        const row = await selectAttachments(db).where('a.id', '=', id).executeTakeFirst();
        return row ? attachmentFromRow(row) : null;
      }),

    listByHost: (hostId) => ctx.read((db) => hostAttachments(db, hostId)),

    listByNic: (hostId, nicName) =>
      ctx.read(async (db) =>
        sorted(await selectAttachments(db).where('a.host_id', '=', hostId).where('a.nic_name', '=', nicName).execute()),
      ),

    listByNetwork: (networkId) =>
      ctx.read(async (db) => {
        if (!EntityId.safeParse(networkId).success) return [];
        const rows = await selectAttachments(db).where('a.network_id', '=', networkId).execute();
        return rows.map(attachmentFromRow).sort(byKey((a) => a.hostId));
      }),

    add: (hostId, draft, options) =>
      ctx.write(async (trx) => {
        const parsed = parseInput(AttachmentDraft, draft, 'attachment');
        const host = await lockHost(trx, parseInput(ExternalId, hostId, 'host id'));
        const names = await networkNames(trx, [parsed.networkId]);
        const existing = (await hostAttachments(trx, host.id)).find((a) => a.networkId === parsed.networkId);
        if (existing) throw duplicate(existing.networkName, host.id, existing.id);
        checkNic(host, parsed.nicName);
        const now = ctx.now();
        const row = fromDraft(parsed, parsed.id ?? randomUUID(), host.id, now, now, requester(options));
        await insertRow(trx, row);
        return { ...row, networkName: names.get(parsed.networkId) ?? '' };
      }),

    update: (id, patch, options) =>
      ctx.write(async (trx) => {
        const changes = parseInput(AttachmentPatch, patch, 'attachment update');
        const { host, current } = await lockedAttachment(trx, parseInput(EntityId, id, 'attachment id'));
        const next: NetworkAttachment = {
          ...current,
          ...changes,
          requestedBy: requester(options) ?? current.requestedBy,
          updatedAt: ctx.now(),
        };
        checkNic(host, next.nicName);
        const { networkName: _name, ...row } = next;
        await replaceRow(trx, row);
        return next;
      }),

    remove: (id) =>
      ctx.write(async (trx) => {
        await lockedAttachment(trx, parseInput(EntityId, id, 'attachment id'));
        await trx.deleteFrom('network_attachments').where('id', '=', id).execute();
      }),

    recordIntent: (hostId, changes, options) =>
      ctx.write(async (trx) => {
        const parsed = parseInput(AttachmentChanges, changes, 'attachment changes');
        const key = options?.intentKey === undefined ? undefined : parseInput(IntentKey, options.intentKey, 'intent key');
        const host = await lockHost(trx, parseInput(ExternalId, hostId, 'host id'));
        // Under the host's lock: a concurrent recording of the same key waits here, then finds the first.
        const earlier = key === undefined ? undefined : await recordedIntent(trx, key, host.id);
        if (earlier) return { snapshot: earlier, attachments: await hostAttachments(trx, host.id) };
        const names = await networkNames(
          trx,
          parsed.upserts.map((u) => u.networkId),
        );
        const current = await hostAttachments(trx, host.id);
        const byId = new Map(current.map((a) => [a.id, a]));
        const byNetwork = new Map(current.map((a) => [a.networkId, a]));
        const before = new Map<string, NetworkAttachment | null>();
        const now = ctx.now();

        // Removals first: a network removed under one id may come back under another in the same request.
        for (const id of parsed.removals) {
          const row = byId.get(id);
          if (!row) throw new StoreNotFoundError(StoreEntity.ATTACHMENT, id);
          before.set(id, row);
          byId.delete(id);
          byNetwork.delete(row.networkId);
          await trx.deleteFrom('network_attachments').where('id', '=', id).execute();
        }

        for (const draft of parsed.upserts) {
          checkNic(host, draft.nicName);
          const target = draft.id ? byId.get(draft.id) : byNetwork.get(draft.networkId);
          if (draft.id && !target) throw new StoreNotFoundError(StoreEntity.ATTACHMENT, draft.id);
          if (target && target.networkId !== draft.networkId) {
            throw new StoreConstraintError(
              StoreConstraint.ATTACHMENT_NETWORK_FIXED,
              `attachment ${target.id} is for network ${target.networkName}; its network cannot change`,
            );
          }
          if (draft.id && target) {
            const other = byNetwork.get(draft.networkId);
            if (other && other.id !== target.id) throw duplicate(other.networkName, host.id, other.id);
          }
          const row = fromDraft(draft, target?.id ?? randomUUID(), host.id, target?.createdAt ?? now, now, requester(options));
          if (!before.has(row.id)) before.set(row.id, target ?? null);
          if (target) await replaceRow(trx, row);
          else await insertRow(trx, row);
          const written = { ...row, networkName: names.get(row.networkId) ?? '' };
          byId.set(row.id, written);
          byNetwork.set(row.networkId, written);
        }

        const snapshot: IntentSnapshot = {
          version: INTENT_SNAPSHOT_VERSION,
          hostId: host.id,
          takenAt: now,
          entries: [...before].map(([id, row]) => ({ id, before: row })),
        };
        if (key !== undefined) await rememberIntent(trx, key, snapshot, now);
        return { snapshot, attachments: await hostAttachments(trx, host.id) };
      }),

    restore: (snapshot) =>
      ctx.write(async (trx) => {
        const parsed = parseInput(IntentSnapshot, snapshot, 'intent snapshot');
        const misfits = parsed.entries
          .filter((e) => e.before && (e.before.id !== e.id || e.before.hostId !== parsed.hostId))
          .map((e) => e.id);
        if (misfits.length)
          throw new StoreInputError('intent snapshot', [
            `entries ${misfits.join(', ')} do not belong to host ${parsed.hostId} under their own id`,
          ]);
        const host = await lockHost(trx, parsed.hostId);
        const ids = parsed.entries.map((e) => e.id);
        if (!ids.length) return { restored: 0, removed: 0 };
        const foreign = await trx
          .selectFrom('network_attachments')
          .select('id')
          .where('id', 'in', ids)
          .where('host_id', '!=', host.id)
          .execute();
        if (foreign.length)
          throw new StoreConstraintError(
            StoreConstraint.PRIMARY_KEY,
            `attachments ${foreign.map((f) => f.id).join(', ')} now belong to another host; not restoring over them`,
          );
        const present = new Set(
          (await trx.selectFrom('network_attachments').select('id').where('id', 'in', ids).execute()).map((r) => r.id),
        );
        await trx.deleteFrom('network_attachments').where('id', 'in', ids).execute();
        let restored = 0;
        for (const { before } of parsed.entries) {
          if (!before) continue;
          const { networkName: _name, ...row } = before;
          await insertRow(trx, row);
          restored += 1;
        }
        const removed = parsed.entries.filter((e) => !e.before && present.has(e.id)).length;
        return { restored, removed };
      }),
  };
}
