/**
 * `hostprov demo --scenario two-gateways`: per-network source routing shown with real traffic. It builds
 * the two-gateways lab (testbed/gateway-lab), then lets each network's client ping the host and open a TCP
 * connection to it, and prints which gateway carried the host's replies (nftables counters on the
 * gateways): first on the host as installed, with network B's address given by hand and no source
 * routing, then after the agent set up A, B and a DHCP network C, and again after C's DHCP server moved it
 * to another subnet. Everything is removed at the end, and on Ctrl-C at any moment.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { getLogger } from '../../lib/logger';
import { sourceRouteTableId } from '../../model/ip';
import { MAIN_TABLE, type KernelState } from '../../model/net-state';
import type { ResourceStack } from '../../lib/resource-stack';
import { createGatewayLab } from '../../testbed/gateway-lab/lab';
import { LAB_PREFIX_LENGTH, LabNetworkId, type LabNetwork } from '../../testbed/gateway-lab/plan';
import { gatewayLabUnavailableReason } from '../../testbed/gateway-lab/requirements';
import { gatewaysUsed, type ProbeResult } from '../../testbed/gateway-lab/traffic';
import { UsageError } from '../usage-error';

export interface DemoScenarioContext {
  dataDir: string;
  resources: ResourceStack;
  say: (line: string) => void;
}

const LEASE_WAIT_MS = 45_000;
const ANNOUNCE_WAIT_MS = 10_000;

export async function runTwoGatewaysDemo({ dataDir, resources, say }: DemoScenarioContext): Promise<void> {
  const reason = await gatewayLabUnavailableReason();
  if (reason) throw new UsageError(`the two-gateways demo cannot run here: ${reason}`);
  const dir = join(dataDir, 'two-gateways');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  resources.push('two-gateways data', async () => rmSync(dir, { recursive: true, force: true }));

  say('hostprov demo --scenario two-gateways: one host, three networks, each behind its own gateway');
  say('building the lab: a host running the agent, gateway-a/b/c, and a client behind each gateway...');
  const building = createGatewayLab({ dir, log: getLogger('gateway-lab') });
  resources.push('gateway lab', async () => {
    const built = await building.catch(() => null);
    await built?.destroy();
  });
  const lab = await building;
  for (const id of [LabNetworkId.A, LabNetworkId.B, LabNetworkId.C]) say(`  ${describeNetwork(lab.network(id))}`);
  say('  each gateway routes only between the host and its own client; nftables on the gateways count the replies');

  const a = lab.network(LabNetworkId.A);
  const b = lab.network(LabNetworkId.B);
  say('');
  say(
    `before: the host as installed (default route via gateway-a), ${b.nic} given ${b.subnet.hostAddress}/${LAB_PREFIX_LENGTH} by hand, no source routing`,
  );
  await lab.host.ip(['addr', 'add', `${b.subnet.hostAddress}/${LAB_PREFIX_LENGTH}`, 'dev', b.nic]);
  const before = await lab.probe(LabNetworkId.B, b.subnet.hostAddress);
  say(`  ${describeProbe(before)}`);
  await lab.host.ip(['addr', 'del', `${b.subnet.hostAddress}/${LAB_PREFIX_LENGTH}`, 'dev', b.nic]);

  say('');
  say('after: Host.setupNetworks neta (static, default route), netb (static, own gateway), netc (DHCP, own gateway)');
  const answer = await lab.setupNetworks({
    neta: {
      nic: a.nic,
      bridged: 'true',
      ipaddr: a.subnet.hostAddress,
      prefix: LAB_PREFIX_LENGTH,
      gateway: a.subnet.gateway,
      defaultRoute: true,
    },
    netb: { nic: b.nic, bridged: 'false', ipaddr: b.subnet.hostAddress, prefix: LAB_PREFIX_LENGTH, gateway: b.subnet.gateway },
    netc: { nic: lab.network(LabNetworkId.C).nic, bridged: 'true', bootproto: 'dhcp' },
  });
  say(`  agent: ${JSON.stringify(answer)}`);
  let leased = await lab.dhcpLease('netc', LEASE_WAIT_MS);
  for (const line of describeSourceRouting(await lab.kernel())) say(`  ${line}`);
  const results = [
    await lab.probe(LabNetworkId.A, a.subnet.hostAddress),
    await lab.probe(LabNetworkId.B, b.subnet.hostAddress),
    await lab.probe(LabNetworkId.C, leased),
  ];
  for (const result of results) say(`  ${describeProbe(result)}`);

  say('');
  say(`lease change: gateway-c's DHCP server moves network C to another subnet; the host's client renews within seconds...`);
  const announcements: string[] = [];
  const listener = await lab.connect({ onEvent: (event) => announcements.push(event.method) });
  resources.push('event listener', () => listener.close());
  await listener.call('Host.ping2');
  await lab.renumberDhcpNetwork();
  leased = await lab.dhcpLease('netc', LEASE_WAIT_MS);
  // The lease file, whose change the agent announces, is written just after the routes and rules.
  const announced = (): number => announcements.filter((m) => m === '|net|host_conn|no_id').length;
  for (let waited = 0; announced() === 0 && waited < ANNOUNCE_WAIT_MS; waited += 100) await new Promise((r) => setTimeout(r, 100));
  say(
    `  netc leased ${leased}/${LAB_PREFIX_LENGTH}; the agent's DHCP client moved C's table and rules, and the agent sent |net|host_conn|no_id ${announced()} time(s)`,
  );
  for (const line of describeSourceRouting(await lab.kernel()).filter((l) => l.includes('netc'))) say(`  ${line}`);
  const renumbered = await lab.probe(LabNetworkId.C, leased);
  say(`  ${describeProbe(renumbered)}`);

  const wrong = [...results, renumbered].filter((r) => gatewaysUsed(r).join() !== r.from || r.ping.received === 0 || !r.tcpEchoed);
  say('');
  if (wrong.length) {
    say(`FAILED: ${wrong.length} client(s) were not answered through their own gateway`);
    process.exitCode = 1;
  } else {
    say('every client was answered through its own gateway');
  }
}

function describeNetwork(net: LabNetwork): string {
  const how =
    net.id === LabNetworkId.C ? `DHCP from gateway-${net.id} (${net.subnet.cidr})` : `${net.subnet.cidr}, host ${net.subnet.hostAddress}`;
  return `network ${net.id.toUpperCase()}: ${net.nic} ── gateway-${net.id} ${net.subnet.gateway} ── client-${net.id} ${net.clientAddress}; ${how}`;
}

function describeProbe(result: ProbeResult): string {
  const used = gatewaysUsed(result);
  const via = used.length
    ? used.map((id) => `gateway-${id} (${result.repliesVia[id].icmp} ICMP, ${result.repliesVia[id].tcp} TCP)`).join(', ')
    : 'no gateway';
  const verdict =
    used.length === 1 && used[0] === result.from && result.ping.received > 0 && result.tcpEchoed ? 'right gateway' : 'WRONG PATH';
  return `client-${result.from} → ${result.target}: ping ${result.ping.received}/${result.ping.sent}, TCP ${result.tcpEchoed ? 'echoed' : 'failed'}; replies left through ${via}: ${verdict}`;
}

/** The main table's default route, then each source-routing table with its routes and rules, one line each. */
function describeSourceRouting(kernel: KernelState): string[] {
  const main = kernel.routes
    .filter((r) => r.table === MAIN_TABLE && r.dst === 'default')
    .map((r) => `default via ${r.gateway ?? '?'} dev ${r.dev ?? '?'}`);
  return [`main table: ${main.join('; ') || 'no default route'} (the default-route network's only)`, ...sourceRoutingTables(kernel)];
}

function sourceRoutingTables(kernel: KernelState): string[] {
  const tables = [...new Set(kernel.rules.map((r) => r.table))].sort((x, y) => x - y);
  return tables.map((table) => {
    const routes = kernel.routes
      .filter((r) => r.table === table)
      .map((r) => `${r.dst}${r.gateway ? ` via ${r.gateway}` : ''} dev ${r.dev ?? '?'}`);
    const rules = kernel.rules.filter((r) => r.table === table).map((r) => (r.from ? `from ${r.from}` : `to ${r.to ?? ''}`));
    const dev = kernel.routes.find((r) => r.table === table)?.dev ?? '?';
    const named = sourceRouteTableId(dev) === table ? ` (adler32 of ${dev})` : '';
    return `table ${table}${named}: ${routes.join('; ')}; rules ${rules.join(', ')} at priority ${kernel.rules.find((r) => r.table === table)?.priority ?? '?'}`;
  });
}
