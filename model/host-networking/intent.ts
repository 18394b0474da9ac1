/**
 * Recording intent and undoing it exactly. A workflow writes the attachments it is about to apply
 * (`AttachmentChanges`) before it calls the host; the store answers with an `IntentSnapshot`, the exact
 * rows every touched attachment had before (or `null` for one that did not exist). Restoring the snapshot
 * puts those rows back, same ids, fields and timestamps, and removes the ones the intent created. Both are
 * plain JSON, so they travel through workflow history.
 */
import { z } from 'zod';
import { AttachmentDraft, NetworkAttachment } from './network-attachment';
import { EntityId, ExternalId, Timestamp } from './values';

export const AttachmentChanges = z
  .object({
    /**
     * Attachments to write. With an id: replaces that attachment of the host. Without: replaces the host's
     * attachment of the same network if there is one (keeping its id and creation time), else adds one.
     * @default []
     */
    upserts: z.array(AttachmentDraft).default([]),
    /** Ids of attachments of the host to remove. @default [] */
    removals: z.array(EntityId).default([]),
  })
  .strict()
  .superRefine((changes, ctx) => {
    const networks = changes.upserts.map((u) => u.networkId);
    for (const [i, id] of networks.entries()) {
      if (networks.indexOf(id) !== i)
        ctx.addIssue({ code: 'custom', path: ['upserts', i, 'networkId'], message: `network ${id} appears twice` });
    }
    const upserted = new Set(changes.upserts.flatMap((u) => (u.id ? [u.id] : [])));
    for (const [i, id] of changes.removals.entries()) {
      if (upserted.has(id))
        ctx.addIssue({ code: 'custom', path: ['removals', i], message: `attachment ${id} is both written and removed` });
      if (changes.removals.indexOf(id) !== i)
        ctx.addIssue({ code: 'custom', path: ['removals', i], message: `attachment ${id} is removed twice` });
    }
  });
export type AttachmentChanges = z.input<typeof AttachmentChanges>;

export const INTENT_SNAPSHOT_VERSION = 1;

export const IntentSnapshot = z
  .object({
    version: z.literal(INTENT_SNAPSHOT_VERSION),
    hostId: ExternalId,
    takenAt: Timestamp,
    /** Every attachment the intent touched, by id, as it was before: `null` = it did not exist. */
    entries: z.array(z.object({ id: EntityId, before: NetworkAttachment.nullable() }).strict()),
  })
  .strict();
export type IntentSnapshot = z.infer<typeof IntentSnapshot>;
