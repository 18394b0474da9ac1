/**
 * Attach a test file to the run's one Temporal dev server (started by test/setup/temporal.global.ts).
 */
import { inject } from 'vitest';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import '../setup/provided';

export type TemporalTarget = { address: string; namespace: string; workflowBundlePath: string };

/** The shared server, or the reason it is not there (for a printed skip). */
export function temporalTarget(): TemporalTarget | { unavailable: string } {
  return inject('temporal');
}

export function unavailableReason(): string | null {
  const t = temporalTarget();
  return 'unavailable' in t ? `Temporal dev server not started (${t.unavailable})` : null;
}

export async function attachToServer(): Promise<{ env: TestWorkflowEnvironment; target: TemporalTarget }> {
  const target = temporalTarget();
  if ('unavailable' in target) throw new Error(`no Temporal server: ${target.unavailable}`);
  const env = await TestWorkflowEnvironment.createFromExistingServer({ address: target.address, namespace: target.namespace });
  return { env, target };
}

/** The result of a workflow that may not have started yet (a queued change's child, a queued refresh). */
export async function resultOf(client: Client, workflowId: string, timeoutMs = 60_000): Promise<unknown> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await client.workflow.getHandle(workflowId).result();
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError) || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}
