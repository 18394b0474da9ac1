/**
 * A saga in workflow code: steps register how to undo what they changed outside the workflow; the saga
 * ends in exactly one of three ways, and compensates in exactly one place.
 *
 * - The body returns its outcome: success, the registered compensations are dropped.
 * - A step throws a {@link SagaStop}: an outcome the step decided (the host refused, rolled back, did not
 *   verify). Not an error: it carries the outcome and why.
 * - Anything else is thrown: an error no step turned into an outcome; it ends with `failedOutcome`.
 *
 * In the last two cases the compensations run, newest first, in a non-cancellable scope (a cancelled
 * workflow still undoes what it did). A compensation that fails does not stop the ones registered before
 * it, and does not fail the workflow: its failure is returned beside the outcome, which it never replaces.
 * A cancellation is compensated the same way and then thrown on.
 *
 * Workflow-sandbox code: deterministic, no I/O of its own.
 */
import { ActivityFailure, ApplicationFailure, CancellationScope, ChildWorkflowFailure, isCancellation } from '@temporalio/workflow';
import { CompensationStatus, type CompensationReport, type SagaFailure } from '../model/saga';

/** A step's decision to end the saga with `outcome` (e.g. "the host rolled back"), thrown to the one place that ends it. */
export class SagaStop<Outcome extends string = string> extends Error {
  override readonly name = 'SagaStop';
  constructor(
    readonly outcome: Outcome,
    readonly failure: SagaFailure | null = null,
  ) {
    super(failure ? `${outcome}: ${failure.type}: ${failure.message}` : outcome);
  }
}

/** How the saga ended. `compensation` is `null` when there was nothing to undo (or it succeeded without undo). */
export interface SagaEnd<Outcome extends string> {
  outcome: Outcome;
  failure: SagaFailure | null;
  compensation: CompensationReport | null;
}

/** One undo. It learns why it runs (the saga's failure), e.g. to say so in a step summary. */
export type Compensation = (why: SagaFailure | null) => Promise<unknown>;

export interface SagaOptions<Outcome extends string> {
  /** The outcome of an error that no step turned into a {@link SagaStop}. */
  failedOutcome: Outcome;
  /** How a thrown error (or a failed compensation) reads in the result. */
  failureOf(err: unknown): SagaFailure;
  /**
   * Whether a failed compensation is recorded (`true`, the rule) or thrown out of the saga. Only for a
   * workflow that must keep replaying executions recorded while a failed compensation still failed them
   * (answer with a `patched()` check). @default () => true
   */
  recordsFailedCompensation?(end: { outcome: Outcome; failure: SagaFailure | null; stopped: boolean; cancelled: boolean }): boolean;
}

/** The compensation stack of one saga run. */
export class Saga {
  private readonly undo: Compensation[] = [];

  /** Registers how to undo a change that just happened; undone newest first. */
  register(compensation: Compensation): void {
    this.undo.push(compensation);
  }

  /** How many compensations would run now. */
  get pending(): number {
    return this.undo.length;
  }

  /** Runs and forgets every registered compensation, newest first, none of them cancellable. */
  async compensate(
    why: SagaFailure | null,
    failureOf: (err: unknown) => SagaFailure,
    rethrow: (err: unknown) => boolean,
  ): Promise<CompensationReport | null> {
    if (!this.undo.length) return null;
    const failures: SagaFailure[] = [];
    await CancellationScope.nonCancellable(async () => {
      for (const compensation of this.undo.splice(0).reverse()) {
        try {
          await compensation(why);
        } catch (err) {
          if (rethrow(err)) throw err;
          failures.push(failureOf(err));
        }
      }
    });
    const [first, ...more] = failures;
    if (!first) return { status: CompensationStatus.DONE, failure: null };
    const others = more.length ? ` (and ${more.length} more: ${more.map((f) => f.type).join(', ')})` : '';
    return { status: CompensationStatus.FAILED, failure: { type: first.type, message: `${first.message}${others}` } };
  }
}

/**
 * Runs `body` as a saga and returns how it ended; compensates (see the file comment) when it did not
 * succeed. Throws only a cancellation (after compensating), or a failed compensation where
 * `recordsFailedCompensation` says so.
 */
export async function runSaga<Outcome extends string>(
  body: (saga: Saga) => Promise<Outcome>,
  options: SagaOptions<Outcome>,
): Promise<SagaEnd<Outcome>> {
  const saga = new Saga();
  let outcome: Outcome;
  let failure: SagaFailure | null;
  let cancellation: unknown = null;
  let stopped = false;
  try {
    return { outcome: await body(saga), failure: null, compensation: null };
  } catch (err) {
    if (err instanceof SagaStop) {
      outcome = err.outcome as Outcome;
      failure = err.failure;
      stopped = true;
    } else {
      outcome = options.failedOutcome;
      failure = options.failureOf(err);
      if (isCancellation(err)) cancellation = err;
    }
  }
  const end = { outcome, failure, stopped, cancelled: cancellation !== null };
  const records = options.recordsFailedCompensation ?? (() => true);
  const compensation = await saga.compensate(failure, options.failureOf, () => !records(end));
  if (cancellation !== null) throw cancellation;
  return { outcome, failure, compensation };
}

/**
 * How a thrown error reads in a result: the typed failure it carries, its failure type and message.
 * Temporal wraps what a step raised (ActivityFailure; ChildWorkflowFailure around a child's) around the
 * ApplicationFailure whose type names the error, e.g. `StoreNotFoundError`. That failure's own causes are
 * context, not the answer: an original error passed as its cause arrives as a bare TemporalFailure. Without
 * an ApplicationFailure under the wrappers (a cancellation, a timeout), the innermost cause says what
 * happened. Only results depend on this, never a command.
 */
export function failureOf(err: unknown): SagaFailure {
  let cause: unknown = err;
  while ((cause instanceof ChildWorkflowFailure || cause instanceof ActivityFailure) && cause.cause) cause = cause.cause;
  if (cause instanceof ApplicationFailure) return { type: cause.type ?? 'ApplicationFailure', message: cause.message };
  while (cause instanceof Error && 'cause' in cause && cause.cause) cause = cause.cause;
  if (cause instanceof ApplicationFailure) return { type: cause.type ?? 'ApplicationFailure', message: cause.message };
  if (cause instanceof Error) return { type: cause.name, message: cause.message };
  return { type: 'Error', message: String(cause) };
}
