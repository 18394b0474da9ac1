/**
 * Real traffic through the two-gateways lab, and where the host's replies went.
 *
 * A client pings the host and opens a TCP connection to it (an echo server in the host namespace). Each
 * gateway counts, with nftables, the packets that arrive from the host's side addressed to each client
 * subnet, split into ICMP echo replies and TCP segments. So a probe's result says which gateway carried the
 * host's replies: counted packets, not a route lookup. A reply that reaches the wrong gateway is counted
 * there and then dropped (no gateway routes to another gateway's client), so the client sees no answer.
 */
import type { Netns } from '../netns';
import { LAB_NETWORK_IDS, labNetwork, type LabNetworkId } from './plan';

/** The echo server's port in the host namespace. */
export const ECHO_PORT = 5001;

const NFT_TABLE = 'hostprov_lab';
const NFT_CHAIN = 'replies';
/** The gateways' interface towards the host (testbed/gateway-lab/lab.ts). */
export const GATEWAY_HOST_SIDE = 'host';

const PING_COUNT = 3;

export const ReplyProtocol = { ICMP: 'icmp', TCP: 'tcp' } as const;
export type ReplyProtocol = (typeof ReplyProtocol)[keyof typeof ReplyProtocol];

export type ReplyCounts = Record<ReplyProtocol, number>;

export interface ProbeResult {
  from: LabNetworkId;
  /** The host address the client talked to. */
  target: string;
  ping: { sent: number; received: number };
  /** Whether the TCP connection was made and echoed a line back. */
  tcpEchoed: boolean;
  /** Packets from the host towards this client, counted on each gateway's host side during the probe. */
  repliesVia: Record<LabNetworkId, ReplyCounts>;
}

function comment(client: LabNetworkId, protocol: ReplyProtocol): string {
  return `to-${client}-${protocol}`;
}

/**
 * The counters of one gateway: per client subnet, ICMP echo replies and TCP segments that arrive on the
 * host side. Counted at prerouting, before the gateway decides it cannot forward them.
 */
export async function installReplyCounters(gateway: Netns): Promise<void> {
  const rules = LAB_NETWORK_IDS.flatMap((client) => {
    const subnet = labNetwork(client).clientSubnet;
    return [
      `add rule ip ${NFT_TABLE} ${NFT_CHAIN} iifname "${GATEWAY_HOST_SIDE}" ip daddr ${subnet} icmp type echo-reply counter comment "${comment(client, ReplyProtocol.ICMP)}"`,
      `add rule ip ${NFT_TABLE} ${NFT_CHAIN} iifname "${GATEWAY_HOST_SIDE}" ip daddr ${subnet} meta l4proto tcp counter comment "${comment(client, ReplyProtocol.TCP)}"`,
    ];
  });
  const script = [
    `add table ip ${NFT_TABLE}`,
    `add chain ip ${NFT_TABLE} ${NFT_CHAIN} { type filter hook prerouting priority -300; policy accept; }`,
    ...rules,
  ].join('\n');
  await gateway.exec(['nft', '-f', '-'], { input: `${script}\n` });
}

interface NftRuleJson {
  rule?: { comment?: string; expr?: Array<{ counter?: { packets: number } }> };
}

/** The gateway's counters towards `client`. */
async function replyCounts(gateway: Netns, client: LabNetworkId): Promise<ReplyCounts> {
  const { stdout } = await gateway.exec(['nft', '-j', 'list', 'chain', 'ip', NFT_TABLE, NFT_CHAIN]);
  const items = (JSON.parse(stdout) as { nftables: NftRuleJson[] }).nftables;
  const packets = (wanted: string): number => {
    const rule = items.find((i) => i.rule?.comment === wanted)?.rule;
    const counter = rule?.expr?.find((e) => e.counter)?.counter;
    if (!counter) throw new Error(`gateway ${gateway.name} has no counter ${wanted}`);
    return counter.packets;
  };
  return { icmp: packets(comment(client, ReplyProtocol.ICMP)), tcp: packets(comment(client, ReplyProtocol.TCP)) };
}

/** argv of the echo server that runs in the host namespace (one line back per line, for any client). */
export function echoServerArgv(): string[] {
  const script = `require('net').createServer((s) => { s.on('error', () => {}); s.pipe(s); }).listen(${ECHO_PORT}, '0.0.0.0');`;
  return [process.execPath, '-e', script];
}

const TCP_CLIENT = `
const [host, port] = process.argv.slice(1);
const line = 'hostprov lab\\n';
let got = '';
const s = require('net').connect({ host, port: Number(port), timeout: 2000 });
s.on('connect', () => s.end(line));
s.on('data', (d) => { got += d; });
s.on('end', () => process.exit(got === line ? 0 : 3));
s.on('timeout', () => process.exit(2));
s.on('error', () => process.exit(1));
`;

async function tcpEcho(client: Netns, target: string): Promise<boolean> {
  const { code } = await client.exec([process.execPath, '-e', TCP_CLIENT, target, String(ECHO_PORT)], {
    allowFailure: true,
    timeoutMs: 10_000,
  });
  return code === 0;
}

async function ping(client: Netns, target: string): Promise<{ sent: number; received: number }> {
  const { stdout } = await client.exec(['ping', '-n', '-q', '-c', String(PING_COUNT), '-i', '0.2', '-W', '2', target], {
    allowFailure: true,
    timeoutMs: 10_000,
  });
  const match = /(\d+) packets transmitted, (\d+) received/.exec(stdout);
  return { sent: Number(match?.[1] ?? PING_COUNT), received: Number(match?.[2] ?? 0) };
}

/** The client of `from` pings `target` and opens a TCP connection to it; the gateways say where the replies went. */
export async function probe(
  gateways: Readonly<Record<LabNetworkId, Netns>>,
  clients: Readonly<Record<LabNetworkId, Netns>>,
  from: LabNetworkId,
  target: string,
): Promise<ProbeResult> {
  const countAll = async () =>
    Object.fromEntries(
      await Promise.all(LAB_NETWORK_IDS.map(async (id) => [id, await replyCounts(gateways[id], from)] as const)),
    ) as Record<LabNetworkId, ReplyCounts>;
  const before = await countAll();
  const client = clients[from];
  const pinged = await ping(client, target);
  const tcpEchoed = await tcpEcho(client, target);
  const after = await countAll();
  const repliesVia = Object.fromEntries(
    LAB_NETWORK_IDS.map((id) => [id, { icmp: after[id].icmp - before[id].icmp, tcp: after[id].tcp - before[id].tcp }]),
  ) as Record<LabNetworkId, ReplyCounts>;
  return { from, target, ping: pinged, tcpEchoed, repliesVia };
}

/** The gateways that carried any of the probe's replies. */
export function gatewaysUsed(result: ProbeResult): LabNetworkId[] {
  return LAB_NETWORK_IDS.filter((id) => result.repliesVia[id].icmp + result.repliesVia[id].tcp > 0);
}
