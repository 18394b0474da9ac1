/**
 * A workflow that drives workflows/saga.ts directly, for test/workflows/saga.test.ts: it registers the
 * compensations a script asks for, ends the way the script says, and records what ran. Bundled by that test
 * only (it is no part of the worker's workflows).
 */
import { ApplicationFailure, condition, defineQuery, setHandler, sleep } from '@temporalio/workflow';
import { runSaga, SagaStop, type SagaEnd } from '../../../workflows/saga';

export interface SagaScript {
  /** One entry per compensation, registered in this order: its name, and whether it fails (`final` ones are not recorded). */
  compensations: Array<{ name: string; fails?: 'recorded' | 'thrown' }>;
  /** How the body ends: success, a stop, an error, or waiting until the workflow is cancelled. */
  end: 'success' | 'stop' | 'error' | 'wait-for-cancel';
}

export const ranQuery = defineQuery<string[]>('ran');

export async function sagaProbe(script: SagaScript): Promise<SagaEnd<string>> {
  const ran: string[] = [];
  setHandler(ranQuery, () => ran);
  return runSaga<string>(
    async (saga) => {
      for (const c of script.compensations) {
        saga.register(async (why) => {
          // A timer: in a cancelled workflow it would throw unless the compensation runs non-cancellably.
          await sleep(10);
          ran.push(`${c.name}${why ? ` (${why.type})` : ''}`);
          // An ApplicationFailure, as a failed activity is: thrown out of the workflow, it fails the execution.
          if (c.fails) throw ApplicationFailure.create({ type: 'CompensationFailed', message: `${c.name} failed ${c.fails}` });
        });
      }
      if (script.end === 'stop') throw new SagaStop('rolled-back', { type: 'ConnectivityCheckFailed', message: 'host rolled back' });
      if (script.end === 'error') throw new Error('a step failed');
      if (script.end === 'wait-for-cancel') await condition(() => false);
      return 'configured';
    },
    {
      failedOutcome: 'failed',
      failureOf: (err) => ({
        type: err instanceof ApplicationFailure ? (err.type ?? 'ApplicationFailure') : err instanceof Error ? err.name : 'Error',
        message: err instanceof Error ? err.message : String(err),
      }),
      // "thrown" failures stand for a workflow that must keep an old behaviour on replay.
      recordsFailedCompensation: () => !script.compensations.some((c) => c.fails === 'thrown'),
    },
  );
}
