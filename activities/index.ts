/**
 * All activities the hostprov worker registers, built from their dependencies (samples' factory habit).
 * Workflows import only the types (`activities/types.ts`).
 */
import type { HostNetworkingStore } from '../store/store';
import { connectVdsmAgent, type ConnectAgent } from './agent-connection';
import type { AgentAccess } from './agent-endpoint';
import { createAttachmentActivities } from './attachments';
import { heartbeating } from './heartbeat';
import { requestKeyOfCurrentActivity } from './request-key';
import { createHostAgentActivities, type HostAgentDeps } from './host-agent';
import type { ApplyMetrics } from './metrics';
import { createRefreshActivities, type RefreshActivityDeps } from './refresh';
import { createSetupNetworksActivity, type ConfirmLoopOptions } from './setup-networks-with-confirm';
import { createHostNetworkingActivities } from './host-networking';
import type { HostprovActivities } from './types';

export interface ActivityDeps {
  store: HostNetworkingStore;
  /** Secrets root and whether endpoints without TLS are accepted (the worker's flags). */
  access: AgentAccess;
  agent?: HostAgentDeps;
  confirmLoop?: ConfirmLoopOptions;
  /**
   * Opens connections to host agents. A workflow test may answer for the host with its own.
   * @default connectVdsmAgent (the VDSM client)
   */
  connectAgent?: ConnectAgent;
  /** Where the apply reports its durations (the worker's metrics). @default nowhere */
  metrics?: ApplyMetrics;
  /** The host event watch's timings (activities/refresh.ts). @default its own defaults */
  watch?: Pick<RefreshActivityDeps, 'eventPingIntervalMs' | 'watchOnWorkerQueueMs' | 'resubscribedRefreshSpreadMs'>;
}

export function createActivities(deps: ActivityDeps): HostprovActivities {
  const connect = deps.connectAgent ?? connectVdsmAgent;
  const host = createHostAgentActivities(deps.access, deps.agent, connect);
  const store = createAttachmentActivities(deps.store);
  const networking = createHostNetworkingActivities(deps.store);
  const refresh = createRefreshActivities({ ...deps.watch, store: deps.store, access: deps.access });
  return {
    // These two heartbeat with details of their own (polls so far; confirmations and the request id).
    waitForAgent: host.waitForAgent,
    setupNetworksWithConfirm: createSetupNetworksActivity(deps.access, deps.confirmLoop, connect, deps.metrics),
    probeCapabilities: heartbeating(host.probeCapabilities),
    findRouteToManager: heartbeating(host.findRouteToManager),
    probeHost: heartbeating(host.probeHost),
    setSafeNetworkConfig: heartbeating(host.setSafeNetworkConfig),
    fenceHost: heartbeating(host.fenceHost),
    // Recorded under the activity's request key: a retry after a commit whose report was lost changes nothing.
    recordAttachments: heartbeating((input) => store.recordAttachments(input, requestKeyOfCurrentActivity())),
    compensateAttachments: heartbeating(store.compensateAttachments),
    loadHostSetupNetworksContext: heartbeating(networking.loadHostSetupNetworksContext),
    recordReportedInterfaces: heartbeating(networking.recordReportedInterfaces),
    recordAttachmentIntent: heartbeating((input) => networking.recordAttachmentIntent(input, requestKeyOfCurrentActivity())),
    restoreAttachments: heartbeating(networking.restoreAttachments),
    loadRefreshContext: heartbeating(refresh.loadRefreshContext),
    // Under the request key too: a removal run again for the same refresh is not "not found".
    recordRefresh: heartbeating((input) => refresh.recordRefresh(input, requestKeyOfCurrentActivity())),
    // Heartbeats with its own details (connected, pings) for as long as it watches.
    waitForHostNetworkEvent: refresh.waitForHostNetworkEvent,
  };
}
