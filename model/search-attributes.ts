/**
 * Search attributes operators filter executions by in the Web UI and CLI (`HostName = "h1" AND
 * InstallPhase = "fence"`, `NetworkSync = "out-of-sync"`). The dev stack and the test server register
 * exactly these.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const HostNameKey = defineSearchAttributeKey('HostName', SearchAttributeType.KEYWORD);
export const ClusterIdKey = defineSearchAttributeKey('ClusterId', SearchAttributeType.KEYWORD);
export const InstallPhaseKey = defineSearchAttributeKey('InstallPhase', SearchAttributeType.KEYWORD);

/** A host's networks against the data center after its last refresh: `in-sync` or `out-of-sync` (model/network-sync HostSyncState). */
export const NetworkSyncKey = defineSearchAttributeKey('NetworkSync', SearchAttributeType.KEYWORD);
/** The host's network compliance after its last refresh: `operational` or `non-operational` (model/refresh HostNetworkStatus). */
export const HostNetworkStatusKey = defineSearchAttributeKey('HostNetworkStatus', SearchAttributeType.KEYWORD);
/** The host a host-networks execution (refresh, change, schedule trigger) is about, by id. */
export const HostIdKey = defineSearchAttributeKey('HostId', SearchAttributeType.KEYWORD);

/** The phase of a hostSetupNetworks execution, its outcome at the end (`SetupNetworksPhase = "rolled-back"`). */
export const SetupNetworksPhaseKey = defineSearchAttributeKey('SetupNetworksPhase', SearchAttributeType.KEYWORD);

export const SEARCH_ATTRIBUTE_KEYS = [
  HostNameKey,
  ClusterIdKey,
  InstallPhaseKey,
  SetupNetworksPhaseKey,
  NetworkSyncKey,
  HostNetworkStatusKey,
  HostIdKey,
] as const;
