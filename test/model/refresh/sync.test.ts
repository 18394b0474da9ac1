/** Which attachments a sync re-sends, and the hostSetupNetworks request it sends (pure). */
import { describe, expect, it } from 'vitest';
import type { AttachmentSyncReport } from '../../../model/network-sync/attachment-report';
import type { HostSyncReport } from '../../../model/network-sync/host-report';
import { HostSetupNetworksRequest } from '../../../model/host-setup-networks/request';
import { attachmentsToSync, SyncHostNetworksRequest, syncSetupRequest } from '../../../model/refresh/sync';

const A = '00000000-0000-4000-8000-00000000000a';
const B = '00000000-0000-4000-8000-00000000000b';
const C = '00000000-0000-4000-8000-00000000000c';

const entry = (attachmentId: string, state: AttachmentSyncReport['state']): AttachmentSyncReport => ({
  attachmentId,
  networkId: attachmentId,
  networkName: attachmentId,
  hostNetworkName: attachmentId,
  nicName: 'eth1',
  reportedBaseInterface: 'eth1',
  state,
  comparisons: [],
  differences: [],
});

const report: HostSyncReport = {
  state: 'out-of-sync',
  attachments: [entry(A, 'out-of-sync'), entry(B, 'in-sync'), entry(C, 'not-reported')],
  counts: { 'in-sync': 1, 'out-of-sync': 1, 'not-reported': 1 },
  unmanagedNetworks: [],
};

describe('sync', () => {
  it('re-sends every out-of-sync attachment when none is named (SyncAllHostNetworks), not the in-sync or unreported ones', () => {
    expect(attachmentsToSync(report, {})).toEqual([A]);
  });

  it('re-sends exactly the attachments named, in sync or not (the override flag)', () => {
    expect(attachmentsToSync(report, { attachmentIds: [B] })).toEqual([B]);
  });

  it('builds a valid hostSetupNetworks request with overrideConfiguration and the connectivity check', () => {
    const request = SyncHostNetworksRequest.parse({ version: 1, hostId: 'h1', connectivityTimeoutSeconds: 30 });
    const setup = HostSetupNetworksRequest.parse(syncSetupRequest(request, [A]));
    expect(setup.attachments).toEqual([{ id: A, overrideConfiguration: true }]);
    expect(setup.options).toEqual({ rollbackOnFailure: true, connectivityTimeoutSeconds: 30, commitOnSuccess: false });
  });

  it('refuses a malformed sync request, naming the field', () => {
    const parsed = SyncHostNetworksRequest.safeParse({ version: 1, hostId: 'h1', attachmentIds: [] });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.path).toEqual(['attachmentIds']);
    expect(SyncHostNetworksRequest.safeParse({ version: 1, hostId: 'h1', attachmentIds: ['not-an-id'] }).success).toBe(false);
    expect(SyncHostNetworksRequest.safeParse({ version: 1, hostId: 'h1', extra: true }).success).toBe(false);
  });
});
