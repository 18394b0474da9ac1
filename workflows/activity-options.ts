/**
 * Named activity profiles: an activity's time budget and retry policy show in which profile it sits.
 * Retries never cover the failures the vocabulary marks final (a refusal, a missing secret, a fence agent's
 * verdict): asking again changes nothing.
 */
import type { ActivityOptions, LocalActivityOptions } from '@temporalio/workflow';
import { NON_RETRYABLE_FAILURE_TYPES } from '../model/failures';

const NON_RETRYABLE = [...NON_RETRYABLE_FAILURE_TYPES];

/**
 * How soon an attempt counts as lost when its worker stops heart-beating (a worker killed outright): the
 * activity is then retried on another worker, instead of after its whole start-to-close budget. Activities
 * heartbeat every second while they run (activities/heartbeat.ts).
 */
const HEARTBEAT_TIMEOUT = '10 seconds';

/** One quick RPC to an agent (capabilities, getRoute, setSafeNetworkConfig). */
export const agentCall: ActivityOptions = {
  startToCloseTimeout: '1 minute',
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  retry: {
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '15s',
    maximumAttempts: 5,
    nonRetryableErrorTypes: NON_RETRYABLE,
  },
};

/** Writes to the attachment store. */
export const storeCall: ActivityOptions = {
  startToCloseTimeout: '30 seconds',
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  retry: {
    initialInterval: '500ms',
    backoffCoefficient: 2,
    maximumInterval: '10s',
    maximumAttempts: 10,
    nonRetryableErrorTypes: NON_RETRYABLE,
  },
};

/**
 * Compensating writes to the attachment store: retried until they succeed, however long the database is
 * away (no attempt limit, no overall timeout), so a compensation is never skipped. Only a final refusal
 * (the store's rules, a malformed snapshot) ends it, and the saga reports that beside the outcome.
 */
export const storeCompensation: ActivityOptions = {
  startToCloseTimeout: '30 seconds',
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '5s', nonRetryableErrorTypes: NON_RETRYABLE },
};

/** Polls an agent until it answers; heartbeats every poll, so a dead worker is noticed quickly. */
export function waitForAgentProfile(waitSeconds: number): ActivityOptions {
  return {
    startToCloseTimeout: `${waitSeconds + 60} seconds`,
    heartbeatTimeout: HEARTBEAT_TIMEOUT,
    retry: { initialInterval: '1s', maximumAttempts: 3, nonRetryableErrorTypes: NON_RETRYABLE },
  };
}

/**
 * One `Host.ping2` before waiting for the agent (install-host, run as a local activity): no retries, since
 * an agent that does not answer at once is waited for in an activity (waitForAgentProfile). The budget
 * covers the agent call's own connect and answer timeouts (3 s each).
 */
export const askAgentOnce: ActivityOptions = {
  startToCloseTimeout: '10 seconds',
  retry: { maximumAttempts: 1, nonRetryableErrorTypes: NON_RETRYABLE },
};

/**
 * setupNetworks with the confirm loop. A short heartbeat timeout lets a new worker take over the in-flight
 * request (same request id) well before the host's own rollback timer fires.
 */
export function applyWithConfirmProfile(connectivityTimeoutSeconds: number): ActivityOptions {
  return {
    startToCloseTimeout: `${connectivityTimeoutSeconds + 180} seconds`,
    heartbeatTimeout: '8 seconds',
    retry: {
      initialInterval: '1s',
      backoffCoefficient: 1.5,
      maximumInterval: '5s',
      maximumAttempts: 6,
      nonRetryableErrorTypes: NON_RETRYABLE,
    },
  };
}

/** A fence operation through the proxy host (a reboot takes seconds to minutes). */
export const fence: ActivityOptions = {
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  retry: {
    initialInterval: '5s',
    backoffCoefficient: 2,
    maximumInterval: '30s',
    maximumAttempts: 3,
    nonRetryableErrorTypes: NON_RETRYABLE,
  },
};

/**
 * The same time budget and retries for a step that runs as a local activity: in the worker that runs the
 * workflow task, recorded as one marker, with no activity task to schedule, dispatch and complete through
 * the server. Short steps whose repetition is harmless (reads, an idempotent store write) run this way in
 * install-host; docs/performance.md#local-activities says why. There is no heartbeat: a worker that dies
 * during one loses its workflow task, and the next worker runs the step again.
 */
export function asLocal({ startToCloseTimeout, retry }: ActivityOptions): LocalActivityOptions {
  return { startToCloseTimeout, retry };
}
