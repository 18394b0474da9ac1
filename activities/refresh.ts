/**
 * Activities of refreshHostNetworks (docs/engine-host-networking.md#refresh-from-capabilities): load what a
 * refresh works from, record what it decided, and watch a host agent's events. The decisions live in
 * model/refresh and model/network-sync; these only read and write the store and listen to the agent.
 */
import { Context } from '@temporalio/activity';
import { z } from 'zod';
import { FailureType } from '../model/failures';
import { AttachmentChanges } from '../model/host-networking/intent';
import { ReportedInterfaces } from '../model/host-networking/reported-interfaces';
import { ExternalId } from '../model/host-networking/values';
import { isHostEventsTaskQueue, WATCH_HEARTBEAT_TIMEOUT_SECONDS, WatchGap } from '../model/refresh/contract';
import type { HostNetworkingStore } from '../store/store';
import { StoreEntity, StoreNotFoundError } from '../store/errors';
import { AgentClient } from '../vdsm/client/client';
import { clientEndpoint, type AgentAccess } from './agent-endpoint';
import { storeFailures } from './attachments';
import { activityFailure } from './failure-mapping';
import type { NetworkAttachment } from '../model/host-networking/network-attachment';
import type { AgentEndpointRef, HostEventSeen, RecordRefreshInput, RefreshActivities } from './types';

/** The event VDSM (and our agent) sends when the host's network changed, e.g. a new DHCP lease. */
export const HOST_CONNECTION_EVENT = '|net|host_conn|no_id';

const RecordInput = z
  .object({
    hostId: ExternalId,
    reportedInterfaces: ReportedInterfaces,
    attachmentChanges: AttachmentChanges,
    requestedBy: z.string().min(1).max(512),
  })
  .strict();

/**
 * How often a watch heart-beats: three times per heartbeat timeout. The SDK sends at most one heartbeat per
 * 0.8 × that timeout, so beating more often only costs CPU, each call encoding the details: a worker running
 * 1000 watches (then with a 10 s timeout) used 36-45% of a core beating every second and 22-30% every 4 s
 * (`bench host-event-watches`, two runs each, docs/performance.md#host-event-watches). The timeout is the
 * one the activity was scheduled with: a watch scheduled by an earlier version (10 s), or retried since,
 * must beat within that.
 */
function watchHeartbeatEveryMs(scheduledTimeoutMs: number | undefined): number {
  return (scheduledTimeoutMs ?? WATCH_HEARTBEAT_TIMEOUT_SECONDS * 1000) / 3;
}

export interface RefreshActivityDeps {
  store: HostNetworkingStore;
  access: AgentAccess;
  /**
   * How often the event watch calls `Host.ping2`: a call is what reopens (and resubscribes) a session
   * the agent or the network dropped. @default 5000
   */
  eventPingIntervalMs?: number;
  /**
   * How long a watch waits for an event on the worker's own task queue before it ends without one, so that
   * its workflow moves it to the watches' own queue (workflows/refresh-triggers.ts). Only a watch started
   * before that queue existed runs there; it would otherwise hold a worker slot until its host's next event.
   * Not at once: during a rolling upgrade a workflow task may still run the old code, which watches on the
   * worker's queue again and refreshes the host after every watch that ends. @default 600000 (10 minutes)
   */
  watchOnWorkerQueueMs?: number;
  /**
   * A watch subscribed again after a gap ends at a random moment within this time, still subscribed meanwhile
   * (so an event ends it at once), so that its host is refreshed: when a worker restarts or a switch drops
   * many hosts' sessions at once, their refreshes spread over this time instead of coming all at once.
   * @default 30000
   */
  resubscribedRefreshSpreadMs?: number;
}

/** @default for {@link RefreshActivityDeps.watchOnWorkerQueueMs}. */
const DEFAULT_WATCH_ON_WORKER_QUEUE_MS = 10 * 60_000;
/** @default for {@link RefreshActivityDeps.resubscribedRefreshSpreadMs}. */
const DEFAULT_RESUBSCRIBED_REFRESH_SPREAD_MS = 30_000;

/**
 * The refresh's activities as the worker registers them: `recordRefresh` also takes the key of the request it
 * serves (activities/request-key.ts), which the workflows never pass.
 */
export type RefreshActivityImplementations = Omit<RefreshActivities, 'recordRefresh'> & {
  recordRefresh(input: RecordRefreshInput, intentKey?: string): Promise<{ attachments: NetworkAttachment[] }>;
};

export function createRefreshActivities(deps: RefreshActivityDeps): RefreshActivityImplementations {
  const { store } = deps;
  const pingEveryMs = deps.eventPingIntervalMs ?? 5000;
  const watchOnWorkerQueueMs = deps.watchOnWorkerQueueMs ?? DEFAULT_WATCH_ON_WORKER_QUEUE_MS;
  const resubscribedSpreadMs = deps.resubscribedRefreshSpreadMs ?? DEFAULT_RESUBSCRIBED_REFRESH_SPREAD_MS;

  async function hostEndpoint(hostId: string): Promise<AgentEndpointRef> {
    const host = await store.hosts.get(hostId);
    if (!host) throw new StoreNotFoundError(StoreEntity.HOST, hostId);
    if (!host.agentEndpoint)
      throw activityFailure(FailureType.INVALID_INPUT, `host ${hostId} has no agent endpoint in the store; set one before refreshing it`);
    return host.agentEndpoint;
  }

  return {
    async loadRefreshContext(hostId) {
      return storeFailures('loading the refresh context', async () => {
        const id = ExternalId.parse(hostId);
        const host = await store.hosts.get(id);
        if (!host) throw new StoreNotFoundError(StoreEntity.HOST, id);
        const endpoint = await hostEndpoint(id);
        const clusterNetworks = host.clusterId ? await store.clusters.listNetworks(host.clusterId) : [];
        const attachments = await store.attachments.listByHost(id);
        const wanted = new Set([...clusterNetworks.map((cn) => cn.networkId), ...attachments.map((a) => a.networkId)]);
        const networks = (await store.networks.list()).filter((n) => wanted.has(n.id));
        return { context: { host, clusterNetworks, networks, attachments }, endpoint };
      });
    },

    /**
     * The report, then the attachment changes. The changes are recorded under `intentKey` when given: run again
     * for the same request (a retry after a lost answer, or a local activity run again after its workflow task
     * was lost), they are not applied twice, and a removal already made does not fail as "not found".
     */
    async recordRefresh(input, intentKey) {
      return storeFailures('recording the refresh', async () => {
        const { hostId, reportedInterfaces, attachmentChanges, requestedBy } = RecordInput.parse(input);
        // The report first: the store checks an attachment's NIC against the host's recorded report.
        await store.hosts.recordReportedInterfaces(hostId, reportedInterfaces);
        if (!attachmentChanges.upserts.length && !attachmentChanges.removals.length)
          return { attachments: await store.attachments.listByHost(hostId) };
        const { attachments } = await store.attachments.recordIntent(hostId, attachmentChanges, {
          requestedBy,
          ...(intentKey !== undefined ? { intentKey } : {}),
        });
        return { attachments };
      });
    },

    /**
     * Subscribes to the host agent's events and returns at the first `|net|host_conn|*` one. Runs for as
     * long as no such event comes, heart-beating; a session the agent or the network drops is reopened by
     * the next ping (every `eventPingIntervalMs`), so the watch outlives agent restarts. A worker that dies
     * stops heart-beating and Temporal starts the watch again elsewhere.
     *
     * Whenever the host went unwatched, it returns without an event ({@link WatchGap}) once it is subscribed
     * again (within `resubscribedRefreshSpreadMs`), so that the workflow refreshes the host for what the gap
     * hid: on a retry (the attempt before ended unsubscribed) and on a reopened session (an agent restart or a
     * reboot sends no event).
     */
    async waitForHostNetworkEvent({ hostId }) {
      const ctx = Context.current();
      const endpoint = clientEndpoint(await storeFailures('loading the host endpoint', () => hostEndpoint(hostId)), deps.access);
      let resolveSeen!: (seen: HostEventSeen) => void;
      const seen = new Promise<HostEventSeen>((resolve) => (resolveSeen = resolve));
      const gap = (unwatched: WatchGap): HostEventSeen => ({ event: null, notifyTime: null, unwatched });
      let gapTimer: NodeJS.Timeout | undefined;
      const endAfterGap = (unwatched: WatchGap) => {
        gapTimer ??= setTimeout(() => resolveSeen(gap(unwatched)), Math.random() * resubscribedSpreadMs);
      };
      const state = { connected: false, pings: 0, lastError: '' };
      const client = await AgentClient.connect(endpoint, {
        onEvent: (e) => {
          if (!e.method.startsWith('|net|host_conn|')) return;
          const notifyTime = typeof e.params.notify_time === 'number' ? e.params.notify_time : null;
          resolveSeen({ event: e.method, notifyTime });
        },
      }).catch((err: unknown) => {
        throw activityFailure(
          FailureType.AGENT_CONNECTION_LOST,
          `subscribing to the events of host ${hostId}: ${err instanceof Error ? err.message : String(err)}`,
        );
      });
      state.connected = true;
      const beat = setInterval(() => ctx.heartbeat(state), watchHeartbeatEveryMs(ctx.info.heartbeatTimeoutMs));
      let subscribedSession = Infinity;
      const ping = setInterval(() => {
        state.pings += 1;
        client.call('Host.ping2', {}, { timeoutMs: Math.max(1000, pingEveryMs - 500) }).then(
          () => {
            state.connected = true;
            // Answered on a session opened after the first: subscribed again, after a time without.
            if (client.sessionsOpened > subscribedSession) endAfterGap(WatchGap.SESSION_LOST);
          },
          (err: unknown) => {
            state.connected = false;
            state.lastError = err instanceof Error ? err.message : String(err);
          },
        );
      }, pingEveryMs);
      const cancelled = new Promise<never>((_, reject) =>
        ctx.cancellationSignal.addEventListener('abort', () => reject(ctx.cancellationSignal.reason as Error), { once: true }),
      );
      let moveTimer: NodeJS.Timeout | undefined;
      const moving = isHostEventsTaskQueue(ctx.info.taskQueue)
        ? []
        : [
            new Promise<HostEventSeen>((resolve) => {
              moveTimer = setTimeout(() => resolve(gap(WatchGap.MOVING)), watchOnWorkerQueueMs);
            }),
          ];
      try {
        // Proves the subscription is in place before anyone waits on it.
        await client.call('Host.ping2', {}, { timeoutMs: 10_000 });
        subscribedSession = client.sessionsOpened;
        ctx.heartbeat(state);
        if (ctx.info.attempt > 1) endAfterGap(WatchGap.NEW_ATTEMPT);
        return await Promise.race([seen, cancelled, ...moving]);
      } finally {
        clearInterval(beat);
        clearInterval(ping);
        clearTimeout(moveTimer);
        clearTimeout(gapTimer);
        await client.close();
      }
    },
  };
}
