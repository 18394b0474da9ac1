/**
 * Every workflow the worker registers. Workflow code is sandboxed: only model/ and @temporalio/workflow.
 *
 * Each run loads only the module of its own workflow. The SDK gives every workflow run module state of its
 * own, so a run evaluates afresh every module it imports, zod schemas and all; importing all the workflows
 * here made each run pay for all of them (docs/performance.md#loading-only-the-workflow-that-runs). The
 * wrappers keep each workflow's export name and signature; `webpackMode: "eager"` keeps the module in the one
 * bundle, so the import resolves in a microtask, before the run's first commands, and replays unchanged.
 */
// First: zod reads its settings when a schema is made, and each workflow module makes its schemas.
import './sandbox-zod';

/**
 * A workflow that imports its module when a run of it starts; `load` must be an `import()` with
 * `webpackMode: "eager"` (a literal webpack can see), and `name` the function that module exports.
 */
function whenRun<M, K extends keyof M>(load: () => Promise<M>, name: K): M[K] {
  const run = async (...args: unknown[]): Promise<unknown> => ((await load())[name] as (...a: unknown[]) => Promise<unknown>)(...args);
  return run as M[K];
}

export const installHost = whenRun(() => import(/* webpackMode: "eager" */ './install-host'), 'installHost');
export const hostNetworks = whenRun(() => import(/* webpackMode: "eager" */ './host-networks'), 'hostNetworks');
export const hostSetupNetworks = whenRun(() => import(/* webpackMode: "eager" */ './host-setup-networks'), 'hostSetupNetworks');
export const refreshHostNetworks = whenRun(() => import(/* webpackMode: "eager" */ './refresh-host-networks'), 'refreshHostNetworks');
export const scheduledHostRefresh = whenRun(() => import(/* webpackMode: "eager" */ './refresh-triggers'), 'scheduledHostRefresh');
export const watchHostNetworkEvents = whenRun(() => import(/* webpackMode: "eager" */ './refresh-triggers'), 'watchHostNetworkEvents');
export const syncHostNetworks = whenRun(() => import(/* webpackMode: "eager" */ './sync-host-networks'), 'syncHostNetworks');
