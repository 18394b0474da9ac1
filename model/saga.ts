/**
 * What a saga reports beside its outcome, shared by every workflow contract that compensates
 * (workflows/saga.ts runs the compensations). Pure: workflows and contracts import it; in `zod/mini`, as the
 * install-host contract is (model/install-host/contract.ts says why).
 */
import * as z from 'zod/mini';

/** Why something did not succeed: a type to branch on and words for people. */
export const SagaFailure = z.object({ type: z.string(), message: z.string() });
export type SagaFailure = z.infer<typeof SagaFailure>;

export const CompensationStatus = { DONE: 'done', FAILED: 'failed' } as const;
export type CompensationStatus = (typeof CompensationStatus)[keyof typeof CompensationStatus];

/**
 * What compensating did: every compensation ran (`done`), or at least one failed (`failed`, with the first
 * failure; the message counts the others). It never replaces the outcome it compensated.
 */
export const CompensationReport = z.discriminatedUnion('status', [
  z.object({ status: z.literal(CompensationStatus.DONE), failure: z.null() }),
  z.object({ status: z.literal(CompensationStatus.FAILED), failure: SagaFailure }),
]);
export type CompensationReport = z.infer<typeof CompensationReport>;
