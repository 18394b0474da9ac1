/**
 * A test host whose agent is a real `hostprov agent` process inside the host's namespace, as in production,
 * so that a test can `kill -9` it and start it again on the same state and runtime directories (the same
 * boot) or on a fresh runtime directory (a new boot). Namespaces and NICs are those of `createAgentHost`.
 *
 * The test reaches the agent over a control veth with IPv6 link-local addresses (`fe80::1` here, `fe80::2` as
 * `ctl0` in the host): link-local addresses are scoped to their link, so parallel tests cannot collide in the
 * root namespace, and the agent models only global addresses, so nothing it plans touches the control link.
 * The agent listens on every address of the host, so a client in the manager namespace reaches it through
 * `eth0` as a real manager would.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLinuxBackend } from '../../agent/backend/linux-backend';
import { journalFile, readJournal, type JournalRecord } from '../../agent/network/journal';
import { pausedMarkerFile, TEST_PAUSE_ENV, type PausePoint } from '../../agent/network/test-pause';
import { PendingTransactionStore, type TransactionRecord } from '../../agent/persistence/pending-transaction';
import { withFreshConnection, type AgentClient } from '../../vdsm/client/client';
import type { AgentEndpointInput } from '../../vdsm/client/endpoint';
import type { LeafFiles } from '../../lib/pki';
import { getLogger } from '../../lib/logger';
import { PROJECT_ROOT } from '../../lib/paths';
import { exited, run } from '../../lib/process';
import type { KernelState } from '../../model/net-state';
import { VDSM_PORT } from '../../model/vdsm/port';
import { addVethPair, uniqueToken, type Netns } from '../../testbed/netns';
import { createHostNamespaces } from './agent-host';

const CONTROL = { outside: 'fe80::1', inside: 'fe80::2', insideName: 'ctl0' };

export interface AgentProcessHost {
  host: Netns;
  manager: Netns;
  stateDir: string;
  /** Where the agent serves, over the control link (insecure unless the host was made with `tls`). */
  endpoint: AgentEndpointInput & { port: number };
  /** The runtime directory of the current boot. */
  readonly runtimeDir: string;
  /**
   * Starts the agent and resolves once it serves (`Host.ping2` answers, so a boot restore is over).
   * `newBoot`: a fresh runtime directory, as after a reboot. `pauseAt`: the test-only pause point.
   * `extraArgs`: more `hostprov agent` flags. `program`: another `hostprov` (an installed one) instead of
   * the checkout's bin/hostprov. `wrap`: a command run inside the namespace that ends by exec'ing the
   * agent's argv, given as its trailing arguments (e.g. `unshare` with limits of its own). `env`: more
   * environment variables for the agent.
   */
  start(options?: {
    newBoot?: boolean;
    env?: Readonly<Record<string, string>>;
    pauseAt?: PausePoint;
    extraArgs?: readonly string[];
    program?: string;
    wrap?: readonly string[];
  }): Promise<void>;
  /** The pid `ip netns exec` started (the agent, once every wrapper exec'd it); null before the first start. */
  readonly pid: number | null;
  /** Resolves when the agent stopped at `point` (it created the marker file). */
  waitForPause(point: PausePoint): Promise<void>;
  /** `kill -9` of the agent process; resolves once it is gone. */
  kill(): Promise<void>;
  /** One call over a fresh connection. */
  call<T = unknown>(method: string, params: Record<string, unknown>, options?: { id?: string; timeoutMs?: number }): Promise<T>;
  /** Sends confirmConnectivity every 200 ms over fresh connections (as the workflow does) until stopped. */
  confirmContinuously(): () => Promise<void>;
  kernel(): Promise<KernelState>;
  journal(): JournalRecord[];
  /** The agent's transaction record, as it is on disk. */
  transaction(): TransactionRecord | null;
  /** Everything the agent process wrote to stderr (its log), for failure messages. */
  log(): string;
  close(): Promise<void>;
}

export interface AgentProcessHostOptions {
  /**
   * Mutual TLS instead of `--insecure`: the agent serves with `agent`; the test's own calls use `client` and
   * verify the agent's certificate for `serverName` (the control link's address is in no certificate).
   */
  tls?: { agent: LeafFiles; client: LeafFiles; serverName: string };
}

export async function createAgentProcessHost(options: AgentProcessHostOptions = {}): Promise<AgentProcessHost> {
  const token = uniqueToken();
  const { host, manager } = await createHostNamespaces(token);
  const dir = mkdtempSync(join(tmpdir(), 'hostprov-agent-process-'));
  const outside = `hpc${token}`;
  try {
    await addVethPair({ ns: null, name: outside }, { ns: host, name: CONTROL.insideName });
    await run(['ip', 'addr', 'add', `${CONTROL.outside}/64`, 'dev', outside, 'nodad']);
    await run(['ip', 'link', 'set', outside, 'up']);
    await host.ip(['addr', 'add', `${CONTROL.inside}/64`, 'dev', CONTROL.insideName, 'nodad']);
    await host.ip(['link', 'set', CONTROL.insideName, 'up']);
  } catch (err) {
    await host.destroy();
    await manager.destroy();
    throw err;
  }

  const stateDir = join(dir, 'state');
  const logFile = join(dir, 'agent.log');
  const { tls } = options;
  const endpoint = {
    host: `${CONTROL.inside}%${outside}`,
    port: VDSM_PORT,
    tls: tls ? { ...tls.client, serverName: tls.serverName } : { insecure: true as const },
  };
  const tlsFlags = tls ? ['--tls-cert', tls.agent.certFile, '--tls-key', tls.agent.keyFile, '--tls-ca', tls.agent.caFile] : ['--insecure'];
  const reader = createLinuxBackend({ netns: host.name, runtimeDir: join(dir, 'reader'), log: getLogger('agent-process-test') });
  let boot = 0;
  let child: ChildProcess | null = null;
  const runtimeDir = () => join(dir, `run-${boot}`);

  const call = <T>(method: string, params: Record<string, unknown>, options: { id?: string; timeoutMs?: number } = {}): Promise<T> =>
    withFreshConnection(endpoint, (c: AgentClient) => c.call<T>(method, params, { timeoutMs: 120_000, ...options }), {
      connectTimeoutMs: 2_000,
    });

  async function waitUntil(what: string, ready: () => Promise<boolean> | boolean, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await ready())) {
      if (child && child.exitCode !== null) throw new Error(`the agent exited while waiting for ${what}:\n${tail()}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${tail()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  function tail(): string {
    return existsSync(logFile) ? readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-20).join('\n') : '(no agent log)';
  }

  return {
    host,
    manager,
    stateDir,
    endpoint,
    get runtimeDir() {
      return runtimeDir();
    },
    get pid() {
      return child?.pid ?? null;
    },
    async start(options = {}) {
      if (child && child.exitCode === null && child.signalCode === null) throw new Error('the agent is still running');
      if (options.newBoot) boot += 1;
      mkdirSync(runtimeDir(), { recursive: true });
      const log = openSync(logFile, 'a');
      const env: NodeJS.ProcessEnv = { ...process.env, HOSTPROV_LOG_FORMAT: 'json', HOSTPROV_LOG_LEVEL: 'info', ...options.env };
      delete env[TEST_PAUSE_ENV];
      if (options.pauseAt) env[TEST_PAUSE_ENV] = options.pauseAt;
      const argv = [
        options.program ?? join(PROJECT_ROOT, 'bin', 'hostprov'),
        'agent',
        '--listen',
        `[::]:${VDSM_PORT}`,
        ...tlsFlags,
        '--state-dir',
        stateDir,
        '--runtime-dir',
        runtimeDir(),
        ...(options.extraArgs ?? []),
      ];
      try {
        child = spawn('ip', ['netns', 'exec', host.name, ...(options.wrap ?? []), ...argv], {
          stdio: ['ignore', 'ignore', log],
          env,
          cwd: PROJECT_ROOT,
        });
      } finally {
        closeSync(log);
      }
      child.on('error', () => undefined);
      await waitUntil('the agent to serve', () =>
        call('Host.ping2', {}, { timeoutMs: 2_000 }).then(
          () => true,
          () => false,
        ),
      );
    },
    waitForPause: (point) => waitUntil(`the agent to pause at ${point}`, () => existsSync(pausedMarkerFile(runtimeDir(), point))),
    async kill() {
      if (!child || child.exitCode !== null || child.signalCode !== null) throw new Error('the agent is not running');
      const gone = exited(child);
      child.kill('SIGKILL');
      await gone;
    },
    call,
    confirmContinuously() {
      let stopped = false;
      const loop = (async () => {
        while (!stopped) {
          await call('Host.confirmConnectivity', {}, { timeoutMs: 2_000 }).catch(() => undefined);
          await new Promise((r) => setTimeout(r, 200));
        }
      })();
      return async () => {
        stopped = true;
        await loop;
      };
    },
    kernel: () => reader.read(),
    journal: () => readJournal(journalFile(stateDir)),
    transaction: () => new PendingTransactionStore(runtimeDir()).load(),
    log: () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : ''),
    async close() {
      if (child && child.exitCode === null && child.signalCode === null) {
        const gone = exited(child);
        child.kill('SIGKILL');
        await gone;
      }
      reader.close();
      await host.destroy();
      await manager.destroy();
      await run(['ip', 'link', 'del', 'dev', outside], { allowFailure: true });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
