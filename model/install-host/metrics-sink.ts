/**
 * The sink through which install-host runs report their outcome to the worker that runs them
 * (workflows/install-metrics.ts calls it; worker/metrics.ts counts). A sink call adds nothing to a history.
 */

/** What a run that threw (instead of returning a result) counts as. */
export const INSTALL_ERROR_OUTCOME = 'error';

/** A type, not an interface: Temporal's `Sinks` constraint wants the implicit index signature of a type. */
export type InstallMetricsSinks = {
  installMetrics: {
    installFinished: (outcome: string) => void;
  };
};
