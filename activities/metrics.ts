/**
 * What the activities report to the worker's metrics (worker/metrics.ts implements it with prom-client;
 * activities stay free of the metrics library).
 */

export interface ApplyMetrics {
  /** `Host.setupNetworks` answered (or failed): seconds from the call to its answer, the host's check included. */
  applyFinished(seconds: number, status: 'applied' | 'rolled-back' | 'failed'): void;
  /** One `Host.confirmConnectivity` answered: its round trip in seconds. */
  confirmAnswered(seconds: number): void;
}

export const NO_APPLY_METRICS: ApplyMetrics = {
  applyFinished: () => undefined,
  confirmAnswered: () => undefined,
};
