/**
 * Inputs and outputs of every install-host activity. Plain JSON (they land in workflow history), no secrets:
 * TLS material and passwords travel as references the worker resolves.
 */
import type { NetworkAttachmentSpec } from '../model/attachments/attachment';
import type { AttachmentChanges, IntentSnapshot } from '../model/host-networking/intent';
import type { NetworkAttachment } from '../model/host-networking/network-attachment';
import type { ReportedInterfaces } from '../model/host-networking/reported-interfaces';
import type { RefreshContextInput } from '../model/refresh/context';
import type { WatchGap } from '../model/refresh/contract';
import type { HostSetupNetworksContext } from '../model/host-setup-networks/context';
import type { AgentEndpointRefInput, PowerManagementInput } from '../model/install-host/contract';
import type { RouteAnswer } from '../model/install-host/choose-device';
import type { InstallRegistration } from '../model/install-host/registration';
import type { NetworkCapabilities } from '../model/vdsm/capabilities';
import type { FenceAction } from '../model/vdsm/fence-node';
import type { BondAttributes, NetworkAttributes, SetupNetworksOptions } from '../model/vdsm/setup-networks';

/** An agent endpoint with its host resolved (TLS still by reference). */
export type AgentEndpointRef = AgentEndpointRefInput & { host: string };

export interface WaitForAgentInput {
  endpoint: AgentEndpointRef;
  timeoutSeconds: number;
}

export interface HostProbe {
  capabilities: NetworkCapabilities & { lastClientIface: string; clusterLevels: string[]; software_version?: string };
}

export interface RouteProbeInput {
  endpoint: AgentEndpointRef;
  managerAddress: string;
  /** The host's name or address as the engine knows it; DNS-resolved by the activity. */
  hostAddress: string;
}

export interface RouteProbe {
  route: RouteAnswer;
  hostAddresses: string[];
}

export interface RecordAttachmentsInput {
  hostId: string;
  attachments: NetworkAttachmentSpec[];
  /** Who asked (workflow id/run id), kept with the rows for audit. */
  requestedBy: string;
  /**
   * The network's definition, the host's name and cluster, registered before the intent
   * (activities/install-registration.ts). Executions recorded before it send none.
   */
  registration?: InstallRegistration;
}

/**
 * What the store held for those networks before the recording: restored on compensation. `intent` is the
 * store's exact snapshot (every field and timestamp); snapshots recorded before it existed carry only
 * `networkNames` and `previous`, and are restored from those.
 */
export interface AttachmentsSnapshot {
  hostId: string;
  networkNames: string[];
  previous: Array<NetworkAttachmentSpec & { id: string }>;
  intent?: IntentSnapshot;
  /** Networks the recording created (activities/install-registration.ts): compensation removes those still unused. */
  createdNetworkIds?: string[];
}

export interface SetupNetworksInput {
  endpoint: AgentEndpointRef;
  /** Stable across activity retries: the agent treats a repeated id as the same request (idempotency key). */
  requestId: string;
  networks: Record<string, NetworkAttributes>;
  bondings: Record<string, BondAttributes>;
  options: SetupNetworksOptions;
  /** Seconds the host waits for confirmation before it rolls back. */
  connectivityTimeoutSeconds: number;
  /**
   * Once the host has answered that the change is applied, read its capabilities on the same session and
   * return them (`capabilities` of the outcome), for a verification that needs nothing else in between.
   * @default false
   */
  readCapabilitiesAfter?: boolean;
}

export type SetupNetworksOutcome =
  | {
      status: 'applied';
      confirmations: number;
      tookOverInFlight: boolean;
      /** With `readCapabilitiesAfter`, what the host reported right after the apply; absent if that read failed. */
      capabilities?: HostProbe['capabilities'];
    }
  | { status: 'rolled-back'; code: number; message: string; confirmations: number };

export interface FenceInput {
  proxy: AgentEndpointRef;
  powerManagement: Omit<PowerManagementInput, 'proxy'>;
  action: FenceAction;
}

export interface FenceResult {
  power: string;
  operationStatus?: string;
}

export interface InstallHostActivities {
  waitForAgent(input: WaitForAgentInput): Promise<{ attempts: number }>;
  probeCapabilities(endpoint: AgentEndpointRef): Promise<HostProbe>;
  findRouteToManager(input: RouteProbeInput): Promise<RouteProbe>;
  /** {@link probeCapabilities} and {@link findRouteToManager} at once, on one connection. */
  probeHost(input: RouteProbeInput): Promise<HostProbe & RouteProbe>;
  recordAttachments(input: RecordAttachmentsInput): Promise<AttachmentsSnapshot>;
  compensateAttachments(snapshot: AttachmentsSnapshot): Promise<{ restored: number; removed: number; networksRemoved: number }>;
  setupNetworksWithConfirm(input: SetupNetworksInput): Promise<SetupNetworksOutcome>;
  setSafeNetworkConfig(endpoint: AgentEndpointRef): Promise<void>;
  fenceHost(input: FenceInput): Promise<FenceResult>;
}

export interface LoadedRefreshContext {
  context: RefreshContextInput;
  /** How to reach the host's agent. */
  endpoint: AgentEndpointRef;
}

export interface RecordRefreshInput {
  hostId: string;
  reportedInterfaces: ReportedInterfaces;
  attachmentChanges: AttachmentChanges;
  /** Who wrote it (the refresh's workflow id), kept with attachment rows for audit. */
  requestedBy: string;
}

export interface WatchEventsInput {
  hostId: string;
}

export interface HostEventSeen {
  /** The event's method, e.g. `|net|host_conn|no_id`; null when the watch ended without one ({@link unwatched}). */
  event: string | null;
  /** The agent's monotonic `notify_time`, if it sent one. */
  notifyTime: number | null;
  /**
   * Why it ended without an event. Absent in a result recorded before there was any reason but
   * {@link WatchGap.MOVING}, the only one then.
   */
  unwatched?: WatchGap;
}

export interface RefreshActivities {
  loadRefreshContext(hostId: string): Promise<LoadedRefreshContext>;
  recordRefresh(input: RecordRefreshInput): Promise<{ attachments: NetworkAttachment[] }>;
  waitForHostNetworkEvent(input: WatchEventsInput): Promise<HostEventSeen>;
}

/** A host as the hostSetupNetworks workflow needs to reach it. */
export interface HostNetworkingHost {
  id: string;
  name: string;
  clusterId: string;
  agentEndpoint: AgentEndpointRef;
}

/** The store's view of a host for a hostSetupNetworks request; `context` is `null` until the host has reported its interfaces. */
export interface HostNetworkingContextAnswer {
  host: HostNetworkingHost;
  context: HostSetupNetworksContext | null;
}

export interface RecordReportInput {
  hostId: string;
  capabilities: HostProbe['capabilities'];
}

export interface RecordIntentInput {
  hostId: string;
  changes: AttachmentChanges;
  /** Who asked (the workflow id), kept with the rows for audit. */
  requestedBy: string;
}

export interface RecordIntentResult {
  /** The exact previous rows; restoring it is the compensation. */
  snapshot: IntentSnapshot;
  /** The host's attachments after the intent. */
  attachments: NetworkAttachment[];
}

/** The hostSetupNetworks workflow's store activities (activities/host-networking.ts). */
export interface HostNetworkingActivities {
  loadHostSetupNetworksContext(input: { hostId: string }): Promise<HostNetworkingContextAnswer>;
  recordReportedInterfaces(input: RecordReportInput): Promise<void>;
  recordAttachmentIntent(input: RecordIntentInput): Promise<RecordIntentResult>;
  restoreAttachments(snapshot: IntentSnapshot): Promise<{ restored: number; removed: number }>;
}

/** Every activity the worker registers. */
export type HostprovActivities = InstallHostActivities & HostNetworkingActivities & RefreshActivities;
