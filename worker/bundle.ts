/** Bundles workflows/ once (webpack, ~10 s) for the worker, tests and replay. */
import { join } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { Logger } from '../lib/logger';
import { PROJECT_ROOT } from '../lib/paths';
import { FAILURE_CONVERTER_PATH } from '../lib/temporal/data-converter';

// From PROJECT_ROOT, not import.meta.url: the build bundles this module into dist/ (cli/build.ts).
export const WORKFLOWS_PATH = join(PROJECT_ROOT, 'workflows', 'index.ts');
/** Counts installs by outcome through a sink (worker/metrics.ts); every worker registers that sink. */
export const WORKFLOW_INTERCEPTOR_MODULES = [join(PROJECT_ROOT, 'workflows', 'install-metrics.ts')];

export async function bundleWorkflows(log: Logger): Promise<string> {
  const started = Date.now();
  const { code } = await bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    workflowInterceptorModules: WORKFLOW_INTERCEPTOR_MODULES,
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
