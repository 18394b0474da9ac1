/**
 * A router advertises on a network's segment (dnsmasq: SLAAC and DHCPv6 from one prefix, finite lifetimes):
 * the address the kernel makes from it (SLAAC) and the default route it learns are the kernel's, and the
 * agent's read leaves them out. A change of that network neither removes them nor fails its verification
 * over them, the capabilities do not list them, so the engine reads the network as configured, and a DHCPv6
 * client that stops takes only its lease. On a VM network the advertiser can be a guest: the last case shows
 * the host setting that stops a bridge made after it from taking anything
 * (docs/setup-networks.md#what-our-agent-does-not-do).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stopPid } from '../../lib/process';
import { reportedIpv6 } from '../../model/host-networking/reported-network-details';
import { Capabilities } from '../../model/vdsm/capabilities';
import type { KernelState } from '../../model/net-state';
import { addVethPair, Netns, netnsUnavailableReason, uniqueToken } from '../../testbed/netns';
import { createAgentHost, type AgentHost } from '../helpers/agent-host';
import { startRouterAdvertiser, waitForLearnedDefaultRoute } from '../helpers/router-advertiser';
import { skipBecause } from '../helpers/skip';

const unavailable = await netnsUnavailableReason();
const PREFIX = '2001:db8:77:0:';
const VMNET = { nic: 'eth1', bridged: 'true', ipaddr: '198.18.77.10', netmask: '255.255.255.0' };

describe.skipIf(skipBecause(unavailable, 'router advertisement tests'))('a router advertising on a network’s segment', () => {
  let h: AgentHost;
  let dnsmasqPid: number | null = null;

  const setup = (vmnet: Record<string, unknown>) =>
    h.client.call('Host.setupNetworks', { networks: { vmnet }, bondings: {}, options: { connectivityCheck: 'false' } });
  /** What the kernel learned on vmnet, as ip shows it (the agent's own read leaves it out). */
  const learned = async () => {
    const [link] = await h.host.ipJson<Array<{ addr_info: Array<{ local: string; mngtmpaddr?: boolean }> }>>([
      '-6',
      'addr',
      'show',
      'dev',
      'vmnet',
    ]);
    const routes = await h.host.ipJson<Array<{ dst: string; protocol?: string }>>(['-6', 'route', 'show', 'dev', 'vmnet']);
    return {
      addresses: (link?.addr_info ?? []).filter((a) => a.mngtmpaddr && a.local.startsWith(PREFIX)).map((a) => a.local),
      routes: routes.filter((r) => r.protocol === 'ra' && r.dst === 'default').map((r) => r.dst),
    };
  };
  /** vmnet's IPv6 addresses as the agent reads the kernel. */
  const modelled = async (kernel?: KernelState) =>
    (kernel ?? (await h.kernel())).addresses.filter((a) => a.dev === 'vmnet' && a.family === 6);

  beforeAll(async () => {
    h = await createAgentHost();
    await h.manager.ip(['addr', 'add', '2001:db8:77::1/64', 'dev', 'p1', 'nodad']);
    const pidFile = join(h.dir, 'dnsmasq.pid');
    // Advertises the prefix for SLAAC and serves DHCPv6 from it too; DNS off. The long interval means an
    // address taken away is not back by the next look.
    dnsmasqPid = await startRouterAdvertiser(h.manager, 'p1', '2001:db8:77::100,2001:db8:77::1ff,slaac,64,1h', pidFile, [
      '--ra-param=p1,600',
    ]);
    expect(await setup(VMNET)).toEqual({ code: 0, message: 'Done' });
    // The new bridge solicits; the router answers, and the kernel makes an address once DAD is done.
    const deadline = Date.now() + 30_000;
    for (;;) {
      const { addresses, routes } = await learned();
      if (addresses.length && routes.length) break;
      if (Date.now() > deadline) throw new Error('no SLAAC address or learned route on vmnet within 30 s');
      await new Promise((r) => setTimeout(r, 250));
    }
  }, 60_000);

  afterAll(async () => {
    if (dnsmasqPid) await stopPid(dnsmasqPid, { timeoutMs: 3_000 });
    await h?.close();
  });

  it("the agent's read of the kernel leaves out what the kernel learned", async () => {
    expect(await learned()).toEqual({ addresses: [expect.stringMatching(/^2001:db8:77:0:/)], routes: ['default'] });
    const kernel = await h.kernel();
    expect(await modelled(kernel)).toEqual([]);
    expect(kernel.routes.filter((r) => r.dev === 'vmnet' && r.family === 6)).toEqual([]);
  });

  it('a change of the network keeps them, and verifies', async () => {
    const before = await learned();
    expect(await setup({ ...VMNET, mtu: '1400' })).toEqual({ code: 0, message: 'Done' });
    const after = await h.kernel();
    expect(after.links.find((l) => l.name === 'vmnet')?.mtu).toBe(1400);
    expect(await learned()).toEqual(before);
    // The request again: nothing to do, so no op at all.
    expect(await setup({ ...VMNET, mtu: '1400' })).toEqual({ code: 0, message: 'Done' });
    expect((await h.journal()).filter((e) => e.kind === 'apply').at(-1)).toMatchObject({ outcome: 'ok', ops: 0 });
    expect(await learned()).toEqual(before);
  });

  it('the capabilities leave them out: the engine reads the network as without IPv6, as it is configured', async () => {
    const caps = Capabilities.parse(await h.client.call('Host.getCapabilities', {}));
    const reported = caps.networks.vmnet;
    expect(reported).toMatchObject({ dhcpv6: false, ipv6autoconf: false, ipv6addrs: [], ipv6gateway: '::' });
    expect(reportedIpv6(reported!)).toEqual({ bootProtocol: 'NONE', address: null, prefix: null, gateway: null });
  });

  it('beside a DHCPv6 lease: the lease is reported, the SLAAC address is not, and giving DHCPv6 up keeps the latter', async () => {
    const before = await learned();
    expect(await setup({ ...VMNET, dhcpv6: 'true', blockingdhcp: 'true' })).toEqual({ code: 0, message: 'Done' });
    const leased = await modelled();
    expect(leased).toEqual([expect.objectContaining({ dynamic: true })]);
    expect(await learned()).toEqual(before);
    const caps = Capabilities.parse(await h.client.call('Host.getCapabilities', {}));
    expect(caps.networks.vmnet).toMatchObject({ dhcpv6: true, ipv6addrs: [`${leased[0]?.address}/${leased[0]?.prefixLen}`] });

    expect(await setup(VMNET)).toEqual({ code: 0, message: 'Done' });
    expect(await modelled()).toEqual([]);
    expect(await learned()).toEqual(before);
    expect(Capabilities.parse(await h.client.call('Host.getCapabilities', {})).networks.vmnet).toMatchObject({
      dhcpv6: false,
      ipv6addrs: [],
    });
  });

  // Last: it changes the host namespace's default for new devices. On a VM network the advertiser can be a
  // guest; the operator's setting that stops it is in docs/setup-networks.md#what-our-agent-does-not-do.
  it('with net.ipv6.conf.default.accept_ra=0 on the host, a bridge the agent makes afterwards takes nothing from an advertisement', async () => {
    await h.host.exec(['sysctl', '-qw', 'net.ipv6.conf.default.accept_ra=0']);
    expect(await setup({ remove: 'true' })).toEqual({ code: 0, message: 'Done' });
    expect(await setup(VMNET)).toEqual({ code: 0, message: 'Done' });
    const acceptRa = await h.host.exec(['cat', '/proc/sys/net/ipv6/conf/vmnet/accept_ra']);
    expect(acceptRa.stdout.trim()).toBe('0');
    // A witness on the same bridge, in a namespace of its own with the kernel's defaults, solicits: the
    // router's answer crosses the bridge, so vmnet receives what the witness learns from.
    const witness = await Netns.create(`hpaw-${uniqueToken()}`);
    try {
      await addVethPair({ ns: h.host, name: 'wit0' }, { ns: witness, name: 'wit1' });
      await h.host.ip(['link', 'set', 'wit0', 'master', 'vmnet', 'up']);
      await witness.ip(['link', 'set', 'wit1', 'up']);
      await waitForLearnedDefaultRoute(witness, 'the witness');
      expect(await learned()).toEqual({ addresses: [], routes: [] });
    } finally {
      await witness.destroy();
    }
  });
});
