/**
 * Workflow interceptor module (bundled with the workflows, worker/bundle.ts): when an install-host run
 * ends, it tells the worker the outcome through a sink, so the worker counts installs by outcome
 * (worker/metrics.ts). A sink call adds nothing to the history: replay is unaffected, and the worker does
 * not call the sink while replaying, so an install is counted once however often it is replayed.
 */
import {
  proxySinks,
  workflowInfo,
  type Next,
  type WorkflowExecuteInput,
  type WorkflowInboundCallsInterceptor,
  type WorkflowInterceptorsFactory,
} from '@temporalio/workflow';
import type { InstallHostResult } from '../model/install-host/contract';
import { INSTALL_ERROR_OUTCOME, type InstallMetricsSinks } from '../model/install-host/metrics-sink';

const { installMetrics } = proxySinks<InstallMetricsSinks>();

class InstallOutcomeInterceptor implements WorkflowInboundCallsInterceptor {
  async execute(input: WorkflowExecuteInput, next: Next<WorkflowInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    if (workflowInfo().workflowType !== 'installHost') return next(input);
    let result: unknown;
    try {
      result = await next(input);
    } catch (err) {
      installMetrics.installFinished(INSTALL_ERROR_OUTCOME);
      throw err;
    }
    installMetrics.installFinished((result as InstallHostResult | undefined)?.outcome ?? INSTALL_ERROR_OUTCOME);
    return result;
  }
}

export const interceptors: WorkflowInterceptorsFactory = () => ({ inbound: [new InstallOutcomeInterceptor()] });
