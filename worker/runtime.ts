/** Routes the Temporal SDK's own logs (core + worker) into our structured logger, once per process. */
import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';
import { getLogger } from '../lib/logger';

let installed = false;

export function installTemporalRuntime(): void {
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
    telemetryOptions: { logging: { forward: {}, filter: { core: level, other: level } } },
  });
}
