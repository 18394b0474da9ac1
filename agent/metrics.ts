/**
 * The agent's Prometheus metrics: every JSON-RPC verb it serves, by method and outcome, with its duration,
 * and Node's process metrics. Served on a listener of their own (`--metrics-listen`), never on the VDSM
 * port: the VDSM port speaks STOMP over mutual TLS, and a scraper has no business there.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { VdsmError } from '../model/vdsm/error-codes';
import type { VerbDefinition } from '../vdsm/verbs';
import { LeaseWatchMode, type LeaseWatchState } from './backend/dhcp/manager';

export const AgentRequestOutcome = { OK: 'ok', ERROR: 'error' } as const;
export type AgentRequestOutcome = (typeof AgentRequestOutcome)[keyof typeof AgentRequestOutcome];

/**
 * How often the event-loop lag histogram samples (prom-client's default is 10 ms). Each sample is a timer
 * that wakes the process: at 10 ms an idle agent woke about 95 times a second and used ~1 % of a core, which
 * adds up with many agents on one machine (the testbed) and is noise on a host. A 100 ms timer still sees
 * every stall that long, for a tenth of the wake-ups (docs/performance.md#starting-the-agent).
 */
export const EVENT_LOOP_MONITORING_PRECISION_MS = 100;

export class AgentMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'hostprov_agent_requests_total',
    help: 'JSON-RPC requests the agent answered, by method and outcome (error: a VDSM error code or a failure)',
    labelNames: ['method', 'outcome', 'code'] as const,
    registers: [this.registry],
  });
  readonly requestSeconds = new Histogram({
    name: 'hostprov_agent_request_duration_seconds',
    help: 'Time the agent took to answer a JSON-RPC request (Host.setupNetworks includes its connectivity check)',
    labelNames: ['method'] as const,
    buckets: [0.005, 0.025, 0.1, 0.5, 1, 5, 30, 120],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: EVENT_LOOP_MONITORING_PRECISION_MS });
  }

  /** Exposes whether the DHCP lease directory is watched (`hostprov_agent_dhcp_lease_watch_up`), read at each scrape. */
  observeLeaseWatch(state: () => LeaseWatchState): void {
    new Gauge({
      name: 'hostprov_agent_dhcp_lease_watch_up',
      help:
        '0 while the kernel refuses the DHCP lease directory watch (usually fs.inotify.max_user_instances used up): ' +
        'lease changes are then polled for and announced late; 1 otherwise',
      registers: [this.registry],
      collect() {
        this.set(state().mode === LeaseWatchMode.POLLING ? 0 : 1);
      },
    });
  }

  /** The verbs, each counted and timed. */
  measured(verbs: VerbDefinition[]): VerbDefinition[] {
    return verbs.map((verb) => ({
      ...verb,
      handler: async (params, ctx) => {
        const end = this.requestSeconds.startTimer({ method: verb.method });
        try {
          const result = await verb.handler(params, ctx);
          this.requests.inc({ method: verb.method, outcome: AgentRequestOutcome.OK, code: '0' });
          return result;
        } catch (err) {
          this.requests.inc({
            method: verb.method,
            outcome: AgentRequestOutcome.ERROR,
            code: err instanceof VdsmError ? String(err.code) : 'internal',
          });
          throw err;
        } finally {
          end();
        }
      },
    }));
  }
}
