/**
 * Multiple gateways proven with real traffic (testbed/gateway-lab): a host with networks A (static, the
 * default route), B (static, its own gateway) and C (DHCP, its own gateway), each behind its own gateway
 * namespace with a client behind it. Clients ping the host and open TCP connections to it; nftables
 * counters on the gateways say which gateway carried each reply.
 *
 * The steps build on each other, on one lab: set up, traffic with the control experiment, the default route
 * dropped and moved, a gateway change, a DHCP renumbering, DHCP to static and back, a reboot, the removal of B
 * and of C (holding its lease), and C added again under a connectivity check that is never confirmed. After
 * each change every route and rule of the host is compared in full with what the change must leave.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { readJournal } from '../../agent/network/journal';
import { sourceRouteTableId } from '../../model/ip';
import { MAIN_TABLE, type KernelState } from '../../model/net-state';
import { SOURCE_ROUTE_RULE_PRIORITY } from '../../model/network/desired-state';
import { Capabilities } from '../../model/vdsm/capabilities';
import { VdsmCode } from '../../model/vdsm/error-codes';
import { AgentRpcError } from '../../vdsm/client/errors';
import { createGatewayLab, type GatewayLab } from '../../testbed/gateway-lab/lab';
import { LabNetworkId, LAB_PREFIX_LENGTH } from '../../testbed/gateway-lab/plan';
import { gatewayLabUnavailableReason } from '../../testbed/gateway-lab/requirements';
import { gatewaysUsed, type ProbeResult } from '../../testbed/gateway-lab/traffic';
import { skipBecause } from '../helpers/skip';

const unavailable = await gatewayLabUnavailableReason();

/** Network A is bridged, B bridgeless on eth1, C bridged: their tables are named after neta, eth1, netc. */
const TOP = { a: 'neta', b: 'eth1', c: 'netc' } as const;
const LEASE_TIMEOUT_MS = 45_000;

interface NetRouting {
  top: string;
  subnet: string;
  gateway: string;
  protocol: 'static' | 'dhcp';
}

/** Every route and rule of the host, one line each, sorted: what "compared in full" compares. */
function routing(kernel: KernelState): string[] {
  const routes = kernel.routes.map(
    (r) =>
      `route ${r.family} table ${r.table === MAIN_TABLE ? 'main' : r.table} ${r.dst}${r.gateway ? ` via ${r.gateway}` : ''} dev ${r.dev ?? '-'} proto ${r.protocol ?? '-'}`,
  );
  const rules = kernel.rules.map(
    (r) => `rule ${r.family} ${r.priority}${r.from ? ` from ${r.from}` : ''}${r.to ? ` to ${r.to}` : ''} lookup ${r.table}`,
  );
  return [...routes, ...rules].sort();
}

/** What source routing must leave: each network's table and rules, and the main default route of the role holder. */
function expectedRouting(nets: readonly NetRouting[], defaultRoute: NetRouting | null): string[] {
  const lines = nets.flatMap((n) => {
    const table = sourceRouteTableId(n.top);
    return [
      `route 4 table ${table} default via ${n.gateway} dev ${n.top} proto ${n.protocol}`,
      `route 4 table ${table} ${n.subnet} dev ${n.top} proto ${n.protocol}`,
      `rule 4 ${SOURCE_ROUTE_RULE_PRIORITY} from ${n.subnet} lookup ${table}`,
      `rule 4 ${SOURCE_ROUTE_RULE_PRIORITY} to ${n.subnet} lookup ${table}`,
    ];
  });
  if (defaultRoute)
    lines.push(`route 4 table main default via ${defaultRoute.gateway} dev ${defaultRoute.top} proto ${defaultRoute.protocol}`);
  return lines.sort();
}

function answeredThrough(result: ProbeResult, gateway: LabNetworkId): void {
  const summary = JSON.stringify(result);
  expect(result.ping, summary).toEqual({ sent: 3, received: 3 });
  expect(result.tcpEchoed, summary).toBe(true);
  // Every echo reply and at least the SYN-ACK and the echoed data passed the client's own gateway, none another.
  expect(result.repliesVia[gateway].icmp, summary).toBe(3);
  expect(result.repliesVia[gateway].tcp, summary).toBeGreaterThanOrEqual(2);
  expect(gatewaysUsed(result), summary).toEqual([gateway]);
}

describe.skipIf(skipBecause(unavailable, 'two-gateways traffic tests'))('multiple gateways with real traffic', () => {
  let lab: GatewayLab;
  const dir = mkdtempSync(join(tmpdir(), 'hostprov-gateways-'));
  const a = () => lab.network(LabNetworkId.A);
  const b = () => lab.network(LabNetworkId.B);
  const c = () => lab.network(LabNetworkId.C);
  const neta = (over: Record<string, unknown> = {}) => ({
    nic: 'eth0',
    bridged: 'true',
    ipaddr: a().subnet.hostAddress,
    netmask: '255.255.255.0',
    gateway: a().subnet.gateway,
    defaultRoute: true,
    ...over,
  });
  const netb = (over: Record<string, unknown> = {}) => ({
    nic: 'eth1',
    bridged: 'false',
    ipaddr: b().subnet.hostAddress,
    prefix: LAB_PREFIX_LENGTH,
    gateway: b().subnet.gateway,
    ...over,
  });
  const netcDhcp = { nic: 'eth2', bridged: 'true', bootproto: 'dhcp' };
  const routeA = (): NetRouting => ({ top: TOP.a, subnet: a().subnet.cidr, gateway: a().subnet.gateway, protocol: 'static' });
  const routeB = (gateway = b().subnet.gateway): NetRouting => ({ top: TOP.b, subnet: b().subnet.cidr, gateway, protocol: 'static' });
  const routeC = (protocol: 'static' | 'dhcp' = 'dhcp'): NetRouting => ({
    top: TOP.c,
    subnet: c().subnet.cidr,
    gateway: c().subnet.gateway,
    protocol,
  });

  const leaseOfC = (): Promise<string> => lab.dhcpLease(TOP.c, LEASE_TIMEOUT_MS);

  async function capabilities() {
    return Capabilities.parse(await lab.agentClient.call('Host.getCapabilities', {}));
  }

  beforeAll(async () => {
    lab = await createGatewayLab({ dir });
  });
  afterAll(async () => {
    await lab?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it("A, B and DHCP C each get their own table (subnet route, default route) and rules; the main default route is A's", async () => {
    expect(await lab.setupNetworks({ neta: neta(), netb: netb(), netc: netcDhcp })).toEqual({ code: 0, message: 'Done' });
    await leaseOfC();
    expect(routing(await lab.kernel())).toEqual(expectedRouting([routeA(), routeB(), routeC()], routeA()));
    // Gateways come from any table; only the main table's default route makes ipv4defaultroute.
    const caps = await capabilities();
    expect(caps.networks.neta).toMatchObject({ gateway: a().subnet.gateway, ipv4defaultroute: true });
    expect(caps.networks.netb).toMatchObject({ gateway: b().subnet.gateway, ipv4defaultroute: false });
    expect(caps.networks.netc).toMatchObject({ gateway: c().subnet.gateway, ipv4defaultroute: false, dhcpv4: true });
  });

  it("B's client is answered through gateway B; without the rules the reply takes the main default route through A (control)", async () => {
    answeredThrough(await lab.probe(LabNetworkId.B, b().subnet.hostAddress), LabNetworkId.B);

    const table = sourceRouteTableId(TOP.b);
    for (const selector of ['from', 'to'])
      await lab.host.ip(['rule', 'del', selector, b().subnet.cidr, 'table', String(table), 'priority', String(SOURCE_ROUTE_RULE_PRIORITY)]);
    const control = await lab.probe(LabNetworkId.B, b().subnet.hostAddress);
    expect(gatewaysUsed(control), JSON.stringify(control)).toEqual([LabNetworkId.A]);
    expect(control.repliesVia.a.icmp).toBe(3);
    expect(control.ping.received).toBe(0);
    expect(control.tcpEchoed).toBe(false);

    // The same request again repairs what is missing, and nothing else.
    expect(await lab.setupNetworks({ neta: neta(), netb: netb(), netc: netcDhcp })).toEqual({ code: 0, message: 'Done' });
    expect(routing(await lab.kernel())).toEqual(expectedRouting([routeA(), routeB(), routeC()], routeA()));
    answeredThrough(await lab.probe(LabNetworkId.B, b().subnet.hostAddress), LabNetworkId.B);
  });

  it("A's client is answered through A, and the DHCP network C's client through C", async () => {
    answeredThrough(await lab.probe(LabNetworkId.A, a().subnet.hostAddress), LabNetworkId.A);
    answeredThrough(await lab.probe(LabNetworkId.C, await leaseOfC()), LabNetworkId.C);
  });

  it('dropping the default-route role removes the main default route; every network still answers through its own gateway', async () => {
    expect(await lab.setupNetworks({ neta: neta({ defaultRoute: false }) })).toEqual({ code: 0, message: 'Done' });
    expect(routing(await lab.kernel())).toEqual(expectedRouting([routeA(), routeB(), routeC()], null));
    expect(Object.values((await capabilities()).networks).map((n) => n.ipv4defaultroute)).toEqual([false, false, false]);
    answeredThrough(await lab.probe(LabNetworkId.A, a().subnet.hostAddress), LabNetworkId.A);
    answeredThrough(await lab.probe(LabNetworkId.B, b().subnet.hostAddress), LabNetworkId.B);
    answeredThrough(await lab.probe(LabNetworkId.C, await leaseOfC()), LabNetworkId.C);
  });

  it('moving the default route to B and back to A changes the main table only; each network keeps its own table', async () => {
    expect(await lab.setupNetworks({ netb: netb({ defaultRoute: true }) })).toEqual({ code: 0, message: 'Done' });
    expect(routing(await lab.kernel())).toEqual(expectedRouting([routeA(), routeB(), routeC()], routeB()));
    let caps = await capabilities();
    expect(caps.networks.netb).toMatchObject({ gateway: b().subnet.gateway, ipv4defaultroute: true });
    expect(caps.networks.neta).toMatchObject({ gateway: a().subnet.gateway, ipv4defaultroute: false });
    answeredThrough(await lab.probe(LabNetworkId.A, a().subnet.hostAddress), LabNetworkId.A);
    answeredThrough(await lab.probe(LabNetworkId.B, b().subnet.hostAddress), LabNetworkId.B);

    // Only A is sent with the role; the agent takes it from B in the same change.
    expect(await lab.setupNetworks({ neta: neta() })).toEqual({ code: 0, message: 'Done' });
    expect(routing(await lab.kernel())).toEqual(expectedRouting([routeA(), routeB(), routeC()], routeA()));
    caps = await capabilities();
    expect(caps.networks.neta).toMatchObject({ ipv4defaultroute: true });
    expect(caps.networks.netb).toMatchObject({ ipv4defaultroute: false });
  });

  it("changing B's gateway replaces only the default route of B's table", async () => {
    await lab.addGatewayAddress(LabNetworkId.B, '198.18.2.254');
    expect(await lab.setupNetworks({ netb: netb({ gateway: '198.18.2.254' }) })).toEqual({ code: 0, message: 'Done' });
    expect(routing(await lab.kernel())).toEqual(expectedRouting([routeA(), routeB('198.18.2.254'), routeC()], routeA()));
    answeredThrough(await lab.probe(LabNetworkId.B, b().subnet.hostAddress), LabNetworkId.B);
  });

  it("a DHCP renewal that moves C's subnet moves its routes and rules, is announced, and C's client is answered again", async () => {
    const events: string[] = [];
    const listener = await lab.connect({ onEvent: (event) => events.push(event.method) });
    try {
      // A call answered on this connection proves its event subscription is in place.
      expect(await listener.call('Host.ping2')).toBe(true);
      const before = c().subnet.cidr;
      await lab.renumberDhcpNetwork();
      expect(c().subnet.cidr).not.toBe(before);
      const address = await leaseOfC();
      expect(routing(await lab.kernel())).toEqual(expectedRouting([routeA(), routeB('198.18.2.254'), routeC()], routeA()));
      // The lease file, whose change the agent announces, is written just after the routes and rules.
      await vi.waitFor(() => expect(events).toContain('|net|host_conn|no_id'), { timeout: 10_000 });
      expect((await capabilities()).networks.netc).toMatchObject({ addr: address, gateway: c().subnet.gateway, ipv4defaultroute: false });
      answeredThrough(await lab.probe(LabNetworkId.C, address), LabNetworkId.C);
    } finally {
      await listener.close();
    }
  });

  it('switching C from DHCP to static and back leaves exactly the routes and rules of the new setting', async () => {
    const staticC = {
      nic: 'eth2',
      bridged: 'true',
      ipaddr: c().subnet.hostAddress,
      prefix: LAB_PREFIX_LENGTH,
      gateway: c().subnet.gateway,
    };
    expect(await lab.setupNetworks({ netc: staticC })).toEqual({ code: 0, message: 'Done' });
    const kernel = await lab.kernel();
    expect(routing(kernel)).toEqual(expectedRouting([routeA(), routeB('198.18.2.254'), routeC('static')], routeA()));
    expect(kernel.addresses.filter((x) => x.dev === TOP.c && x.family === 4)).toEqual([
      { dev: TOP.c, family: 4, address: c().subnet.hostAddress, prefixLen: LAB_PREFIX_LENGTH, dynamic: false },
    ]);
    answeredThrough(await lab.probe(LabNetworkId.C, c().subnet.hostAddress), LabNetworkId.C);

    expect(await lab.setupNetworks({ netc: netcDhcp })).toEqual({ code: 0, message: 'Done' });
    const address = await leaseOfC();
    expect(routing(await lab.kernel())).toEqual(expectedRouting([routeA(), routeB('198.18.2.254'), routeC()], routeA()));
    answeredThrough(await lab.probe(LabNetworkId.C, address), LabNetworkId.C);
  });

  it('a reboot restores every table and rule from the safe configuration, and the traffic passes again', async () => {
    expect(await lab.agentClient.call('Host.setSafeNetworkConfig', {})).toBe(true);
    const before = routing(await lab.kernel());
    await lab.reboot();
    const address = await leaseOfC();
    expect(routing(await lab.kernel())).toEqual(before);
    const restores = (await readJournal(lab.agent.journalFile)).filter((e) => e.kind === 'restore');
    expect(restores.at(-1)).toMatchObject({ outcome: 'ok', ops: expect.any(Number) });
    expect(restores.at(-1)?.ops).toBeGreaterThan(0);
    answeredThrough(await lab.probe(LabNetworkId.A, a().subnet.hostAddress), LabNetworkId.A);
    answeredThrough(await lab.probe(LabNetworkId.B, b().subnet.hostAddress), LabNetworkId.B);
    answeredThrough(await lab.probe(LabNetworkId.C, address), LabNetworkId.C);
  });

  it("removing B removes exactly B's table routes and rules", async () => {
    expect(await lab.setupNetworks({ netb: { remove: true } })).toEqual({ code: 0, message: 'Done' });
    expect(routing(await lab.kernel())).toEqual(expectedRouting([routeA(), routeC()], routeA()));
    answeredThrough(await lab.probe(LabNetworkId.A, a().subnet.hostAddress), LabNetworkId.A);
  });

  // Its client's stop takes the lease's rules along (our dhclient script), and deleting the bridge takes the
  // address and routes: the change must not delete the rules a second time (ip would refuse, and the change
  // would roll back).
  it("removing the DHCP network C, while it holds its lease, removes exactly C's table routes and rules", async () => {
    await leaseOfC();
    expect(await lab.setupNetworks({ netc: { remove: true } })).toEqual({ code: 0, message: 'Done' });
    expect(routing(await lab.kernel())).toEqual(expectedRouting([routeA()], routeA()));
    answeredThrough(await lab.probe(LabNetworkId.A, a().subnet.hostAddress), LabNetworkId.A);
  });

  it('C added again under a connectivity check that no one confirms: its lease comes meanwhile, and the rollback still leaves exactly A', async () => {
    const unconfirmed = lab.agentClient
      .call(
        'Host.setupNetworks',
        { networks: { netc: netcDhcp }, bondings: {}, options: { connectivityTimeout: 10 } },
        { timeoutMs: 60_000 },
      )
      .catch((err: unknown) => err);
    // The lease's address and rules are there before the rollback (they are what it must clean up).
    await leaseOfC();
    const err = await unconfirmed;
    expect(err).toBeInstanceOf(AgentRpcError);
    expect((err as AgentRpcError).code).toBe(VdsmCode.LOST_CONNECTION);
    expect(routing(await lab.kernel())).toEqual(expectedRouting([routeA()], routeA()));
    expect((await lab.kernel()).links.some((l) => l.name === TOP.c)).toBe(false);
  });
});
