/**
 * Sync (docs/engine-host-networking.md#out-of-sync; the engine's override flag and SyncAllHostNetworks):
 * re-send the data center's configuration of one attachment, some, or every out-of-sync attachment of a
 * host through hostSetupNetworks (`overrideConfiguration`) under the connectivity check, then commit. The
 * syncHostNetworks workflow refreshes first (so it syncs what drifts now), sends the request this module
 * builds, and refreshes again to report the result.
 */
import { z } from 'zod';
import { EntityId, ExternalId } from '../host-networking/values';
import { AttachmentSyncState } from '../network-sync/attachment-report';
import type { HostSyncReport } from '../network-sync/host-report';
import { HostSetupNetworksResult } from '../host-setup-networks/contract';
import {
  ENGINE_CONNECTIVITY_TIMEOUT_SECONDS,
  HOST_SETUP_NETWORKS_REQUEST_VERSION,
  MAX_REQUEST_ITEMS,
  type HostSetupNetworksRequestInput,
} from '../host-setup-networks/request';
import { RefreshHostNetworksResult } from './contract';

export const SYNC_HOST_NETWORKS_WORKFLOW = 'syncHostNetworks';
export const SYNC_CONTRACT_VERSION = 1;

export const SyncHostNetworksRequest = z
  .object({
    version: z.literal(SYNC_CONTRACT_VERSION),
    hostId: ExternalId,
    /**
     * The attachments to re-send, in sync or not (the engine's override flag on each); omitted: every
     * attachment the refresh finds out of sync (SyncAllHostNetworks). @default every out-of-sync attachment
     */
    attachmentIds: z.array(EntityId).min(1).max(MAX_REQUEST_ITEMS).optional(),
    /** How long the host waits for our confirmation before it rolls back. @default 120 */
    connectivityTimeoutSeconds: z.number().int().min(1).max(3600).default(ENGINE_CONNECTIVITY_TIMEOUT_SECONDS),
  })
  .strict();
export type SyncHostNetworksRequest = z.infer<typeof SyncHostNetworksRequest>;
export type SyncHostNetworksRequestInput = z.input<typeof SyncHostNetworksRequest>;

export const SyncOutcome = {
  /** The request was applied, confirmed and committed (see `after` for the host's state now). */
  SYNCED: 'synced',
  /** Nothing to re-send: every attachment is in sync. */
  NOTHING_TO_SYNC: 'nothing-to-sync',
  /** The refresh before or the request failed, was refused or rolled back (see `before` and `setup`). */
  NOT_SYNCED: 'not-synced',
} as const;
export type SyncOutcome = (typeof SyncOutcome)[keyof typeof SyncOutcome];

export const SyncHostNetworksResult = z
  .object({
    version: z.literal(SYNC_CONTRACT_VERSION),
    hostId: z.string(),
    outcome: z.enum(SyncOutcome),
    /** The ids re-sent. */
    attachmentIds: z.array(z.string()),
    before: RefreshHostNetworksResult,
    setup: HostSetupNetworksResult.nullable(),
    after: RefreshHostNetworksResult.nullable(),
  })
  .strict();
export type SyncHostNetworksResult = z.infer<typeof SyncHostNetworksResult>;

/** The ids to re-send: those asked for, or every attachment of the report that is out of sync. */
export function attachmentsToSync(report: HostSyncReport, request: Pick<SyncHostNetworksRequest, 'attachmentIds'>): string[] {
  if (request.attachmentIds) return [...request.attachmentIds];
  return report.attachments.filter((a) => a.state === AttachmentSyncState.OUT_OF_SYNC).map((a) => a.attachmentId);
}

/** The hostSetupNetworks request that re-sends `attachmentIds` as stored, under the connectivity check. */
export function syncSetupRequest(request: SyncHostNetworksRequest, attachmentIds: readonly string[]): HostSetupNetworksRequestInput {
  return {
    version: HOST_SETUP_NETWORKS_REQUEST_VERSION,
    hostId: request.hostId,
    attachments: attachmentIds.map((id) => ({ id, overrideConfiguration: true })),
    options: { rollbackOnFailure: true, connectivityTimeoutSeconds: request.connectivityTimeoutSeconds, commitOnSuccess: false },
  };
}
