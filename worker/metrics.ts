/**
 * The worker's own Prometheus metrics (prom-client), beside the SDK's (worker/runtime.ts exports those on
 * a port of their own): installs by outcome, counted when a run ends (through the sink of
 * workflows/install-metrics.ts, never while replaying), and the durations of the apply
 * (`Host.setupNetworks` with its connectivity check) and of each confirmation round trip; the host event
 * watches it runs, against how many it may (worker/host-events-worker.ts).
 */
import type { InjectedSinks } from '@temporalio/worker';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ApplyMetrics } from '../activities/metrics';
import type { HostEventWatchMetrics } from './host-events-worker';
import type { InstallMetricsSinks } from '../model/install-host/metrics-sink';

export class WorkerMetrics implements ApplyMetrics, HostEventWatchMetrics {
  readonly registry = new Registry();
  readonly installs = new Counter({
    name: 'hostprov_installs_total',
    help: 'install-host runs this worker saw end, by outcome (configured, already-configured, skipped-no-route, rolled-back, failed; error: the run itself failed)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly applySeconds = new Histogram({
    name: 'hostprov_apply_duration_seconds',
    help: "Host.setupNetworks from the call to its answer, the host's connectivity check included, by status",
    labelNames: ['status'] as const,
    buckets: [0.1, 0.5, 1, 2, 5, 10, 30, 60, 120],
    registers: [this.registry],
  });
  readonly confirmSeconds = new Histogram({
    name: 'hostprov_confirm_duration_seconds',
    help: 'Round trip of one Host.confirmConnectivity that the host answered',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 3],
    registers: [this.registry],
  });

  readonly hostEventWatches = new Gauge({
    name: 'hostprov_host_event_watches',
    help: "Host event watches this worker runs now (subscribed to their host's agent, or connecting to it)",
    registers: [this.registry],
  });
  readonly hostEventWatchSlots = new Gauge({
    name: 'hostprov_host_event_watch_slots',
    help: 'How many host event watches this worker may run at once (--max-host-event-watches); more wait for a worker with room',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  watchSlots(slots: number): void {
    this.hostEventWatchSlots.set(slots);
  }

  watchStarted(): void {
    this.hostEventWatches.inc();
  }

  watchEnded(): void {
    this.hostEventWatches.dec();
  }

  applyFinished(seconds: number, status: 'applied' | 'rolled-back' | 'failed'): void {
    this.applySeconds.observe({ status }, seconds);
  }

  confirmAnswered(seconds: number): void {
    this.confirmSeconds.observe(seconds);
  }

  /** The sink workflows/install-metrics.ts calls; not called while replaying (the SDK's default). */
  sinks(): InjectedSinks<InstallMetricsSinks> {
    return { installMetrics: { installFinished: { fn: (_info, outcome) => this.installs.inc({ outcome }) } } };
  }
}

/** For workers and replayers that keep no metrics: the sink exists (the bundle calls it) and does nothing. */
export function discardedInstallMetrics(): InjectedSinks<InstallMetricsSinks> {
  return { installMetrics: { installFinished: { fn: () => undefined } } };
}
