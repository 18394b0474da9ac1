/**
 * Interop with oVirt's real engine-side client (org.ovirt.vdsm-jsonrpc-java:vdsm-jsonrpc-java-client from
 * Maven Central): the probe in test/interop/java-client connects to our agent over mutual TLS like
 * ovirt-engine connects to VDSM, makes calls, and receives an event. Skipped, with the reason printed,
 * when java or mvn is missing.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startVdsmServer, type VdsmServer } from '../../vdsm/server';
import { PROJECT_ROOT } from '../../lib/paths';
import { run, stopChild } from '../../lib/process';
import { JsonRpcCode, VdsmCode } from '../../model/vdsm/error-codes';
import { createTestVerbs, testLogger } from '../vdsm/test-verbs';
import { createTestPki, type TestPki } from '../helpers/pki-fixture';
import { skipBecause } from '../helpers/skip';

const PROBE_DIR = join(PROJECT_ROOT, 'test', 'interop', 'java-client');

function missingTool(): string | null {
  for (const [tool, args] of [
    ['java', ['-version']],
    ['mvn', ['-v']],
  ] as const) {
    const probe = spawnSync(tool, args, { stdio: 'ignore' });
    if (probe.error || probe.status !== 0) return `${tool} is not available (${probe.error?.message ?? `exit ${probe.status}`})`;
  }
  return null;
}

/** Compiles the probe: offline first (a warm ~/.m2), then from Maven Central. Returns the java classpath. */
async function buildProbe(): Promise<string> {
  const offline = await run(['mvn', '-q', '-B', '-o', 'compile'], { cwd: PROBE_DIR, allowFailure: true, timeoutMs: 300_000 });
  if (offline.code !== 0) await run(['mvn', '-q', '-B', 'compile'], { cwd: PROBE_DIR, timeoutMs: 600_000 });
  const dependencies = readFileSync(join(PROBE_DIR, 'target', 'classpath.txt'), 'utf8').trim();
  return [join(PROBE_DIR, 'target', 'classes'), dependencies].join(':');
}

interface ProbeLine {
  step: string;
  result?: unknown;
  error?: { code: number; message: string };
  params?: Record<string, unknown>;
}

/** Runs the probe to completion, publishing an event when it says it is ready; returns its report lines. */
async function runProbe(classpath: string, server: VdsmServer, tlsArgs: string[]): Promise<ProbeLine[]> {
  const child: ChildProcess = spawn(
    'java',
    ['-Dorg.slf4j.simpleLogger.defaultLogLevel=warn', '-cp', classpath, 'org.hostprov.interop.JavaClientProbe', '127.0.0.1', String(server.address.port), ...tlsArgs],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const lines: ProbeLine[] = [];
  const watchdog = setTimeout(() => child.kill('SIGKILL'), 90_000);
  try {
    const exit = new Promise<number | null>((resolvePromise) => child.once('exit', (code) => resolvePromise(code)));
    for await (const text of createInterface({ input: child.stdout! })) {
      if (!text.startsWith('PROBE ')) continue;
      const line = JSON.parse(text.slice('PROBE '.length)) as ProbeLine;
      lines.push(line);
      if (line.step === 'ready') server.publishEvent({ method: '|net|host_conn|no_id', params: {} });
    }
    const code = await exit;
    if (code !== 0) throw new Error(`probe exited with ${code}: ${stderr}`);
    return lines;
  } finally {
    clearTimeout(watchdog);
    await stopChild(child, { timeoutMs: 5000 });
  }
}

function expectEngineLikeSession(lines: ProbeLine[]): void {
  const byStep = new Map(lines.map((line) => [line.step, line]));
  expect(byStep.get('ping2')).toEqual({ step: 'ping2', result: true });
  expect(byStep.get('echo')).toEqual({ step: 'echo', result: { a: 'from java', b: [1, 2] } });
  expect(byStep.get('unknown')?.error?.code).toBe(JsonRpcCode.METHOD_NOT_FOUND);
  expect(byStep.get('vdsmError')?.error).toEqual({ code: VdsmCode.LOST_CONNECTION, message: 'connectivity check failed' });
  expect(byStep.get('event')?.params).toMatchObject({ notify_time: expect.any(Number) });
  expect(byStep.has('no-event')).toBe(false);
  expect(byStep.has('done')).toBe(true);
}

describe.skipIf(skipBecause(missingTool(), 'Java client interop tests'))('oVirt vdsm-jsonrpc-java client against the agent', () => {
  let classpath: string;
  let pki: TestPki;
  const { verbs } = createTestVerbs();

  beforeAll(async () => {
    [classpath, pki] = await Promise.all([buildProbe(), createTestPki()]);
  }, 660_000);
  afterAll(async () => {
    await pki?.cleanup();
  });

  // Over TLS only, as the engine runs in production. The library's plain-TCP client queues SUBSCRIBE,
  // SUBSCRIBE, CONNECT from the calling thread while its reactor thread already writes, and its outbox
  // (peekLast, write, removeLast) can then drop a frame: a lost SUBSCRIBE makes such a test flaky for
  // reasons outside the agent. The frame order it produces is covered in stomp-protocol.test.ts.
  it('calls verbs and receives events over mutual TLS', async () => {
    const server = await startVdsmServer({ listen: { host: '127.0.0.1', port: 0 }, tls: pki.agent, verbs, logger: testLogger() });
    try {
      expectEngineLikeSession(await runProbe(classpath, server, [pki.engine.certFile, pki.engine.keyFile, pki.engine.caFile]));
    } finally {
      await server.close();
    }
  });
});
