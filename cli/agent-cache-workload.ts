/**
 * The workload the build runs the agent through before it writes the agent's V8 code cache
 * (cli/build-main.ts): a boot, then what an install asks of a fresh agent (capabilities, a route lookup, a
 * bridged management network with the connectivity check and its confirmations, the commit). V8 compiles a
 * function on its first call, and a cache written after `agent --help` holds only the modules' top level,
 * so every agent compiled its request paths on its first install (docs/performance.md#the-agents-share-of-an-install).
 *
 * Run it only inside a network namespace of its own (the build starts it under `unshare -rn`): it creates a
 * veth pair there and lets the agent configure it; nothing of it reaches the machine's own network. The
 * agent gets throwaway state and runtime directories and plain TCP on the namespace's loopback.
 *
 * Usage: agent-cache-workload.ts <launcher (dist/hostprov-agent.mjs)> <code cache file to write>
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AGENT_V8_FLAGS, CODE_CACHE_OUT_ENV } from '../lib/agent-launch-files';
import { exited, run } from '../lib/process';
import { withFreshConnection } from '../vdsm/client/client';

const NIC = 'eth0';
const PORT = 54_321;
const ENDPOINT = { host: '127.0.0.1', port: PORT, tls: { insecure: true as const } };
const READY_TIMEOUT_MS = 30_000;

const call = <T = unknown>(method: string, params: Record<string, unknown>): Promise<T> =>
  withFreshConnection(ENDPOINT, (c) => c.call<T>(method, params, { timeoutMs: 30_000 }), { connectTimeoutMs: 2_000 });

async function waitUntilServing(agentExit: Promise<unknown>): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let gone = false;
  void agentExit.then(() => (gone = true));
  for (;;) {
    try {
      await call('Host.ping2', {});
      return;
    } catch (err) {
      if (gone) throw new Error('the agent exited before it served');
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** An install, as the workflow drives a fresh agent (the confirmations over fresh connections). */
async function install(): Promise<void> {
  await call('Host.getCapabilities', {});
  await call('Host.getRoute', { ip: '192.0.2.1' });
  let confirming = true;
  const confirmations = (async () => {
    while (confirming) {
      await call('Host.confirmConnectivity', {}).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  try {
    await call('Host.setupNetworks', {
      networks: {
        ovirtmgmt: {
          nic: NIC,
          bridged: 'true',
          bootproto: 'none',
          ipaddr: '192.0.2.10',
          netmask: '255.255.255.0',
          gateway: '192.0.2.1',
          defaultRoute: 'true',
        },
      },
      bondings: {},
      options: { connectivityCheck: 'true', connectivityTimeout: 10 },
    });
  } finally {
    confirming = false;
    await confirmations;
  }
  await call('Host.getCapabilities', {});
  await call('Host.setSafeNetworkConfig', {});
}

async function main(launcher: string, cacheOut: string): Promise<void> {
  await run(['ip', 'link', 'set', 'lo', 'up']);
  await run(['ip', 'link', 'add', NIC, 'type', 'veth', 'peer', 'name', `${NIC}p`]);
  await run(['ip', 'link', 'set', `${NIC}p`, 'up']);
  await run(['ip', 'addr', 'add', '192.0.2.10/24', 'dev', NIC]);
  await run(['ip', 'link', 'set', NIC, 'up']);
  await run(['ip', 'route', 'add', 'default', 'via', '192.0.2.1', 'dev', NIC]);
  const dir = mkdtempSync(join(tmpdir(), 'hostprov-agent-cache-'));
  try {
    const { NODE_OPTIONS: _ignored, ...inherited } = process.env;
    const agent = spawn(
      process.execPath,
      [
        ...AGENT_V8_FLAGS,
        launcher,
        'agent',
        '--insecure',
        '--listen',
        `127.0.0.1:${PORT}`,
        '--state-dir',
        join(dir, 'state'),
        '--runtime-dir',
        join(dir, 'run'),
      ],
      { env: { ...inherited, [CODE_CACHE_OUT_ENV]: cacheOut, HOSTPROV_LOG_LEVEL: 'error' }, stdio: ['ignore', 'ignore', 'inherit'] },
    );
    const agentExit = exited(agent);
    // The build gives up on a workload after a while (SIGTERM): the agent must not outlive it.
    process.once('SIGTERM', () => {
      agent.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      process.exit(1);
    });
    try {
      await waitUntilServing(agentExit);
      await install();
    } finally {
      agent.kill('SIGTERM');
      await agentExit;
    }
    if (agent.exitCode !== 0) throw new Error(`the agent ended with ${agent.exitCode ?? agent.signalCode}`);
    if (!existsSync(cacheOut)) throw new Error('the agent wrote no code cache');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const [launcher, cacheOut] = process.argv.slice(2);
if (!launcher || !cacheOut) {
  process.stderr.write('usage: agent-cache-workload.ts <launcher> <code cache file>\n');
  process.exit(2);
}
main(launcher, cacheOut).catch((err: unknown) => {
  process.stderr.write(`agent cache workload failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
