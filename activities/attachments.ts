/**
 * Attachment-store activities of install-host: record intent before applying, restore it on compensation.
 * install-host names the host by id and the network by name only, so recording registers both in the
 * store if they are new (a host without a cluster yet, a network with the engine's defaults).
 */
import { z } from 'zod';
import { ApplicationFailure } from '@temporalio/common';
import { NetworkAttachmentSpec } from '../model/attachments/attachment';
import { IntentSnapshot, INTENT_SNAPSHOT_VERSION } from '../model/host-networking/intent';
import type { NetworkAttachment } from '../model/host-networking/network-attachment';
import { StoreConstraintError, StoreInputError, StoreNotFoundError } from '../store/errors';
import type { HostNetworkingStore } from '../store/store';
import type { AttachmentsSnapshot, RecordAttachmentsInput } from './types';

const RecordInput = z.object({ hostId: z.string().min(1), attachments: z.array(NetworkAttachmentSpec), requestedBy: z.string() });

const SnapshotInput = z.object({
  hostId: z.string().min(1),
  networkNames: z.array(z.string()),
  previous: z.array(NetworkAttachmentSpec.extend({ id: z.string() })),
  intent: IntentSnapshot.optional(),
});

/** Store refusals (a rule, a missing row, bad input) are final: retrying the same write cannot help. */
async function final<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof StoreConstraintError || err instanceof StoreNotFoundError || err instanceof StoreInputError) {
      throw ApplicationFailure.create({ message: `${what}: ${err.message}`, type: err.name, nonRetryable: true, cause: err });
    }
    if (err instanceof z.ZodError) {
      throw ApplicationFailure.create({ message: `${what}: ${z.prettifyError(err)}`, type: 'InvalidInput', nonRetryable: true });
    }
    throw err;
  }
}

/** The pre-`intent` view of previous rows; it cannot express a network without a NIC, so those are left to `intent`. */
function legacyView(row: NetworkAttachment): Array<NetworkAttachmentSpec & { id: string }> {
  if (row.nicName === null) return [];
  return [{ id: row.id, networkName: row.networkName, nicName: row.nicName, ipConfiguration: row.ipConfiguration, properties: row.properties }];
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
          before: { ...before, hostId: snapshot.hostId, networkId: network.id, qos: null, dns: null, requestedBy: 'compensation', createdAt: now, updatedAt: now },
        });
        if (held && held.id !== before.id) entries.push({ id: held.id, before: null });
      } else if (held) {
        entries.push({ id: held.id, before: null });
      }
    }
    return { version: INTENT_SNAPSHOT_VERSION, hostId: snapshot.hostId, takenAt: now, entries };
  }

  return {
    async recordAttachments(input: RecordAttachmentsInput): Promise<AttachmentsSnapshot> {
      return final('recording attachments', async () => {
        const { hostId, attachments, requestedBy } = RecordInput.parse(input);
        await store.hosts.ensure(hostId);
        const upserts = [];
        for (const spec of attachments) {
          const network = await store.networks.ensure(spec.networkName);
          upserts.push({ networkId: network.id, nicName: spec.nicName, ipConfiguration: spec.ipConfiguration, properties: spec.properties });
        }
        const { snapshot } = await store.attachments.recordIntent(hostId, { upserts }, { requestedBy });
        return {
          hostId,
          networkNames: attachments.map((a) => a.networkName),
          previous: snapshot.entries.flatMap((e) => (e.before ? legacyView(e.before) : [])),
          intent: snapshot,
        };
      });
    },

    async compensateAttachments(snapshot: AttachmentsSnapshot): Promise<{ restored: number; removed: number }> {
      return final('compensating attachments', async () => {
        const parsed = SnapshotInput.parse(snapshot);
        return store.attachments.restore(parsed.intent ?? (await fromLegacySnapshot(parsed)));
      });
    },
  };
}
