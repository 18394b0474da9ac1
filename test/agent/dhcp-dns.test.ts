/**
 * DNS from DHCP against a real DHCP server: dnsmasq on the manager side of eth1 offers DNS servers and
 * search domains with short renewal times, and the host's default-route network takes its address from it. The lease's
 * nameservers reach the namespace's own resolv.conf (never the machine's); a server that changes them is
 * followed on the next renewal, and after an agent restart; nameservers named in the request win over the
 * lease's; and a lease change that comes while a change waits for its confirmation is written only once
 * that change is rolled back.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { readLeaseFile } from '../../agent/backend/dhcp/lease';
import { Capabilities } from '../../model/vdsm/capabilities';
import { VdsmCode } from '../../model/vdsm/error-codes';
import { startDnsmasq, stopDnsmasq } from '../../testbed/dnsmasq';
import { AgentClient } from '../../vdsm/client/client';
import { AgentRpcError } from '../../vdsm/client/errors';
import { createAgentHost, type AgentHost } from '../helpers/agent-host';
import { skipBecause } from '../helpers/skip';
import { kernelSkipReason } from './backend/kernel-helpers';

const SERVER = { address: '198.18.253.1', pool: ['198.18.253.100', '198.18.253.150'] } as const;
/** dnsmasq's lease minimum is 2 minutes; T1 and T2 (DHCP options 58 and 59) make the client renew within seconds. */
const RENEWAL = { t1Seconds: 2, t2Seconds: 4 };
const FIRST_DNS = ['192.0.2.53'];
const SECOND_DNS = ['192.0.2.54', '192.0.2.55'];
const THIRD_DNS = ['192.0.2.56'];
const STATIC_DNS = ['198.51.100.7'];
const OTHER_LINES = '# hostprov agent test host: no DNS\noptions timeout:1 attempts:1\n';
/** Offered as the domain name and the domain search list; the domain name comes first, as the stock dhclient-script puts it. */
const DOMAIN_NAME = 'lab.example.org';
const SEARCH_DOMAINS = ['example.org', 'corp.example.org'];
const SEARCH_LINE = `search ${[DOMAIN_NAME, ...SEARCH_DOMAINS].join(' ')}\n`;
const RENEWAL_TIMEOUT_MS = 20_000;

/** The resolv.conf text the agent should leave: the test host's other lines, the lease's search line, then `servers`. */
const withServers = (servers: readonly string[]): string =>
  `${OTHER_LINES}${SEARCH_LINE}${servers.map((s) => `nameserver ${s}\n`).join('')}`;

describe.skipIf(skipBecause(kernelSkipReason, 'DNS from DHCP tests'))("the default-route network's DHCP nameservers", () => {
  let h: AgentHost;
  let resolvConf = '';
  let dnsmasqPid: number | null = null;
  let dnsmasqDir = '';
  /** The machine's own resolv.conf, which no test may change. */
  const machine = () => (existsSync('/etc/resolv.conf') ? readFileSync('/etc/resolv.conf', 'utf8') : null);
  const machineBefore = machine();

  /** (Re)starts dnsmasq offering `nameservers`; its lease file stays, so the host renews the same address. */
  async function serveDhcp(nameservers: readonly string[]): Promise<void> {
    if (dnsmasqPid !== null) await stopDnsmasq(dnsmasqPid, dnsmasqDir);
    dnsmasqPid = await startDnsmasq(h.manager, {
      dir: dnsmasqDir,
      interface: 'p1',
      plan: { dhcpPoolStart: SERVER.pool[0], dhcpPoolEnd: SERVER.pool[1], gateway: SERVER.address },
      reservations: [],
      leaseTime: '2m',
      renewal: RENEWAL,
      nameservers,
      domainName: DOMAIN_NAME,
      searchDomains: SEARCH_DOMAINS,
    });
  }

  /** The nameservers of the host's current lease on eth1, as its dhclient recorded them. */
  const leaseNameservers = async (): Promise<string[] | undefined> =>
    (await readLeaseFile(join(h.runtimeDir, 'dhcp', 'eth1.4.json')))?.nameservers;

  const dhcpNetwork = (extra: Record<string, unknown> = {}) => ({
    nic: 'eth1',
    bridged: 'false',
    bootproto: 'dhcp',
    defaultRoute: true,
    blockingdhcp: true,
    ...extra,
  });

  beforeAll(async () => {
    h = await createAgentHost();
    resolvConf = join(h.host.etcDir, 'resolv.conf');
    dnsmasqDir = join(h.dir, 'dnsmasq');
    await h.manager.ip(['addr', 'add', `${SERVER.address}/24`, 'dev', 'p1']);
    await serveDhcp(FIRST_DNS);
  });
  afterAll(async () => {
    if (dnsmasqPid !== null) await stopDnsmasq(dnsmasqPid, dnsmasqDir);
    await h?.close();
  });
  afterEach(() => {
    expect(machine()).toBe(machineBefore);
  });

  it("writes the lease's nameservers and search domains in place of the file's, keeping its other lines, and journals it", async () => {
    writeFileSync(resolvConf, `${OTHER_LINES}nameserver 198.51.100.1\n`);
    const setup = { networks: { dhcpnet: dhcpNetwork() }, bondings: {}, options: { connectivityCheck: 'false' } };
    expect(await h.client.call('Host.setupNetworks', setup, { timeoutMs: 60_000 })).toEqual({ code: 0, message: 'Done' });

    await vi.waitFor(() => expect(readFileSync(resolvConf, 'utf8')).toBe(withServers(FIRST_DNS)), { timeout: 5_000 });
    expect((await h.journal()).filter((e) => e.kind === 'dns').at(-1)).toMatchObject({
      outcome: 'ok',
      detail: `from the DHCP lease: nameservers ${FIRST_DNS.join(', ')}; search ${[DOMAIN_NAME, ...SEARCH_DOMAINS].join(' ')}`,
    });
    expect(Capabilities.parse(await h.client.call('Host.getCapabilities', {})).nameservers).toEqual(FIRST_DNS);
  });

  it('follows a DHCP server that offers other nameservers, on the next renewal, and announces the change', async () => {
    const events: string[] = [];
    const listener = await AgentClient.connect(
      { host: '127.0.0.1', port: h.agent.address.port, tls: { insecure: true } },
      { onEvent: (event) => events.push(event.method) },
    );
    try {
      // A call answered on this connection proves its event subscription is in place.
      expect(await listener.call('Host.ping2')).toBe(true);
      await serveDhcp(SECOND_DNS);
      await vi.waitFor(() => expect(readFileSync(resolvConf, 'utf8')).toBe(withServers(SECOND_DNS)), {
        timeout: RENEWAL_TIMEOUT_MS,
        interval: 200,
      });
      expect(events).toContain('|net|host_conn|no_id');
    } finally {
      await listener.close();
    }
    expect(Capabilities.parse(await h.client.call('Host.getCapabilities', {})).nameservers).toEqual(SECOND_DNS);
  });

  it("keeps nameservers the request names, whatever the lease offers; without them the lease's count again", async () => {
    const named = {
      networks: { dhcpnet: dhcpNetwork({ nameservers: STATIC_DNS }) },
      bondings: {},
      options: { connectivityCheck: 'false' },
    };
    expect(await h.client.call('Host.setupNetworks', named, { timeoutMs: 60_000 })).toEqual({ code: 0, message: 'Done' });
    expect(readFileSync(resolvConf, 'utf8')).toBe(withServers(STATIC_DNS));

    await serveDhcp(THIRD_DNS);
    await vi.waitFor(async () => expect(await leaseNameservers()).toEqual(THIRD_DNS), { timeout: RENEWAL_TIMEOUT_MS, interval: 200 });
    // The renewal was seen (the lease file is what the agent watches); give its handling a moment to go wrong.
    await new Promise((r) => setTimeout(r, 500));
    expect(readFileSync(resolvConf, 'utf8')).toBe(withServers(STATIC_DNS));

    const unnamed = { networks: { dhcpnet: dhcpNetwork() }, bondings: {}, options: { connectivityCheck: 'false' } };
    expect(await h.client.call('Host.setupNetworks', unnamed, { timeoutMs: 60_000 })).toEqual({ code: 0, message: 'Done' });
    await vi.waitFor(() => expect(readFileSync(resolvConf, 'utf8')).toBe(withServers(THIRD_DNS)), { timeout: 5_000 });
  });

  it('writes what a renewal offered while the agent was stopped, when it starts again', async () => {
    await h.restartAgent(false, async () => {
      await serveDhcp(SECOND_DNS);
      await vi.waitFor(async () => expect(await leaseNameservers()).toEqual(SECOND_DNS), { timeout: RENEWAL_TIMEOUT_MS, interval: 200 });
      expect(readFileSync(resolvConf, 'utf8')).toBe(withServers(THIRD_DNS));
    });
    await vi.waitFor(() => expect(readFileSync(resolvConf, 'utf8')).toBe(withServers(SECOND_DNS)), { timeout: 5_000 });
  });

  it('waits while a change waits for its confirmation: the rollback restores the file, then the new lease is written', async () => {
    expect(readFileSync(resolvConf, 'utf8')).toBe(withServers(SECOND_DNS));
    // Unconfirmed: named nameservers are written once the kernel took the change, and rolled back after 12 s.
    const change = h.client
      .call(
        'Host.setupNetworks',
        { networks: { dhcpnet: dhcpNetwork({ nameservers: STATIC_DNS }) }, bondings: {}, options: { connectivityTimeout: 12 } },
        { timeoutMs: 60_000 },
      )
      .catch((e: unknown) => e);
    await vi.waitFor(() => expect(readFileSync(resolvConf, 'utf8')).toBe(withServers(STATIC_DNS)), { timeout: 5_000 });

    await serveDhcp(FIRST_DNS);
    await vi.waitFor(async () => expect(await leaseNameservers()).toEqual(FIRST_DNS), { timeout: 10_000, interval: 100 });
    // The lease changed while the change waits: the file is still the change's.
    expect(readFileSync(resolvConf, 'utf8')).toBe(withServers(STATIC_DNS));

    const err = await change;
    expect(err).toBeInstanceOf(AgentRpcError);
    expect((err as AgentRpcError).code).toBe(VdsmCode.LOST_CONNECTION);
    await vi.waitFor(() => expect(readFileSync(resolvConf, 'utf8')).toBe(withServers(FIRST_DNS)), { timeout: 5_000 });
    const kinds = (await h.journal()).map((e) => e.kind);
    expect(kinds.slice(-2)).toEqual(['rollback', 'dns']);
  });
});
