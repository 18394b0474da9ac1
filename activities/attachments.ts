/**
 * Attachment-store activities of install-host: record intent before applying, restore it on compensation.
 * install-host names the host by id and the network by name only, so recording registers both in the
 * store if they are new (a host without a cluster yet, a network with the engine's defaults).
 */
import { z } from 'zod';
import { NetworkAttachmentSpec } from '../model/attachments/attachment';
import { FailureType } from '../model/failures';
import { IntentSnapshot, INTENT_SNAPSHOT_VERSION } from '../model/host-networking/intent';
import type { NetworkAttachment } from '../model/host-networking/network-attachment';
import { StoreBusyError, StoreConstraintError, StoreInputError, StoreNotFoundError } from '../store/errors';
import type { HostNetworkingStore } from '../store/store';
import { activityFailure } from './failure-mapping';
import type { AttachmentsSnapshot, RecordAttachmentsInput } from './types';

const RecordInput = z.object({ hostId: z.string().min(1), attachments: z.array(NetworkAttachmentSpec), requestedBy: z.string() });

const SnapshotInput = z.object({
  hostId: z.string().min(1),
  networkNames: z.array(z.string()),
  previous: z.array(NetworkAttachmentSpec.extend({ id: z.string() })),
  intent: IntentSnapshot.optional(),
});

/** The vocabulary type of a store error: refusals (a rule, a missing row, bad input) and a busy database. */
function storeFailureType(err: unknown): FailureType | undefined {
  if (err instanceof StoreConstraintError) return FailureType.STORE_CONSTRAINT;
  if (err instanceof StoreNotFoundError) return FailureType.STORE_NOT_FOUND;
  if (err instanceof StoreInputError) return FailureType.STORE_INPUT;
  if (err instanceof StoreBusyError) return FailureType.STORE_BUSY;
  return undefined;
}

/**
 * Store errors as typed failures: a refusal is final (retrying the same write cannot help), a busy database
 * is retried by the activity's policy; the vocabulary (model/failures.ts) says which is which.
 */
export async function storeFailures<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const type = storeFailureType(err);
    if (type !== undefined) throw activityFailure(type, `${what}: ${(err as Error).message}`, { cause: err as Error });
    if (err instanceof z.core.$ZodError) throw activityFailure(FailureType.INVALID_INPUT, `${what}: ${z.prettifyError(err)}`);
    throw err;
  }
}

/** The pre-`intent` view of previous rows; it cannot express a network without a NIC, so those are left to `intent`. */
function legacyView(row: NetworkAttachment): Array<NetworkAttachmentSpec & { id: string }> {
  if (row.nicName === null) return [];
  return [
    { id: row.id, networkName: row.networkName, nicName: row.nicName, ipConfiguration: row.ipConfiguration, properties: row.properties },
  ];
}

export function createAttachmentActivities(store: HostNetworkingStore) {
  /**
   * An exact snapshot for a compensation recorded by an older worker: its previous rows come back under
   * their ids with fresh timestamps (the old snapshot did not keep them); networks it had not seen go.
   */
  async function fromLegacySnapshot(snapshot: z.infer<typeof SnapshotInput>): Promise<IntentSnapshot> {
    const now = new Date().toISOString();
    const current = await store.attachments.listByHost(snapshot.hostId);
    const entries: IntentSnapshot['entries'] = [];
    for (const name of snapshot.networkNames) {
      const network = await store.networks.getByName(name);
      const before = snapshot.previous.find((p) => p.networkName === name);
      const held = current.find((a) => a.networkName === name);
      if (before && network) {
        entries.push({
          id: before.id,
          before: {
            ...before,
            hostId: snapshot.hostId,
            networkId: network.id,
            qos: null,
            dns: null,
            requestedBy: 'compensation',
            createdAt: now,
            updatedAt: now,
          },
        });
        if (held && held.id !== before.id) entries.push({ id: held.id, before: null });
      } else if (held) {
        entries.push({ id: held.id, before: null });
      }
    }
    return { version: INTENT_SNAPSHOT_VERSION, hostId: snapshot.hostId, takenAt: now, entries };
  }

  return {
    /** `intentKey`: recording again under the same key changes nothing and returns the first snapshot. */
    async recordAttachments(input: RecordAttachmentsInput, intentKey?: string): Promise<AttachmentsSnapshot> {
      return storeFailures('recording attachments', async () => {
        const { hostId, attachments, requestedBy } = RecordInput.parse(input);
        await store.hosts.ensure(hostId);
        const upserts = [];
        for (const spec of attachments) {
          const network = await store.networks.ensure(spec.networkName);
          upserts.push({
            networkId: network.id,
            nicName: spec.nicName,
            ipConfiguration: spec.ipConfiguration,
            properties: spec.properties,
          });
        }
        const { snapshot } = await store.attachments.recordIntent(hostId, { upserts }, { requestedBy, intentKey });
        return {
          hostId,
          networkNames: attachments.map((a) => a.networkName),
          previous: snapshot.entries.flatMap((e) => (e.before ? legacyView(e.before) : [])),
          intent: snapshot,
        };
      });
    },

    async compensateAttachments(snapshot: AttachmentsSnapshot): Promise<{ restored: number; removed: number }> {
      return storeFailures('compensating attachments', async () => {
        const parsed = SnapshotInput.parse(snapshot);
        return store.attachments.restore(parsed.intent ?? (await fromLegacySnapshot(parsed)));
      });
    },
  };
}
