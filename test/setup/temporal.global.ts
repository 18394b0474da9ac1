/**
 * Vitest global setup: ONE real Temporal dev server (the binary built into .tools/) and ONE workflow bundle
 * for the whole run, torn down even when tests fail. Test files attach with `createFromExistingServer`
 * (see test/helpers/temporal.ts).
 *
 * `HOSTPROV_TEST_TEMPORAL=off` skips both (for quick iterations on agent/model tests); tests that need
 * Temporal then skip with a printed reason.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import './provided';
import { getLogger } from '../../lib/logger';
import { freePorts } from '../../lib/ports';
import { startDevServer, type RunningDevServer } from '../../lib/temporal/dev-server';
import { bundleWorkflows } from '../../worker/bundle';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (process.env.HOSTPROV_TEST_TEMPORAL === 'off') {
    project.provide('temporal', { unavailable: 'HOSTPROV_TEST_TEMPORAL=off' });
    return async () => undefined;
  }
  const log = getLogger('test-setup');
  const dir = mkdtempSync(join(tmpdir(), 'hostprov-test-'));
  let server: RunningDevServer | undefined;
  try {
    const [port, httpPort, metricsPort] = (await freePorts(3)) as [number, number, number];
    server = await startDevServer({ dataDir: dir, port, httpPort, metricsPort, uiPort: null }, log);
    const code = await bundleWorkflows(log);
    const workflowBundlePath = join(dir, 'workflow-bundle.js');
    writeFileSync(workflowBundlePath, code);
    project.provide('temporal', { address: server.address, namespace: server.namespace, workflowBundlePath });
  } catch (err) {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  };
}
