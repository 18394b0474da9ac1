/** Bundles workflows/ once (webpack, ~10 s) for the worker, tests and replay. */
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { Logger } from '../lib/logger';
import { FAILURE_CONVERTER_PATH } from '../lib/temporal/data-converter';

export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));
/** Counts installs by outcome through a sink (worker/metrics.ts); every worker registers that sink. */
export const WORKFLOW_INTERCEPTOR_MODULES = [fileURLToPath(new URL('../workflows/install-metrics.ts', import.meta.url))];

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
