/**
 * Attachment-store activities of install-host: record intent before applying, restore it on compensation.
 * Recording registers what the install builds first (activities/install-registration.ts): the network with
 * its definition, the host with its name and cluster. Executions recorded before that send no registration,
 * and register the host by id and the network by name only, with the engine's defaults, as they did.
 */
import { z } from 'zod';
import { NetworkAttachmentSpec } from '../model/attachments/attachment';
import { FailureType } from '../model/failures';
import { IntentSnapshot, INTENT_SNAPSHOT_VERSION } from '../model/host-networking/intent';
import type { NetworkAttachment } from '../model/host-networking/network-attachment';
import { StoreBusyError, StoreConstraint, StoreConstraintError, StoreEntity, StoreInputError, StoreNotFoundError } from '../store/errors';
import type { HostNetworkingStore } from '../store/store';
import { activityFailure } from './failure-mapping';
import { InstallRegistrationInput, registerInstall, unregisterNetwork, type Registered } from './install-registration';
import type { AttachmentsSnapshot, RecordAttachmentsInput } from './types';

const RecordInput = z
  .object({
    hostId: z.string().min(1),
    attachments: z.array(NetworkAttachmentSpec),
    requestedBy: z.string(),
    registration: InstallRegistrationInput.optional(),
  })
  .refine(
    ({ registration, attachments }) => !registration || attachments.some((a) => a.networkName === registration.network.name),
    'the registered network is one of the attachments',
  );

const SnapshotInput = z.object({
  hostId: z.string().min(1),
  networkNames: z.array(z.string()),
  previous: z.array(NetworkAttachmentSpec.extend({ id: z.string() })),
  intent: IntentSnapshot.optional(),
  createdNetworkIds: z.array(z.string()).optional(),
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

/** The intent named a network that is not there (any more): looked up inside the write, or caught by the foreign key. */
function networkGone(err: unknown): boolean {
  if (err instanceof StoreNotFoundError) return err.entity === StoreEntity.NETWORK;
  return err instanceof StoreConstraintError && err.constraint === StoreConstraint.FOREIGN_KEY;
}

export function createAttachmentActivities(store: HostNetworkingStore) {
  /**
   * Records the intent. The registered network goes by its id: never created again with the engine's
   * defaults by the name-only path, which only executions without a registration take.
   */
  async function record(
    { hostId, attachments, requestedBy, registration }: z.infer<typeof RecordInput>,
    registered: Registered | undefined,
    intentKey: string | undefined,
  ): Promise<AttachmentsSnapshot> {
    if (!registered) await store.hosts.ensure(hostId);
    const upserts = [];
    for (const spec of attachments) {
      const networkId =
        registered && spec.networkName === registration?.network.name
          ? registered.networkId
          : (await store.networks.ensure(spec.networkName)).id;
      upserts.push({ networkId, nicName: spec.nicName, ipConfiguration: spec.ipConfiguration, properties: spec.properties });
    }
    const { snapshot } = await store.attachments.recordIntent(hostId, { upserts }, { requestedBy, intentKey });
    return {
      hostId,
      networkNames: attachments.map((a) => a.networkName),
      previous: snapshot.entries.flatMap((e) => (e.before ? legacyView(e.before) : [])),
      intent: snapshot,
      ...(registered?.createdNetwork ? { createdNetworkIds: [registered.networkId] } : {}),
    };
  }

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
        const parsed = RecordInput.parse(input);
        if (!parsed.registration) return record(parsed, undefined, intentKey);
        try {
          return await record(parsed, await registerInstall(store, parsed.hostId, parsed.registration), intentKey);
        } catch (err) {
          // Another install's compensation took back the network it had created, between this registration
          // and this intent: register again (which creates it with this install's definition), once.
          if (!networkGone(err)) throw err;
          return record(parsed, await registerInstall(store, parsed.hostId, parsed.registration), intentKey);
        }
      });
    },

    async compensateAttachments(snapshot: AttachmentsSnapshot): Promise<{ restored: number; removed: number; networksRemoved: number }> {
      return storeFailures('compensating attachments', async () => {
        const parsed = SnapshotInput.parse(snapshot);
        const restored = await store.attachments.restore(parsed.intent ?? (await fromLegacySnapshot(parsed)));
        let networksRemoved = 0;
        for (const id of parsed.createdNetworkIds ?? []) if (await unregisterNetwork(store, id)) networksRemoved++;
        return { ...restored, networksRemoved };
      });
    },
  };
}
