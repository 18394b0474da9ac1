/**
 * Vitest global setup: ONE real Temporal dev server (the binary built into .tools/) and ONE workflow bundle
 * for the whole run, torn down even when tests fail. Test files attach with `createFromExistingServer`
 * (see test/helpers/temporal.ts).
 *
 * The bundle is the build's (dist/workflow-bundle.js): setup runs `scripts/build` first (a no-op when dist/ is
 * current), so the suite tests what is shipped, and bin/hostprov in the tests runs the same build.
 * `HOSTPROV_FROM_SOURCE=1` bundles workflows/ here instead and leaves dist/ alone (bin/hostprov then runs tsx).
 *
 * `HOSTPROV_TEST_TEMPORAL=off` skips both (for quick iterations on agent/model tests); tests that need
 * Temporal then skip with a printed reason.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import './provided';
import { WORKFLOW_BUNDLE_PATH } from '../../lib/build-info';
import { getLogger } from '../../lib/logger';
import { PROJECT_ROOT } from '../../lib/paths';
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
    const workflowBundlePath = await workflowBundle(dir, log);
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

async function workflowBundle(dir: string, log: ReturnType<typeof getLogger>): Promise<string> {
  if (process.env.HOSTPROV_FROM_SOURCE === '1') {
    const path = join(dir, 'workflow-bundle.js');
    writeFileSync(path, await bundleWorkflows(log));
    return path;
  }
  execFileSync(join(PROJECT_ROOT, 'scripts', 'build'), { stdio: ['ignore', 'ignore', 'inherit'] });
  return WORKFLOW_BUNDLE_PATH;
}
