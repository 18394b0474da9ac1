/** Bundles workflows/ once (webpack, ~10 s) for the worker, tests and replay. */
import { join } from 'node:path';
import { bundleWorkflowCode, type BundleOptions } from '@temporalio/worker';
import type { Logger } from '../lib/logger';
import { PROJECT_ROOT } from '../lib/paths';
import { FAILURE_CONVERTER_PATH } from '../lib/temporal/data-converter';

// From PROJECT_ROOT, not import.meta.url: the build bundles this module into dist/ (cli/build.ts).
export const WORKFLOWS_PATH = join(PROJECT_ROOT, 'workflows', 'index.ts');
/** Counts installs by outcome through a sink (worker/metrics.ts); every worker registers that sink. */
export const WORKFLOW_INTERCEPTOR_MODULES = [join(PROJECT_ROOT, 'workflows', 'install-metrics.ts')];
/**
 * Evaluated once per worker thread, before any workflow runs, and shared by every run (the SDK's
 * `preloadModules`, which then deep-freezes them): zod, configured for the sandbox. Without it each run
 * evaluated zod's modules again and built its schemas with functions V8 had never run
 * (docs/performance.md#zod-once-per-worker-thread). Only a module without per-run state may be listed here;
 * model/ schemas may not, since zod fills in some of a schema's fields on its first use.
 */
export const PRELOADED_MODULES = [join(PROJECT_ROOT, 'workflows', 'sandbox-zod.ts')];

/** `webpackConfigHook`: a change to webpack's configuration (a test builds the code as it was before a patch). */
export async function bundleWorkflows(log: Logger, { webpackConfigHook }: Pick<BundleOptions, 'webpackConfigHook'> = {}): Promise<string> {
  const started = Date.now();
  const { code } = await bundleWorkflowCode({
    ...(webpackConfigHook ? { webpackConfigHook } : {}),
    workflowsPath: WORKFLOWS_PATH,
    workflowInterceptorModules: WORKFLOW_INTERCEPTOR_MODULES,
    preloadModules: PRELOADED_MODULES,
    // Failure messages raised in workflow code go into payloads too (lib/temporal/failure-converter.cjs).
    failureConverterPath: FAILURE_CONVERTER_PATH,
    logger: {
      log: () => undefined,
      trace: () => undefined,
      debug: (message, meta) => log.debug(meta ?? {}, message),
      info: (message, meta) => log.debug(meta ?? {}, message),
      warn: (message, meta) => log.warn(meta ?? {}, message),
      error: (message, meta) => log.error(meta ?? {}, message),
    },
  });
  log.info({ ms: Date.now() - started, bytes: code.length }, 'workflow bundle built');
  return code;
}
