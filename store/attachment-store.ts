/**
 * Network attachments (desired state per host network, docs/engine-host-networking.md#networkattachment) in a real SQL table.
 * An interface so the SQLite default and a PostgreSQL backend share the tests; SQLite lives in
 * `sqlite-attachment-store.ts`.
 */
import type { NetworkAttachmentSpec } from '../model/attachments/attachment';

export interface NetworkAttachment extends NetworkAttachmentSpec {
  id: string;
  hostId: string;
  requestedBy: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface AttachmentStore {
  getById(id: string): Promise<NetworkAttachment | null>;
  listByHost(hostId: string): Promise<NetworkAttachment[]>;
  listByNic(hostId: string, nicName: string): Promise<NetworkAttachment[]>;
  /**
   * Records the attachments for `hostId` (one per network, replacing an existing row of that network but
   * keeping its id) and returns what those networks held before, atomically.
   */
  record(hostId: string, attachments: NetworkAttachmentSpec[], requestedBy: string): Promise<{ previous: NetworkAttachment[] }>;
  /**
   * Puts the given networks of `hostId` back as `previous` had them: rows restored verbatim (same id),
   * rows that did not exist removed. Idempotent, atomic.
   */
  restore(hostId: string, networkNames: string[], previous: NetworkAttachment[]): Promise<{ restored: number; removed: number }>;
  close(): Promise<void>;
}
