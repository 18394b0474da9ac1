/**
 * All activities the hostprov worker registers, built from their dependencies (samples' factory habit).
 * Workflows import only the types (`activities/types.ts`).
 */
import type { AttachmentStore } from '../store/attachment-store';
import type { AgentAccess } from './agent-endpoint';
import { createAttachmentActivities } from './attachments';
import { createHostAgentActivities, type HostAgentDeps } from './host-agent';
import { createSetupNetworksActivity, type ConfirmLoopOptions } from './setup-networks-with-confirm';
import type { InstallHostActivities } from './types';

export interface ActivityDeps {
  store: AttachmentStore;
  /** Secrets root and whether endpoints without TLS are accepted (the worker's flags). */
  access: AgentAccess;
  agent?: HostAgentDeps;
  confirmLoop?: ConfirmLoopOptions;
}

export function createActivities(deps: ActivityDeps): InstallHostActivities {
  return {
    ...createHostAgentActivities(deps.access, deps.agent),
    ...createAttachmentActivities(deps.store),
    setupNetworksWithConfirm: createSetupNetworksActivity(deps.access, deps.confirmLoop),
  };
}
