/**
 * The two-gateways lab: a host whose networks each route their own traffic through their own gateway.
 *
 * ```
 *  client-a ── gateway-a ── eth0 ┐
 *  client-b ── gateway-b ── eth1 ├ host (hostprov agent, acting on the host namespace from outside)
 *  client-c ── gateway-c ── eth2 ┘       gateway-c also runs dnsmasq for network C
 * ```
 *
 * Each gateway forwards between the host's subnet and its client's subnet and knows no other route, so a
 * client is reachable only through its own gateway: a reply the host sends through another gateway is
 * dropped there, after being counted (traffic.ts). The host's factory configuration is eth0's static
 * address with the default route via gateway A, as an installed host has it; eth1 and eth2 are up and bare.
 *
 * The host runs an echo server. Its reverse-path filter is loose: a strict one would drop a request that
 * arrives on a NIC the host's routes do not lead back to, hiding a misrouted reply instead of showing it.
 *
 * `reboot()` is a new boot of the host: every process in it stops, its kernel state goes back to the
 * factory configuration (as the testbed's power-on does, testbed/scripts/host-power.sh), and a new agent
 * starts with a fresh runtime directory, so it restores the safe configuration.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startAgent, type RunningAgent } from '../../agent/agent-service';
import { createLinuxBackend } from '../../agent/backend/linux-backend';
import { getLogger, type Logger } from '../../lib/logger';
import { stopPid } from '../../lib/process';
import { subnetOf } from '../../model/ip';
import type { KernelState } from '../../model/net-state';
import { SOURCE_ROUTE_RULE_PRIORITY } from '../../model/network/desired-state';
import { AgentClient, type AgentClientOptions } from '../../vdsm/client/client';
import { startDetached, WaitTimeoutError, waitUntilReady } from '../daemon';
import { startDnsmasq, stopDnsmasq } from '../dnsmasq';
import { addVethPair, Netns, uniqueToken } from '../netns';
import { LAB_NETWORK_IDS, LAB_PREFIX_LENGTH, LabNetworkId, labNetwork, type LabNetwork } from './plan';
import { ECHO_PORT, echoServerArgv, GATEWAY_HOST_SIDE, installReplyCounters, probe, type ProbeResult } from './traffic';

const GATEWAY_CLIENT_SIDE = 'client';

/** Short DHCP timers, so a renumbered subnet reaches the host within seconds (dnsmasq's lease minimum is 2 minutes). */
const DHCP_RENEWAL = { t1Seconds: 3, t2Seconds: 5 };

export interface GatewayLabOptions {
  /** Directory for the agent's state and runtime dirs and dnsmasq's files; the caller removes it. */
  dir: string;
  /** @default getLogger('gateway-lab') */
  log?: Logger;
}

export interface GatewayLab {
  readonly host: Netns;
  readonly gateways: Readonly<Record<LabNetworkId, Netns>>;
  readonly clients: Readonly<Record<LabNetworkId, Netns>>;
  /** A client of the host's agent (reconnects after a reboot). */
  readonly agentClient: AgentClient;
  readonly agent: RunningAgent;
  /** Network `id` as it is now (network C after a renumbering is the second generation). */
  network(id: LabNetworkId): LabNetwork;
  /** The host's kernel state as the agent reads it. */
  kernel(): Promise<KernelState>;
  /** `Host.setupNetworks` without the connectivity check (the agent is reached over loopback anyway). */
  setupNetworks(networks: Record<string, unknown>): Promise<unknown>;
  /** The client of `from` pings `target` and opens a TCP connection to it; see traffic.ts. */
  probe(from: LabNetworkId, target: string): Promise<ProbeResult>;
  /** Another address for gateway `id` on the host's side (a second router on that subnet). */
  addGatewayAddress(id: LabNetworkId, address: string): Promise<void>;
  /**
   * Network C's leased address once the host holds a lease of C's current subnet on `dev` together with
   * the lease's two source-routing rules; rejects after `timeoutMs`.
   */
  dhcpLease(dev: string, timeoutMs: number): Promise<string>;
  /** Network C moves to its second subnet: the gateway's address and the DHCP pool change, leases follow on renewal. */
  renumberDhcpNetwork(): Promise<void>;
  /** A new boot of the host (see the module comment). */
  reboot(): Promise<void>;
  /** Opens another client of the agent, e.g. one subscribed to events. */
  connect(options?: AgentClientOptions): Promise<AgentClient>;
  destroy(): Promise<void>;
}

/** Builds the lab and starts the agent; on failure, everything built so far is removed. */
export async function createGatewayLab(options: GatewayLabOptions): Promise<GatewayLab> {
  const log = options.log ?? getLogger('gateway-lab');
  const token = uniqueToken();
  const created: Netns[] = [];
  const ns = async (role: string): Promise<Netns> => {
    const namespace = await Netns.create(`hpgw-${token}-${role}`);
    created.push(namespace);
    return namespace;
  };
  try {
    const host = await ns('host');
    await host.writeEtcFile('resolv.conf', '# hostprov gateway lab: no DNS\n');
    await sysctls(host, { 'net.ipv4.conf.all.rp_filter': 2, 'net.ipv4.conf.default.rp_filter': 2 });
    const gateways = {} as Record<LabNetworkId, Netns>;
    const clients = {} as Record<LabNetworkId, Netns>;
    for (const id of LAB_NETWORK_IDS) {
      gateways[id] = await ns(`gw${id}`);
      clients[id] = await ns(`cl${id}`);
      await buildGateway(host, gateways[id], clients[id], labNetwork(id));
    }
    const dhcpDir = join(options.dir, 'dnsmasq');
    mkdirSync(dhcpDir, { recursive: true });
    let dnsmasqPid = await startLabDnsmasq(gateways.c, dhcpDir, labNetwork(LabNetworkId.C));
    let generation = 0;

    await setFactoryNetwork(host);
    await startEchoServer(host, options.dir);

    let boot = 0;
    const stateDir = join(options.dir, 'state');
    const start = (): Promise<RunningAgent> =>
      startAgent({
        listen: { host: '127.0.0.1', port: 0 },
        stateDir,
        runtimeDir: join(options.dir, `run-${boot}`),
        tls: 'insecure',
        netns: host.name,
        log: log.child({ component: 'agent' }),
      });
    const connectTo = (agent: RunningAgent, clientOptions: AgentClientOptions = {}) =>
      AgentClient.connect({ host: '127.0.0.1', port: agent.address.port, tls: { insecure: true } }, clientOptions);
    const reader = createLinuxBackend({ netns: host.name, runtimeDir: join(options.dir, 'reader'), log });
    const agent = await start();
    const state = {
      agent,
      client: await connectTo(agent).catch(async (err: unknown) => {
        await agent.close();
        throw err;
      }),
    };
    log.info({ host: host.name, token }, 'gateway lab ready');

    return {
      host,
      gateways,
      clients,
      get agent() {
        return state.agent;
      },
      get agentClient() {
        return state.client;
      },
      network: (id) => labNetwork(id, id === LabNetworkId.C ? generation : 0),
      kernel: () => reader.read(),
      setupNetworks: (networks) =>
        state.client.call('Host.setupNetworks', { networks, bondings: {}, options: { connectivityCheck: 'false' } }, { timeoutMs: 60_000 }),
      probe: (from, target) => probe(gateways, clients, from, target),
      async dhcpLease(dev, timeoutMs) {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const subnet = labNetwork(LabNetworkId.C, generation).subnet.cidr;
          const kernel = await reader.read();
          const lease = kernel.addresses.find(
            (x) => x.dev === dev && x.family === 4 && x.dynamic && subnetOf(x.address, x.prefixLen) === subnet,
          );
          const rules = kernel.rules.filter((r) => r.priority === SOURCE_ROUTE_RULE_PRIORITY && (r.from ?? r.to) === subnet);
          if (lease && rules.length === 2) return lease.address;
          if (Date.now() > deadline) throw new WaitTimeoutError(`a lease of ${subnet} with its two rules on ${dev}`, timeoutMs);
          await new Promise((r) => setTimeout(r, 200));
        }
      },
      async addGatewayAddress(id, address) {
        await gateways[id].ip(['addr', 'add', `${address}/${LAB_PREFIX_LENGTH}`, 'dev', GATEWAY_HOST_SIDE]);
      },
      async renumberDhcpNetwork() {
        const before = labNetwork(LabNetworkId.C, generation);
        const after = labNetwork(LabNetworkId.C, generation + 1);
        await stopDnsmasq(dnsmasqPid, dhcpDir);
        rmSync(join(dhcpDir, 'dnsmasq.leases'), { force: true });
        await gateways.c.ip(['addr', 'del', `${before.subnet.gateway}/${LAB_PREFIX_LENGTH}`, 'dev', GATEWAY_HOST_SIDE]);
        await gateways.c.ip(['addr', 'add', `${after.subnet.gateway}/${LAB_PREFIX_LENGTH}`, 'dev', GATEWAY_HOST_SIDE]);
        dnsmasqPid = await startLabDnsmasq(gateways.c, dhcpDir, after);
        generation += 1;
        log.info({ from: before.subnet.cidr, to: after.subnet.cidr }, 'network C renumbered');
      },
      async reboot() {
        await state.client.close();
        await state.agent.close();
        // Power off: every process of the host stops (its DHCP clients, the echo server).
        await Promise.all((await host.pids()).map((pid) => stopPid(pid, { timeoutMs: 3_000 })));
        await resetToFactory(host);
        await startEchoServer(host, options.dir);
        boot += 1;
        state.agent = await start();
        state.client = await connectTo(state.agent);
        log.info({ boot }, 'host rebooted');
      },
      connect: (clientOptions) => connectTo(state.agent, clientOptions),
      async destroy() {
        await state.client.close().catch(() => undefined);
        await state.agent.close().catch(() => undefined);
        reader.close();
        await destroyAll(created);
      },
    };
  } catch (err) {
    await destroyAll(created);
    throw err;
  }
}

async function destroyAll(namespaces: readonly Netns[]): Promise<void> {
  // Destroying a namespace stops what runs in it (the host's DHCP clients and echo server, dnsmasq).
  for (const namespace of [...namespaces].reverse()) await namespace.destroy();
}

async function sysctls(namespace: Netns, values: Record<string, number>): Promise<void> {
  await namespace.exec(['sysctl', '-q', '-w', ...Object.entries(values).map(([key, value]) => `${key}=${value}`)]);
}

/** Gateway and client of one network: the host's NIC ↔ gateway ↔ client, the gateway forwarding. */
async function buildGateway(host: Netns, gateway: Netns, client: Netns, net: LabNetwork): Promise<void> {
  // No reverse-path filter: gateway C must hear a DHCP rebind from a client still in the old subnet.
  await sysctls(gateway, { 'net.ipv4.ip_forward': 1, 'net.ipv4.conf.all.rp_filter': 0, 'net.ipv4.conf.default.rp_filter': 0 });
  await addVethPair({ ns: host, name: net.nic }, { ns: gateway, name: GATEWAY_HOST_SIDE });
  await addVethPair({ ns: gateway, name: GATEWAY_CLIENT_SIDE }, { ns: client, name: 'eth0' });
  await gateway.ip(['addr', 'add', `${net.subnet.gateway}/${LAB_PREFIX_LENGTH}`, 'dev', GATEWAY_HOST_SIDE]);
  await gateway.ip(['addr', 'add', `${net.clientGateway}/${LAB_PREFIX_LENGTH}`, 'dev', GATEWAY_CLIENT_SIDE]);
  for (const dev of [GATEWAY_HOST_SIDE, GATEWAY_CLIENT_SIDE]) await gateway.ip(['link', 'set', dev, 'up']);
  await installReplyCounters(gateway);
  await client.ip(['addr', 'add', `${net.clientAddress}/${LAB_PREFIX_LENGTH}`, 'dev', 'eth0']);
  await client.ip(['link', 'set', 'eth0', 'up']);
  await client.ip(['route', 'add', 'default', 'via', net.clientGateway]);
}

function startLabDnsmasq(gateway: Netns, dir: string, net: LabNetwork): Promise<number> {
  return startDnsmasq(gateway, {
    dir,
    interface: GATEWAY_HOST_SIDE,
    plan: { dhcpPoolStart: net.subnet.pool.start, dhcpPoolEnd: net.subnet.pool.end, gateway: net.subnet.gateway },
    reservations: [],
    leaseTime: '2m',
    renewal: DHCP_RENEWAL,
  });
}

async function startEchoServer(host: Netns, dir: string): Promise<void> {
  const logFile = join(dir, 'echo-server.log');
  const pid = startDetached(host.wrap(echoServerArgv()), logFile);
  const listening = async (): Promise<boolean> =>
    (await host.exec(['ss', '-Hltn', `sport = :${ECHO_PORT}`], { allowFailure: true })).stdout.trim() !== '';
  await waitUntilReady("the lab host's echo server", listening, { pid, logFile });
}

/** The installed host: eth0's static address and the default route via gateway A; the other NICs up. */
async function setFactoryNetwork(host: Netns): Promise<void> {
  const a = labNetwork(LabNetworkId.A);
  for (const id of LAB_NETWORK_IDS) await host.ip(['link', 'set', labNetwork(id).nic, 'up']);
  await host.ip(['addr', 'add', `${a.subnet.hostAddress}/${LAB_PREFIX_LENGTH}`, 'dev', a.nic]);
  await host.ip(['route', 'add', 'default', 'via', a.subnet.gateway, 'dev', a.nic]);
}

/** What a reboot leaves: only lo and the NICs, no addresses, routes, rules or neighbours; then the factory config. */
async function resetToFactory(host: Netns): Promise<void> {
  const nics = new Set(LAB_NETWORK_IDS.map((id) => labNetwork(id).nic));
  const links = await host.ipJson<Array<{ ifname: string }>>(['link', 'show']);
  for (const { ifname } of links) if (ifname !== 'lo' && !nics.has(ifname)) await host.ip(['link', 'del', 'dev', ifname]);
  for (const nic of nics) {
    await host.ip(['link', 'set', 'dev', nic, 'down', 'nomaster']);
    await host.ip(['addr', 'flush', 'dev', nic]);
  }
  for (const family of ['-4', '-6']) {
    const routes = await host.ipJson<Array<{ table?: string }>>([family, 'route', 'show', 'table', 'all']);
    const tables = new Set(routes.map((r) => r.table ?? 'main').filter((t) => t !== 'local'));
    for (const table of tables) await host.ip([family, 'route', 'flush', 'table', table], { allowFailure: true });
    // `rule flush` keeps only the local lookup at priority 0; the other two rules every namespace has come back by hand.
    await host.ip([family, 'rule', 'flush']);
    await host.ip([family, 'rule', 'add', 'priority', '32766', 'table', 'main']);
  }
  await host.ip(['-4', 'rule', 'add', 'priority', '32767', 'table', 'default']);
  await host.ip(['neigh', 'flush', 'all'], { allowFailure: true });
  await setFactoryNetwork(host);
}
