/**
 * Interop with oVirt's real engine-side client (org.ovirt.vdsm-jsonrpc-java:vdsm-jsonrpc-java-client from
 * Maven Central), over mutual TLS like ovirt-engine connects to VDSM. The probes in test/interop/java-client:
 * - JavaClientProbe makes calls and receives an event from a VDSM server with test verbs;
 * - HostNetworkProbe, run in the manager namespace of a namespaced host whose agent is a real process, does
 *   what the engine does to configure a host network: getCapabilities, a connectivity-checked setupNetworks
 *   while polling confirmConnectivity, setSafeNetworkConfig; and a change that cuts it off, which the host
 *   rolls back (code 10).
 * Skipped, with the reason printed, when java or mvn is missing (and the host-network part without root).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigStore } from '../../agent/persistence/config-store';
import { startVdsmServer } from '../../vdsm/server';
import { PROJECT_ROOT } from '../../lib/paths';
import { ensurePki, type LeafFiles } from '../../lib/pki';
import { run, stopChild } from '../../lib/process';
import { JsonRpcCode, VdsmCode } from '../../model/vdsm/error-codes';
import { VDSM_PORT } from '../../model/vdsm/port';
import { netnsUnavailableReason } from '../../testbed/netns';
import { createTestVerbs, testLogger } from '../vdsm/test-verbs';
import { comparable, MGMT_SUBNET } from '../helpers/agent-host';
import { createAgentProcessHost, type AgentProcessHost } from '../helpers/agent-process';
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
  /** The JSON-RPC request id the probe sent (HostNetworkProbe). */
  id?: string;
  result?: unknown;
  error?: { code: number; message: string };
  params?: Record<string, unknown>;
  /** Host.confirmConnectivity polls sent while setupNetworks was pending, and those answered without error. */
  polls?: number;
  confirmed?: number;
  lastClientIface?: string;
  networks?: Record<string, Record<string, unknown>>;
}

/**
 * Runs a probe class to completion and returns its report lines; `onLine` sees each as it comes.
 * `inNamespace`: run java inside that network namespace (the manager side of a namespaced host).
 */
async function runProbe(
  classpath: string,
  mainClass: string,
  args: string[],
  options: { onLine?: (line: ProbeLine) => void; inNamespace?: string } = {},
): Promise<ProbeLine[]> {
  const java = ['java', '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn', '-cp', classpath, `org.hostprov.interop.${mainClass}`, ...args];
  const [command, ...argv] = options.inNamespace ? ['ip', 'netns', 'exec', options.inNamespace, ...java] : java;
  const child: ChildProcess = spawn(command!, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
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
      options.onLine?.(line);
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

const netnsUnavailable = await netnsUnavailableReason();

/** The network the probe puts on the host, and where the failing change moves its address (off the path). */
const MANAGEMENT_NETWORK = 'ovirtmgmt';
const ELSEWHERE = { address: '198.18.249.10', gateway: '198.18.249.1' };

function stepOf(lines: ProbeLine[], step: string): ProbeLine {
  const line = lines.find((l) => l.step === step);
  if (!line) throw new Error(`the probe reported no ${step}: ${JSON.stringify(lines)}`);
  return line;
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
      const args = ['127.0.0.1', String(server.address.port), pki.engine.certFile, pki.engine.keyFile, pki.engine.caFile];
      const publishWhenReady = (line: ProbeLine) => {
        if (line.step === 'ready') server.publishEvent({ method: '|net|host_conn|no_id', params: {} });
      };
      expectEngineLikeSession(await runProbe(classpath, 'JavaClientProbe', args, { onLine: publishWhenReady }));
    } finally {
      await server.close();
    }
  });

  describe.skipIf(skipBecause(netnsUnavailable, 'Java client host-network tests'))('configuring a host network as the engine does', () => {
    let h: AgentProcessHost;
    let pkiDir: string;
    let engine: LeafFiles;
    /** HostNetworkProbe's arguments up to the network, for a client in the manager namespace. */
    let connectArgs: string[];

    beforeAll(async () => {
      pkiDir = await mkdtemp(join(tmpdir(), 'hostprov-java-pki-'));
      // The agent's certificate names the host's management address, which the Java client connects to.
      const pki = await ensurePki(pkiDir, {
        servers: [{ name: 'agent', ips: [MGMT_SUBNET.host], dnsNames: ['localhost'] }],
        clients: [{ name: 'engine' }],
      });
      engine = pki.client('engine');
      h = await createAgentProcessHost({ tls: { agent: pki.server('agent'), client: engine, serverName: 'localhost' } });
      await h.start();
      connectArgs = [MGMT_SUBNET.host, String(VDSM_PORT), engine.certFile, engine.keyFile, engine.caFile, MANAGEMENT_NETWORK];
    }, 120_000);
    afterAll(async () => {
      await h?.close();
      if (pkiDir) await rm(pkiDir, { recursive: true, force: true });
    });

    const safeNetworks = () => new ConfigStore(h.stateDir).loadSafe()?.networks ?? {};

    it('getCapabilities, setupNetworks kept by its confirmConnectivity polls, setSafeNetworkConfig: the bridge holds the address, one apply, one persist', async () => {
      const lines = await runProbe(classpath, 'HostNetworkProbe', ['apply', ...connectArgs, '20'], { inNamespace: h.manager.name });

      // The engine takes the NIC its connection arrived on as the host's active NIC.
      expect(stepOf(lines, 'capabilities')).toMatchObject({ lastClientIface: 'eth0', networks: {} });
      const setup = stepOf(lines, 'setupNetworks');
      expect(setup.params).toEqual({
        networks: {
          [MANAGEMENT_NETWORK]: {
            nic: 'eth0',
            mtu: 1500,
            bridged: 'true',
            STP: 'no',
            defaultRoute: true,
            switch: 'legacy',
            ipaddr: MGMT_SUBNET.host,
            netmask: '255.255.255.0',
            gateway: MGMT_SUBNET.gateway,
          },
        },
        bondings: {},
        options: { connectivityCheck: 'true', connectivityTimeout: 20, commitOnSuccess: false },
      });
      expect(setup.result).toEqual({ code: 0, message: 'Done' });
      expect(setup.confirmed).toBeGreaterThanOrEqual(1);
      const commit = stepOf(lines, 'setSafeNetworkConfig');
      expect(commit.result).toBe(true);
      expect(lines.at(-1)?.step).toBe('done');

      const kernel = await h.kernel();
      const eth0 = kernel.links.find((l) => l.name === 'eth0');
      expect(kernel.links.find((l) => l.name === MANAGEMENT_NETWORK)).toMatchObject({ kind: 'bridge', mac: eth0?.mac, up: true });
      expect(eth0?.master).toBe(MANAGEMENT_NETWORK);
      expect(kernel.addresses.filter((a) => a.family === 4)).toEqual([
        expect.objectContaining({ dev: MANAGEMENT_NETWORK, address: MGMT_SUBNET.host, prefixLen: MGMT_SUBNET.prefix }),
      ]);

      const changes = h.journal().filter((e) => e.kind !== 'restore');
      expect(changes.map((e) => [e.kind, e.requestId, e.outcome])).toEqual([
        ['apply', setup.id, 'ok'],
        ['persist', commit.id, 'ok'],
      ]);
      expect(safeNetworks()[MANAGEMENT_NETWORK]).toMatchObject({
        nic: 'eth0',
        bridged: true,
        ipaddr: MGMT_SUBNET.host,
        prefix: MGMT_SUBNET.prefix,
        gateway: MGMT_SUBNET.gateway,
        defaultRoute: true,
      });
    });

    it("a change that moves the address off the Java client's path is not confirmed: code 10, the kernel exactly as before, the same session answers again", async () => {
      // The cut moves the address of the management network the test above built; run alone, build it first.
      if (!safeNetworks()[MANAGEMENT_NETWORK])
        await runProbe(classpath, 'HostNetworkProbe', ['apply', ...connectArgs, '20'], { inNamespace: h.manager.name });
      const before = comparable(await h.kernel());
      const safeBefore = safeNetworks();
      const journalBefore = h.journal().length;

      const lines = await runProbe(classpath, 'HostNetworkProbe', ['cut', ...connectArgs, '4', ELSEWHERE.address, ELSEWHERE.gateway], {
        inNamespace: h.manager.name,
      });

      const setup = stepOf(lines, 'setupNetworks');
      expect((setup.params?.networks as Record<string, unknown>)[MANAGEMENT_NETWORK]).toMatchObject({
        nic: 'eth0',
        ipaddr: ELSEWHERE.address,
        gateway: ELSEWHERE.gateway,
      });
      expect(setup.error?.code).toBe(VdsmCode.LOST_CONNECTION);
      // The Java side kept polling while the host waited; none of its polls got through the cut path, or the
      // host would have kept the change.
      expect(setup.polls).toBeGreaterThanOrEqual(1);
      // Once the rollback gave the address back, the session that carried the change answered again.
      expect(stepOf(lines, 'capabilitiesAfter').networks?.[MANAGEMENT_NETWORK]).toMatchObject({
        addr: MGMT_SUBNET.host,
        southbound: 'eth0',
      });

      expect(comparable(await h.kernel())).toEqual(before);
      expect(
        h
          .journal()
          .slice(journalBefore)
          .map((e) => [e.kind, e.requestId, e.outcome, e.detail]),
      ).toEqual([
        ['apply', setup.id, 'ok', undefined],
        // What follows the reason, if anything, is what about the host may explain it (its ARP settings here).
        ['rollback', setup.id, 'ok', expect.stringMatching(/^connectivity check failed(;|$)/)],
      ]);
      expect(safeNetworks()).toEqual(safeBefore);
    });
  });
});
