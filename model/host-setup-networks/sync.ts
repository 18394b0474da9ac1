/**
 * The hook for out-of-sync networks (docs/engine-host-networking.md#out-of-sync). Comparing what the host
 * reports with the data-center definition is a later feature; until then every attachment is reported in
 * sync. Validation asks the hook about each stored attachment it touches: a modified one that is out of
 * sync and not being synced fails with `NETWORK_NOT_IN_SYNC`, and the bond-mode rule skips it, as the
 * engine does.
 */
import type { NetworkAttachment } from '../host-networking/network-attachment';

/** One property the host has differently from the data center (the engine's `ReportedConfiguration`). */
export interface SyncDifference {
  /** The engine's name of the property, e.g. `MTU`, `BRIDGED`, `IPV4_GATEWAY`. */
  property: string;
  host: string | number | boolean | null;
  dataCenter: string | number | boolean | null;
}

export type SyncReport = { inSync: true } | { inSync: false; differences: SyncDifference[] };

/** Reports whether the host has a stored attachment's network as defined. */
export type SyncReporter = (stored: NetworkAttachment) => SyncReport;

export const IN_SYNC: SyncReport = { inSync: true };

/** The default until out-of-sync detection exists: every network is in sync. */
export const alwaysInSync: SyncReporter = () => IN_SYNC;
