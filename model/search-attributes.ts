/**
 * Search attributes operators filter install executions by in the Web UI and CLI
 * (`HostName = "h1" AND InstallPhase = "fence"`). The dev stack and the test server register exactly these.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const HostNameKey = defineSearchAttributeKey('HostName', SearchAttributeType.KEYWORD);
export const ClusterIdKey = defineSearchAttributeKey('ClusterId', SearchAttributeType.KEYWORD);
export const InstallPhaseKey = defineSearchAttributeKey('InstallPhase', SearchAttributeType.KEYWORD);

/** The phase of a hostSetupNetworks execution, its outcome at the end (`SetupNetworksPhase = "rolled-back"`). */
export const SetupNetworksPhaseKey = defineSearchAttributeKey('SetupNetworksPhase', SearchAttributeType.KEYWORD);

export const SEARCH_ATTRIBUTE_KEYS = [HostNameKey, ClusterIdKey, InstallPhaseKey, SetupNetworksPhaseKey] as const;
