/**
 * The out-of-sync hook of validation (docs/engine-host-networking.md#out-of-sync). Validation asks it about
 * each stored attachment a request touches: a modified one that is out of sync and not being synced
 * (`overrideConfiguration`) fails with `NETWORK_NOT_IN_SYNC`, and the bond-mode rule skips it, as the
 * engine does. `syncReporterFor` is the real reporter: it compares each stored attachment with what the
 * host last reported (model/network-sync/). It is the default; `alwaysInSync` remains for callers that
 * want no drift check at all.
 */
import type { NetworkAttachment } from '../host-networking/network-attachment';
import { AttachmentSyncState } from '../network-sync/attachment-report';
import { hostSyncReport, type HostNetworksState, type HostSyncOptions, type HostSyncReport } from '../network-sync/host-report';
import type { SyncProperty, SyncValue } from '../network-sync/sync-property';
import type { HostSetupNetworksContext } from './context';

/** One property the host has differently from the data center (the engine's `ReportedConfiguration`). */
export interface SyncDifference {
  /** The engine's name of the property, e.g. `MTU`, `BRIDGED`, `IPV4_GATEWAY`. */
  property: SyncProperty;
  /** The data center's value (network definition, attachment, cluster role). */
  desired: SyncValue;
  /** The host's value. */
  reported: SyncValue;
}

export type SyncReport =
  /** `notReported`: the host reports the network on no interface; nothing to compare, so nothing blocks. */
  { inSync: true; notReported?: boolean } | { inSync: false; differences: SyncDifference[] };

/** Reports whether the host has a stored attachment's network as defined. */
export type SyncReporter = (stored: NetworkAttachment) => SyncReport;

export const IN_SYNC: SyncReport = { inSync: true };

/** No drift check: every network counts as in sync. */
export const alwaysInSync: SyncReporter = () => IN_SYNC;

/** The host's attachments and report as the out-of-sync model takes them. */
export function hostNetworksStateOf(context: HostSetupNetworksContext): HostNetworksState {
  return {
    networks: context.networks,
    clusterNetworks: context.clusterNetworks,
    attachments: context.attachments,
    reported: context.host.reportedInterfaces,
  };
}

/** The out-of-sync report of the context's host (see `hostSyncReport`). */
export function contextSyncReport(context: HostSetupNetworksContext, options: HostSyncOptions = {}): HostSyncReport {
  return hostSyncReport(hostNetworksStateOf(context), options);
}

/**
 * The real reporter for one context: each stored attachment against the host's last report. An attachment
 * the context does not have counts as in sync (there is nothing to compare it with).
 */
export function syncReporterFor(context: HostSetupNetworksContext, options: HostSyncOptions = {}): SyncReporter {
  const report = contextSyncReport(context, options);
  const byId = new Map<string, SyncReport>(
    report.attachments.map((a): [string, SyncReport] => {
      if (a.state === AttachmentSyncState.OUT_OF_SYNC) {
        return [
          a.attachmentId,
          { inSync: false, differences: a.differences.map(({ property, desired, reported }) => ({ property, desired, reported })) },
        ];
      }
      return [a.attachmentId, a.state === AttachmentSyncState.NOT_REPORTED ? { inSync: true, notReported: true } : IN_SYNC];
    }),
  );
  return (stored) => byId.get(stored.id) ?? IN_SYNC;
}
