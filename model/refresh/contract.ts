/**
 * The refreshHostNetworks workflow's contract: JSON in, JSON out, versioned. A refresh reads the host's
 * capabilities, records what it reports and the attachment changes refresh decides (model/refresh), and
 * answers with the host's out-of-sync report and network compliance (docs/engine-host-networking.md#refresh-from-capabilities).
 * The result is what `hostprov host-networks status` shows and what the `NetworkSync` search attribute sums up.
 */
import { z } from 'zod';
import { AttachmentSyncState } from '../network-sync/attachment-report';
import { HostSyncState } from '../network-sync/host-report';
import { SyncPropertySchema } from '../network-sync/sync-property';
import { ExternalId } from '../host-networking/values';
import { HostNetworkStatus, NonOperationalReason } from './compliance';
import { RefreshActionKind } from './refresh-host';
import { REFRESH_CONTRACT_VERSION, RefreshReason } from './triggers';

// Re-exported: the triggers' values are part of this contract for every importer but the triggers' workflows.
export {
  REFRESH_CONTRACT_VERSION,
  REFRESH_HOST_NETWORKS_WORKFLOW,
  RefreshReason,
  SCHEDULED_HOST_REFRESH_WORKFLOW,
  WATCH_HEARTBEAT_TIMEOUT_SECONDS,
  WATCH_HOST_NETWORK_EVENTS_WORKFLOW,
  WatchGap,
  hostEventsTaskQueue,
  isHostEventsTaskQueue,
} from './triggers';

export const RefreshHostNetworksInput = z
  .object({
    version: z.literal(REFRESH_CONTRACT_VERSION),
    hostId: ExternalId,
    /** @default "on-demand" */
    reason: z.enum(RefreshReason).default(RefreshReason.ON_DEMAND),
    /**
     * Leave the management network out of the compliance check while no interface carries it (right after
     * an install). @default false
     */
    skipManagementNetwork: z.boolean().default(false),
  })
  .strict();
export type RefreshHostNetworksInput = z.infer<typeof RefreshHostNetworksInput>;
export type RefreshHostNetworksRequest = z.input<typeof RefreshHostNetworksInput>;

export const RefreshOutcome = {
  REFRESHED: 'refreshed',
  /** The host's report could not be recorded (HostReportError); nothing was written. */
  REPORT_REFUSED: 'report-refused',
} as const;
export type RefreshOutcome = (typeof RefreshOutcome)[keyof typeof RefreshOutcome];

const SyncValueSchema = z.union([z.string(), z.number(), z.boolean(), z.null()]);
const Comparison = z
  .object({ property: SyncPropertySchema, desired: SyncValueSchema, reported: SyncValueSchema, inSync: z.boolean() })
  .strict();

export const AttachmentSyncReportSchema = z
  .object({
    attachmentId: z.string(),
    networkId: z.string(),
    networkName: z.string(),
    hostNetworkName: z.string(),
    nicName: z.string().nullable(),
    reportedBaseInterface: z.string().nullable(),
    state: z.enum(AttachmentSyncState),
    comparisons: z.array(Comparison),
    differences: z.array(Comparison),
  })
  .strict();

export const HostSyncReportSchema = z
  .object({
    state: z.enum(HostSyncState),
    attachments: z.array(AttachmentSyncReportSchema),
    counts: z.record(z.enum(AttachmentSyncState), z.number().int().min(0)),
    unmanagedNetworks: z.array(
      z
        .object({ name: z.string(), baseInterface: z.string().nullable(), vlanId: z.number().int().nullable(), bridged: z.boolean() })
        .strict(),
    ),
  })
  .strict();

export const NetworkComplianceSchema = z
  .object({
    status: z.enum(HostNetworkStatus),
    reason: z.enum(NonOperationalReason).nullable(),
    problems: z.array(
      z.object({ reason: z.enum(NonOperationalReason), networkId: z.string(), networkName: z.string(), message: z.string() }).strict(),
    ),
  })
  .strict();

const NameLists = z
  .object({ nics: z.array(z.string()), bonds: z.array(z.string()), vlans: z.array(z.string()), networks: z.array(z.string()) })
  .strict();

export const RefreshHostNetworksResult = z
  .object({
    version: z.literal(REFRESH_CONTRACT_VERSION),
    hostId: z.string(),
    reason: z.enum(RefreshReason),
    outcome: z.enum(RefreshOutcome),
    /** `null` when the report was refused. */
    sync: HostSyncReportSchema.nullable(),
    compliance: NetworkComplianceSchema.nullable(),
    /** What refresh changed in the host's attachments, and why, in the engine's rule order. */
    actions: z.array(
      z
        .object({
          kind: z.enum(RefreshActionKind),
          networkId: z.string(),
          networkName: z.string(),
          attachmentId: z.string().nullable(),
          fromNic: z.string().nullable(),
          toNic: z.string().nullable(),
          message: z.string(),
        })
        .strict(),
    ),
    reportChanges: z.object({ added: NameLists, removed: NameLists }).strict().nullable(),
    /** VDSM's `netConfigDirty`: the host runs a configuration it has not persisted. */
    netConfigDirty: z.boolean().nullable(),
    /** Why the report was refused (`report-refused`), one sentence per problem. */
    problems: z.array(z.string()),
  })
  .strict();
export type RefreshHostNetworksResult = z.infer<typeof RefreshHostNetworksResult>;
