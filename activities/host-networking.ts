/**
 * Store activities of the hostSetupNetworks workflow: load what a request is checked against, record a
 * host's first interface report, record the request's intent, restore it exactly. Thin adapters over the
 * store (store/store.ts); the decisions live in model/host-setup-networks and the workflow.
 */
import { z } from 'zod';
import { FailureType } from '../model/failures';
import { AttachmentChanges, IntentSnapshot } from '../model/host-networking/intent';
import { reportedInterfacesFromCapabilities } from '../model/host-networking/reported-interfaces';
import { HostSetupNetworksContext } from '../model/host-setup-networks/context';
import { ExternalId } from '../model/host-networking/values';
import type { HostNetworkingStore } from '../store/store';
import { storeFailures } from './attachments';
import { activityFailure } from './failure-mapping';
import type { HostNetworkingContextAnswer, RecordIntentInput, RecordIntentResult, RecordReportInput } from './types';

const HostIdInput = z.object({ hostId: ExternalId }).strict();
const IntentInput = z.object({ hostId: ExternalId, changes: AttachmentChanges, requestedBy: z.string().max(300) }).strict();

export function createHostNetworkingActivities(store: HostNetworkingStore) {
  return {
    /**
     * The host, its cluster with the cluster's networks, every network and the host's attachments. `context`
     * is `null` while the host has reported no interfaces yet (the workflow probes it first). A host the
     * store does not know, or one without a cluster or agent endpoint, is refused for good.
     */
    async loadHostSetupNetworksContext(input: { hostId: string }): Promise<HostNetworkingContextAnswer> {
      return storeFailures('loading the host networking context', async () => {
        const { hostId } = HostIdInput.parse(input);
        const host = await store.hosts.get(hostId);
        if (!host) throw activityFailure(FailureType.STORE_NOT_FOUND, `host ${hostId} is not in the store`);
        if (host.clusterId === null) throw activityFailure(FailureType.STORE_NOT_FOUND, `host ${hostId} is in no cluster`);
        if (host.agentEndpoint === null) throw activityFailure(FailureType.STORE_NOT_FOUND, `host ${hostId} has no agent endpoint`);
        const cluster = await store.clusters.get(host.clusterId);
        if (!cluster) throw activityFailure(FailureType.STORE_NOT_FOUND, `cluster ${host.clusterId} of host ${hostId} is not in the store`);
        const summary = { id: host.id, name: host.name, clusterId: host.clusterId, agentEndpoint: host.agentEndpoint };
        if (host.reportedInterfaces === null) return { host: summary, context: null };
        const context = HostSetupNetworksContext.parse({
          host: { ...host, clusterId: host.clusterId, reportedInterfaces: host.reportedInterfaces },
          cluster,
          clusterNetworks: await store.clusters.listNetworks(cluster.id),
          networks: await store.networks.list(),
          attachments: await store.attachments.listByHost(hostId),
        });
        return { host: summary, context };
      });
    },

    /** Records the interfaces a host reports (from `Host.getCapabilities`) as its last report. */
    async recordReportedInterfaces({ hostId, capabilities }: RecordReportInput): Promise<void> {
      await storeFailures('recording the reported interfaces', async () => {
        await store.hosts.recordReportedInterfaces(HostIdInput.parse({ hostId }).hostId, reportedInterfacesFromCapabilities(capabilities));
      });
    },

    /**
     * Writes a request's rows before it is applied; the snapshot restores them exactly. Recording again under
     * the same `intentKey` changes nothing and returns the first snapshot.
     */
    async recordAttachmentIntent(input: RecordIntentInput, intentKey?: string): Promise<RecordIntentResult> {
      return storeFailures('recording the attachment intent', async () => {
        const { hostId, changes, requestedBy } = IntentInput.parse(input);
        return store.attachments.recordIntent(hostId, changes, { requestedBy, intentKey });
      });
    },

    /** Puts back exactly what `recordAttachmentIntent` changed (idempotent: a retry changes nothing more). */
    async restoreAttachments(snapshot: IntentSnapshot): Promise<{ restored: number; removed: number }> {
      return storeFailures('restoring the attachments', async () => store.attachments.restore(IntentSnapshot.parse(snapshot)));
    },
  };
}
