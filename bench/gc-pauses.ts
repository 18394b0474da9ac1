/**
 * The garbage collector's pauses in this process, recorded for a while and then counted per time window
 * (`performance.now()` times). `bench agent` counts those inside each `Host.setupNetworks` call of its
 * in-process agent: a pause there is time the agent's thread (and the client's, the same process) did not
 * run (docs/performance.md#the-agents-young-generation). Attributed by start time, so nothing waits for the
 * observer's asynchronous delivery.
 */
import { PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';

export interface GcPauses {
  /** The pauses that started within [from, to]: how many, and their total duration (ms). */
  between(from: number, to: number): { count: number; ms: number };
  stop(): void;
}

export function recordGcPauses(): GcPauses {
  const entries: PerformanceEntry[] = [];
  const observer = new PerformanceObserver((list) => entries.push(...list.getEntries()));
  observer.observe({ entryTypes: ['gc'] });
  return {
    between(from, to) {
      entries.push(...observer.takeRecords());
      const inside = entries.filter((e) => e.startTime >= from && e.startTime <= to);
      return { count: inside.length, ms: inside.reduce((sum, e) => sum + e.duration, 0) };
    },
    stop() {
      observer.disconnect();
    },
  };
}
