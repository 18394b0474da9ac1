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

export const REFRESH_HOST_NETWORKS_WORKFLOW = 'refreshHostNetworks';
/** The action of a host's refresh Schedule. */
export const SCHEDULED_HOST_REFRESH_WORKFLOW = 'scheduledHostRefresh';
/** A host's long-lived network-event watch. */
export const WATCH_HOST_NETWORK_EVENTS_WORKFLOW = 'watchHostNetworkEvents';
export const REFRESH_CONTRACT_VERSION = 1;

const HOST_EVENTS_SUFFIX = '-host-events';

/**
 * The task queue of the event watches' activity, beside the worker's own queue. A watch holds its activity
 * for as long as no event comes; on the worker's queue a fleet's watches would take every activity slot
 * (100 by default) and installs and refreshes would wait behind them. The worker serves this queue with
 * slots of its own (worker/host-events-worker.ts).
 */
export function hostEventsTaskQueue(taskQueue: string): string {
  return `${taskQueue}${HOST_EVENTS_SUFFIX}`;
}

/** Whether `taskQueue` is a watches' queue ({@link hostEventsTaskQueue}), not a worker's own. */
export function isHostEventsTaskQueue(taskQueue: string): boolean {
  return taskQueue.endsWith(HOST_EVENTS_SUFFIX);
}

/**
 * Heartbeat timeout of a host event watch's activity. The SDK sends at most one heartbeat per 0.8 × this and
 * the server writes each one, so it sets what a fleet's idle watches cost the server's database; it is also
 * how long a watch whose worker died goes unheard before Temporal retries it elsewhere, and how long a
 * cancelled watch's activity may still hold its agent session (a cancellation reaches it with a heartbeat's
 * answer). A retry refreshes the host ({@link WatchGap}), so no change is missed meanwhile, only heard later
 * (docs/host-networks.md#host-lifecycle-monitoring-goes-with-the-host).
 */
export const WATCH_HEARTBEAT_TIMEOUT_SECONDS = 30;

/**
 * Why a host event watch's activity ended without an event (activities/refresh.ts). The host was not watched
 * for a while before it, so an event may have been missed: the workflow refreshes the host after each, as
 * after an event, once the watch is subscribed again.
 */
export const WatchGap = {
  /** On the worker's own task queue: ended to move to the watches' queue (a watch from before that queue). */
  MOVING: 'moving',
  /** A retry of the activity: the attempt before failed (its worker died or shut down, the agent was unreachable). */
  NEW_ATTEMPT: 'new-attempt',
  /** The session to the agent was lost (the agent restarted, the host rebooted, the network dropped it) and is back. */
  SESSION_LOST: 'session-lost',
} as const;
export type WatchGap = (typeof WatchGap)[keyof typeof WatchGap];

/** Why a refresh runs: it is recorded in the result and in the execution's summary. */
export const RefreshReason = {
  /** `hostprov host-networks refresh HOST`. */
  ON_DEMAND: 'on-demand',
  /** The host's Temporal Schedule. */
  SCHEDULE: 'schedule',
  /** The agent's `|net|host_conn|no_id` event (a DHCP lease changed). */
  EVENT: 'event',
  /** A hostSetupNetworks change was applied. */
  AFTER_APPLY: 'after-apply',
  /** A sync reads the host first, to know what drifts. */
  BEFORE_SYNC: 'before-sync',
} as const;
export type RefreshReason = (typeof RefreshReason)[keyof typeof RefreshReason];

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
