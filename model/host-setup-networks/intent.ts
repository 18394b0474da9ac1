/**
 * planIntent: the attachment rows a valid request writes, in the store's `recordIntent` shape
 * (model/host-networking/intent.ts). The workflow records them before it calls the host and restores the
 * store's snapshot when the host rolls back or a later step fails. The upserts are the attachments the
 * payload configures (`attachmentsToConfigure`), so a default-route move also rewrites the previous
 * holder, without its IPv6 gateway, as the engine persists it; the removals are the removed attachments.
 */
import type { AttachmentChanges } from '../host-networking/intent';
import type { CompletedRequest } from './complete';
import { attachmentsToConfigure } from './configure';
import { indexContext, type HostSetupNetworksContext } from './context';

/** What to write for a request `validateHostSetupNetworks` accepted. New attachments carry no id: the store gives them one. */
export function planIntent(request: CompletedRequest, context: HostSetupNetworksContext): AttachmentChanges {
  const upserts = attachmentsToConfigure(request, indexContext(context)).map((a) => ({
    ...(a.id === null ? {} : { id: a.id }),
    networkId: a.network.id,
    nicName: a.nicName,
    ipConfiguration: a.ipConfiguration,
    properties: a.properties,
    qos: a.qos,
    dns: a.dns,
  }));
  return { upserts, removals: [...request.removedAttachments] };
}
