/** The Temporal side of the benchmarks: a headless dev server, and the workflow bundle their workers load. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { prebuiltWorkflowBundle } from '../lib/build-info';
import type { Logger } from '../lib/logger';
import { freePorts } from '../lib/ports';
import { startDevServer, type RunningDevServer } from '../lib/temporal/dev-server';
import { bundleWorkflows } from '../worker/bundle';
import type { Teardown } from './teardown';

/** A headless dev server on a SQLite file under `dir`, stopped on teardown. */
export async function startBenchServer(dir: string, teardown: Teardown, log: Logger): Promise<RunningDevServer> {
  const [port, httpPort, metricsPort] = (await freePorts(3)) as [number, number, number];
  const server = await startDevServer({ dataDir: join(dir, 'temporal'), port, httpPort, metricsPort, uiPort: null }, log);
  teardown.add('Temporal dev server', () => server.stop());
  return server;
}

/** The build's workflow bundle when this runs from the build (as a production worker does), else one bundled now into `dir`. */
export async function benchWorkflowBundle(dir: string, log: Logger): Promise<string> {
  const prebuilt = prebuiltWorkflowBundle();
  if (prebuilt) return prebuilt;
  const path = join(dir, 'workflow-bundle.js');
  writeFileSync(path, await bundleWorkflows(log));
  return path;
}
