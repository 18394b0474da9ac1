/**
 * Routes the Temporal SDK's own logs (core + worker) into our structured logger, once per process, and
 * exports the SDK's runtime metrics (task latencies, poll results, slots, sticky cache) to Prometheus when
 * asked. The runtime is installed once; the first caller's options win.
 */
import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';
import { getLogger } from '../lib/logger';

let installed = false;

export interface TemporalRuntimeOptions {
  /** Serve the SDK's metrics for Prometheus at `host:port/metrics`. @default no SDK metrics endpoint */
  sdkMetricsListen?: { host: string; port: number };
}

export function installTemporalRuntime(options: TemporalRuntimeOptions = {}): void {
  if (installed) return;
  installed = true;
  const log = getLogger('temporal');
  const level = (process.env.HOSTPROV_TEMPORAL_LOG_LEVEL ?? 'WARN').toUpperCase() as LogLevel;
  Runtime.install({
    // Our commands handle SIGINT/SIGTERM themselves and shut workers down in order; the SDK's default would
    // stop workers behind their back (a command waiting on a workflow result would then wait forever).
    shutdownSignals: [],
    logger: new DefaultLogger(level, (entry) => {
      const meta = { ...(entry.meta ?? {}) };
      const fn = entry.level === 'ERROR' ? log.error : entry.level === 'WARN' ? log.warn : entry.level === 'INFO' ? log.info : log.debug;
      fn.call(log, meta, entry.message);
    }),
    telemetryOptions: {
      logging: { forward: {}, filter: { core: level, other: level } },
      ...(options.sdkMetricsListen
        ? {
            metrics: {
              prometheus: {
                bindAddress: formatHostPort(options.sdkMetricsListen),
                countersTotalSuffix: true,
                useSecondsForDurations: true,
              },
            },
          }
        : {}),
    },
  });
}

function formatHostPort({ host, port }: { host: string; port: number }): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
