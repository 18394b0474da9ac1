/**
 * Drift informs; it never blocks (docs/engine-host-networking.md#out-of-sync). The one decision about
 * out-of-sync networks a hostSetupNetworks request needs:
 * - a request that **modifies** a drifting attachment without syncing it (`overrideConfiguration`) is
 *   refused with `NETWORK_NOT_IN_SYNC`, naming each differing property with the data center's and the
 *   host's value: applying it would silently keep or silently overwrite the host's values;
 * - every other drifting attachment (untouched, dropped as unchanged, or only sitting on a bond the
 *   request changes) becomes a **warning** in the result, and the request goes through;
 * - an attachment being synced, or removed, gives neither.
 * The engine refuses the same modifications; what it lacks is the warning, so an operator learns of the
 * drift without being stopped by it.
 */
import type { CompletedRequest } from './complete';
import type { HostSetupNetworksContext } from './context';
import { describeAttachment, effectiveOf } from './effective-set';
import type { SyncDifference, SyncReporter } from './sync';
import { violation, ViolationKey, type Violation } from './violations';
import { describeComparison } from '../network-sync/sync-property';

export const DriftWarningKind = {
  /** The host has the network differently from the data center. */
  OUT_OF_SYNC: 'out-of-sync',
  /** The host reports the network on no interface; the next refresh drops the attachment. */
  NOT_REPORTED: 'not-reported',
} as const;
export type DriftWarningKind = (typeof DriftWarningKind)[keyof typeof DriftWarningKind];

/** A drifting attachment the request leaves alone. Plain JSON, for the workflow's result. */
export interface DriftWarning {
  kind: DriftWarningKind;
  attachmentId: string;
  networkName: string;
  nicName: string | null;
  /** `MTU: desired 1500, host 9000`, one per differing property; `[]` for a network not reported. */
  differences: string[];
  /**
   * The request re-sends this attachment although it does not name it (the other half of a default-route
   * move), so the host's values are overwritten with the stored ones.
   */
  resent: boolean;
  /** One sentence for an operator. */
  message: string;
}

export interface DriftDecision {
  /** `NETWORK_NOT_IN_SYNC`, one per modified drifting attachment that is not being synced. */
  refusals: Violation[];
  /** One per drifting stored attachment the request neither modifies nor removes, in stored order. */
  warnings: DriftWarning[];
}

/**
 * Decides what the host's drift means for `request` (completed, no-ops dropped). `resent` holds the ids of
 * stored attachments the payload re-sends on its own (see `attachmentsToConfigure`).
 */
export function decideDrift(
  request: CompletedRequest,
  context: HostSetupNetworksContext,
  syncReport: SyncReporter,
  resent: ReadonlySet<string> = new Set(),
): DriftDecision {
  return { refusals: driftRefusals(request, syncReport), warnings: driftWarnings(request, context, syncReport, resent) };
}

/** The refusals of `decideDrift`: a modified attachment the host has differently, not being synced (ovirt-engine `checkForOutOfSyncNetworks`). */
export function driftRefusals(request: CompletedRequest, syncReport: SyncReporter): Violation[] {
  const out: Violation[] = [];
  for (const a of request.attachments) {
    if (a.stored === null || a.overrideConfiguration) continue;
    const report = syncReport(a.stored);
    if (report.inSync) continue;
    const differences = report.differences.map(describeDifference);
    out.push(
      violation(
        ViolationKey.NETWORK_NOT_IN_SYNC,
        `${describeAttachment(effectiveOf(a))}: the host does not have network ${a.stored.networkName} as defined (${differences.join('; ')}); sync it (overrideConfiguration) or fix the host`,
        ['attachments', a.index],
        { networkName: a.stored.networkName, attachmentId: a.stored.id, differences },
      ),
    );
  }
  return out;
}

/** The warnings of `decideDrift`. */
export function driftWarnings(
  request: CompletedRequest,
  context: HostSetupNetworksContext,
  syncReport: SyncReporter,
  resent: ReadonlySet<string> = new Set(),
): DriftWarning[] {
  const modified = new Set(request.attachments.flatMap((a) => (a.id === null ? [] : [a.id])));
  const removed = new Set(request.removedAttachments);
  const out: DriftWarning[] = [];
  for (const stored of context.attachments) {
    if (modified.has(stored.id) || removed.has(stored.id)) continue;
    const report = syncReport(stored);
    const isResent = resent.has(stored.id);
    const where = `network ${stored.networkName}${stored.nicName ? ` on ${stored.nicName}` : ''}`;
    const consequence = isResent
      ? 'this request re-sends it (default-route move), which overwrites the host with the stored configuration'
      : 'this request does not touch it';
    if (!report.inSync) {
      const differences = report.differences.map(describeDifference);
      out.push({
        kind: DriftWarningKind.OUT_OF_SYNC,
        attachmentId: stored.id,
        networkName: stored.networkName,
        nicName: stored.nicName,
        differences,
        resent: isResent,
        message: `${where} is out of sync (${differences.join('; ')}); ${consequence}`,
      });
    } else if (report.notReported) {
      out.push({
        kind: DriftWarningKind.NOT_REPORTED,
        attachmentId: stored.id,
        networkName: stored.networkName,
        nicName: stored.nicName,
        differences: [],
        resent: isResent,
        message: `${where} is not reported by the host; ${consequence}`,
      });
    }
  }
  return out;
}

function describeDifference(d: SyncDifference): string {
  return describeComparison(d);
}
