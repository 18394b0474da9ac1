/**
 * All activities the hostprov worker registers, built from their dependencies (samples' factory habit).
 * Workflows import only the types (`activities/types.ts`).
 */
import type { HostNetworkingStore } from '../store/store';
import { createAttachmentActivities } from './attachments';
import { createHostAgentActivities, type HostAgentDeps } from './host-agent';
import { createSetupNetworksActivity, type ConfirmLoopOptions } from './setup-networks-with-confirm';
import type { InstallHostActivities } from './types';

export interface ActivityDeps {
  store: HostNetworkingStore;
  agent?: HostAgentDeps;
  confirmLoop?: ConfirmLoopOptions;
}

export function createActivities(deps: ActivityDeps): InstallHostActivities {
  return {
    ...createHostAgentActivities(deps.agent),
    ...createAttachmentActivities(deps.store),
    setupNetworksWithConfirm: createSetupNetworksActivity({ ...deps.confirmLoop, ...(deps.agent?.runtimeDir ? { runtimeDir: deps.agent.runtimeDir } : {}) }),
  };
}
