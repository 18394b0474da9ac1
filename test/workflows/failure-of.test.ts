/**
 * How a failure reads in a result (workflows/saga.ts `failureOf`): the typed failure under Temporal's
 * wrappers, not the context its own causes carry. The real path is shown end to end by
 * test/workflows/host-networks-failures.test.ts; this pins each shape of the chain.
 */
import { ActivityFailure, ApplicationFailure, CancelledFailure, ChildWorkflowFailure, RetryState } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { failureOf } from '../../workflows/saga';

const typed = (type: string, message: string, cause?: Error) => ApplicationFailure.create({ type, message, cause });
const activity = (cause: Error) =>
  new ActivityFailure('activity failed', 'recordAttachments', '7', RetryState.NON_RETRYABLE_FAILURE, 'w', cause);
const child = (cause: Error) =>
  new ChildWorkflowFailure('default', { workflowId: 'c', runId: 'r' }, 'hostSetupNetworks', RetryState.NON_RETRYABLE_FAILURE, cause);

describe('failureOf', () => {
  it("an activity failure reads as the typed failure it carries, not as that failure's cause", () => {
    const original = ApplicationFailure.create({ message: 'duplicate key value' });
    expect(failureOf(activity(typed('StoreConstraintError', 'recording attachments: refused', original)))).toEqual({
      type: 'StoreConstraintError',
      message: 'recording attachments: refused',
    });
  });

  it('a child workflow failure reads through both wrappers', () => {
    expect(failureOf(child(activity(typed('StoreNotFoundError', 'no host h1'))))).toEqual({
      type: 'StoreNotFoundError',
      message: 'no host h1',
    });
  });

  it('without a typed failure under the wrappers, the innermost cause says what happened', () => {
    expect(failureOf(activity(new CancelledFailure('cancelled')))).toEqual({ type: 'CancelledFailure', message: 'cancelled' });
    expect(failureOf(new Error('plain'))).toEqual({ type: 'Error', message: 'plain' });
    expect(failureOf('a string')).toEqual({ type: 'Error', message: 'a string' });
  });
});
