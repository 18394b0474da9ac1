/** Attachment-store activities: record intent before applying, restore it on compensation. */
import type { AttachmentStore } from '../store/attachment-store';
import type { AttachmentsSnapshot, RecordAttachmentsInput } from './types';

export function createAttachmentActivities(store: AttachmentStore) {
  return {
    async recordAttachments({ hostId, attachments, requestedBy }: RecordAttachmentsInput): Promise<AttachmentsSnapshot> {
      const { previous } = await store.record(hostId, attachments, requestedBy);
      return {
        hostId,
        networkNames: attachments.map((a) => a.networkName),
        previous: previous.map(({ id, networkName, nicName, ipConfiguration, properties }) => ({ id, networkName, nicName, ipConfiguration, properties })),
      };
    },

    async compensateAttachments(snapshot: AttachmentsSnapshot): Promise<{ restored: number; removed: number }> {
      const now = new Date().toISOString();
      const previous = snapshot.previous.map((p) => ({ ...p, hostId: snapshot.hostId, requestedBy: 'compensation', createdAt: now, updatedAt: now }));
      return store.restore(snapshot.hostId, snapshot.networkNames, previous);
    },
  };
}
