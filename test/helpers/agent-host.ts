/**
 * A test host for agent tests: a namespace with NICs `eth0`, `eth1` whose peers sit in a "manager side"
 * namespace, a factory static address on eth0, and our agent (acting on the host namespace from outside,
 * serving on loopback) reached through the real STOMP/JSON-RPC client. Everything is created fresh and
 * destroyed in `close()`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAgent, type RunningAgent } from '../../agent/agent-service';
import { readJournal, type JournalRecord } from '../../agent/network/journal';
import { createLinuxBackend } from '../../agent/backend/linux-backend';
import { AgentClient } from '../../vdsm/client/client';
import { getLogger } from '../../lib/logger';
import type { KernelState } from '../../model/net-state';
import { Netns, addVethPair, uniqueToken } from '../../testbed/netns';

export interface AgentHost {
  host: Netns;
  manager: Netns;
  dir: string;
  /** The runtime directory of the running agent (a new one after `restartAgent(true)`). */
  readonly runtimeDir: string;
  agent: RunningAgent;
  client: AgentClient;
  /** The host's kernel state as the agent's backend reads it (names, not ifindexes). */
  kernel(): Promise<KernelState>;
  /**
   * Stops the agent and starts a new one on the same state dir; `newBoot` = fresh runtime dir. `whileDown`
   * runs between the two, while no agent runs.
   */
  restartAgent(newBoot: boolean, whileDown?: () => Promise<void>): Promise<void>;
  /** Sends confirmConnectivity every 200 ms until the returned function is called. */
  confirmContinuously(): () => void;
  journal(): Promise<JournalRecord[]>;
  close(): Promise<void>;
}

export const MGMT_SUBNET = { host: '198.18.250.10', gateway: '198.18.250.1', prefix: 24 };

/** `ovirtmgmt` as a bridge over eth0 with the host's factory address and default route: the change most tests make. */
export const BRIDGED_MGMT = {
  nic: 'eth0',
  bridged: 'true',
  ipaddr: MGMT_SUBNET.host,
  netmask: '255.255.255.0',
  gateway: MGMT_SUBNET.gateway,
  defaultRoute: true,
} as const;

export interface AgentHostOptions {
  /** @default 'hostprov' */
  compatibility?: 'hostprov' | 'vdsm';
}

/**
 * The host and manager namespaces of a test host, fresh: `eth0` (factory address and default route) and
 * `eth1` in the host, their peers `p0` (the gateway) and `p1` in the manager side.
 */
export async function createHostNamespaces(token = uniqueToken()): Promise<{ host: Netns; manager: Netns }> {
  const host = await Netns.create(`hpah-${token}`);
  const manager = await Netns.create(`hpam-${token}`);
  try {
    // Its own resolv.conf: an agent run in the namespace (`ip netns exec`) sees this one, never the machine's.
    await host.writeEtcFile('resolv.conf', '# hostprov agent test host: no DNS\noptions timeout:1 attempts:1\n');
    await addVethPair({ ns: host, name: 'eth0' }, { ns: manager, name: 'p0' });
    await addVethPair({ ns: host, name: 'eth1' }, { ns: manager, name: 'p1' });
    await setFactoryNetwork(host);
    await manager.ip(['addr', 'add', `${MGMT_SUBNET.gateway}/${MGMT_SUBNET.prefix}`, 'dev', 'p0']);
    for (const dev of ['p0', 'p1']) await manager.ip(['link', 'set', dev, 'up']);
  } catch (err) {
    await host.destroy();
    await manager.destroy();
    throw err;
  }
  return { host, manager };
}

/** What the host's OS configures at boot: eth0's static address and default route, both NICs up. */
export async function setFactoryNetwork(host: Netns): Promise<void> {
  await host.ip(['addr', 'add', `${MGMT_SUBNET.host}/${MGMT_SUBNET.prefix}`, 'dev', 'eth0']);
  for (const dev of ['eth0', 'eth1']) await host.ip(['link', 'set', dev, 'up']);
  await host.ip(['route', 'add', 'default', 'via', MGMT_SUBNET.gateway]);
}

export async function createAgentHost(options: AgentHostOptions = {}): Promise<AgentHost> {
  const { host, manager } = await createHostNamespaces();
  const dir = mkdtempSync(join(tmpdir(), 'hostprov-agent-'));
  let runtimeGeneration = 0;
  const log = getLogger('agent-test');

  const runtimeDir = () => join(dir, `run-${runtimeGeneration}`);
  const start = () =>
    startAgent({
      listen: { host: '127.0.0.1', port: 0 },
      stateDir: join(dir, 'state'),
      runtimeDir: runtimeDir(),
      tls: 'insecure',
      netns: host.name,
      log,
      ...(options.compatibility ? { compatibility: options.compatibility } : {}),
    });
  const connect = (port: number) => AgentClient.connect({ host: '127.0.0.1', port, tls: { insecure: true } });
  const backend = createLinuxBackend({ netns: host.name, runtimeDir: join(dir, 'reader'), log });

  const state: { agent: RunningAgent; client: AgentClient } = { agent: await start(), client: undefined as unknown as AgentClient };
  state.client = await connect(state.agent.address.port);

  return {
    host,
    manager,
    dir,
    get runtimeDir() {
      return runtimeDir();
    },
    get agent() {
      return state.agent;
    },
    get client() {
      return state.client;
    },
    kernel: () => backend.read(),
    async restartAgent(newBoot: boolean, whileDown?: () => Promise<void>) {
      await state.client.close();
      await state.agent.close();
      await whileDown?.();
      if (newBoot) runtimeGeneration += 1;
      state.agent = await start();
      state.client = await connect(state.agent.address.port);
    },
    confirmContinuously() {
      let stopped = false;
      void (async () => {
        while (!stopped) {
          await state.client.call('Host.confirmConnectivity', {}, { timeoutMs: 2000 }).catch(() => undefined);
          await new Promise((r) => setTimeout(r, 200));
        }
      })();
      return () => {
        stopped = true;
      };
    },
    async journal() {
      return readJournal(state.agent.journalFile);
    },
    async close() {
      await state.client.close().catch(() => undefined);
      await state.agent.close().catch(() => undefined);
      backend.close();
      await host.destroy();
      await manager.destroy();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Kernel state without volatile details, for "restored exactly" comparisons. */
export function comparable(state: KernelState): unknown {
  return {
    links: state.links.map(({ operUp: _o, speed: _s, ...l }) => l).sort((a, b) => a.name.localeCompare(b.name)),
    addresses: [...state.addresses].sort((a, b) => `${a.dev}${a.address}`.localeCompare(`${b.dev}${b.address}`)),
    routes: state.routes.map(({ protocol: _p, ...r }) => r).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
    rules: [...state.rules].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
  };
}
