import type { PlanOp } from '../../../net-state';
import type { MergedState } from '../merge';

/**
 * What one phase contributes to a plan: the ops that take down what must go (run top of the stack first)
 * and the ops that build what is wanted (run bottom first). See `../index.ts` for the order.
 */
export interface PhaseOps {
  readonly teardown: readonly PlanOp[];
  readonly build: readonly PlanOp[];
}

/** A phase decides from the merged record alone. */
export type Phase = (merged: MergedState) => PhaseOps;
