/**
 * Every workflow the worker registers. Workflow code is sandboxed: only model/ and @temporalio/workflow.
 *
 * Each run loads only the module of its own workflow. The SDK gives every workflow run module state of its
 * own, so a run evaluates afresh every module it imports, zod schemas and all; importing all the workflows
 * here made each run pay for all of them (docs/performance.md#loading-only-the-workflow-that-runs). The
 * wrappers keep each workflow's name and signature; `webpackMode: "eager"` keeps the module in the one
 * bundle, so the import resolves in a microtask, before the run's first commands, and replays unchanged.
 */
import type * as HostNetworks from './host-networks';
import type * as HostSetupNetworks from './host-setup-networks';
import type * as InstallHost from './install-host';
import type * as RefreshHostNetworks from './refresh-host-networks';
import type * as RefreshTriggers from './refresh-triggers';
import type * as SyncHostNetworks from './sync-host-networks';

type Workflow<F extends (...args: never[]) => unknown> = (...args: Parameters<F>) => ReturnType<F>;

export const installHost: Workflow<typeof InstallHost.installHost> = async (...args) =>
  (await import(/* webpackMode: "eager" */ './install-host')).installHost(...args);

export const hostNetworks: Workflow<typeof HostNetworks.hostNetworks> = async (...args) =>
  (await import(/* webpackMode: "eager" */ './host-networks')).hostNetworks(...args);

export const hostSetupNetworks: Workflow<typeof HostSetupNetworks.hostSetupNetworks> = async (...args) =>
  (await import(/* webpackMode: "eager" */ './host-setup-networks')).hostSetupNetworks(...args);

export const refreshHostNetworks: Workflow<typeof RefreshHostNetworks.refreshHostNetworks> = async (...args) =>
  (await import(/* webpackMode: "eager" */ './refresh-host-networks')).refreshHostNetworks(...args);

export const scheduledHostRefresh: Workflow<typeof RefreshTriggers.scheduledHostRefresh> = async (...args) =>
  (await import(/* webpackMode: "eager" */ './refresh-triggers')).scheduledHostRefresh(...args);

export const watchHostNetworkEvents: Workflow<typeof RefreshTriggers.watchHostNetworkEvents> = async (...args) =>
  (await import(/* webpackMode: "eager" */ './refresh-triggers')).watchHostNetworkEvents(...args);

export const syncHostNetworks: Workflow<typeof SyncHostNetworks.syncHostNetworks> = async (...args) =>
  (await import(/* webpackMode: "eager" */ './sync-host-networks')).syncHostNetworks(...args);
