/**
 * What starts a refresh besides its caller, in the few values the triggers' workflows need
 * (workflows/refresh-triggers.ts): the workflow names, why a refresh runs, and the event watch's task queue,
 * heartbeat and gaps. Apart from the contract's schemas because a watch is a long-lived execution per host,
 * kept in the worker's workflow cache with every module it evaluated: these constants cost it nothing, the
 * schemas would (docs/performance.md#host-event-watches).
 */

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
