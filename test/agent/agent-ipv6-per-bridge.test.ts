/**
 * IPv6 per bridge, with the agent running inside the host's namespace as in production (the agent lab: its
 * boot command), where it can read and set /proc/sys/net: the bridge of a network without IPv6
 * configuration has IPv6 off, so a guest on that VM network that sends router advertisements gives the host
 * nothing, while a witness on the same bridge learns from them; an IPv6 address turns it on first; a
 * rollback puts it back. With IPv6 configuration, the bridge takes a guest's advertisements only with
 * `ipv6autoconf`, and forgets what it learned when that goes. A bridge port has IPv6 off; a bridgeless
 * network's device has its network's IPv6, and IPv6 off once the network leaves it; a device without a
 * network reports `ipv6autoconf` as its switches say; a NIC a network left keeps IPv6 off across a boot once
 * the configuration is safe (docs/setup-networks.md#ipv6-per-device).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientEndpoint } from '../../activities/agent-endpoint';
import { SecretResolver } from '../../activities/secrets';
import { stopPid } from '../../lib/process';
import { createAgentLab, type AgentLab } from '../../testbed/agent-lab';
import { addVethPair, Netns, uniqueToken } from '../../testbed/netns';
import { testbedUnavailableReason } from '../../testbed/requirements';
import { AgentClient } from '../../vdsm/client/client';
import { Capabilities } from '../../model/vdsm/capabilities';
import { startRouterAdvertiser, waitForLearnedDefaultRoute } from '../helpers/router-advertiser';
import { skipBecause } from '../helpers/skip';

const reason = await testbedUnavailableReason();
const HOST = 'v6';
const VMNET = { nic: 'eth1', bridged: 'true' };
const WITH_IPV6 = { ...VMNET, ipv6addr: '2001:db8:6::10/64' };
const WITH_AUTOCONF = { ...VMNET, ipv6autoconf: 'true' };
/** The prefix the guest advertises. */
const GUEST_PREFIX = '2001:db8:66:';

describe.skipIf(skipBecause(reason, 'IPv6 per bridge (agent lab)'))('IPv6 on the bridge of a network without IPv6 configuration', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hostprov-ipv6-'));
  let lab: AgentLab;
  let ns: Netns;
  let client: AgentClient;

  const connectToAgent = () => {
    const request = lab.installRequest(HOST);
    return AgentClient.connect(
      clientEndpoint(
        { ...request.agent, host: lab.testbed.host(HOST).address, port: request.agent.port ?? 54321 },
        { secrets: new SecretResolver({ secretsDir: dir }) },
      ),
    );
  };
  const setup = (vmnet: Record<string, unknown>, options: Record<string, unknown> = { connectivityCheck: 'false' }) =>
    client.call('Host.setupNetworks', { networks: { vmnet }, bondings: {}, options });
  const disableIpv6 = async (dev: string) => (await ns.exec(['cat', `/proc/sys/net/ipv6/conf/${dev}/disable_ipv6`])).stdout.trim();
  const ipv6Addresses = async (dev: string) =>
    (await ns.ipJson<Array<{ addr_info: Array<{ local: string; family: string }> }>>(['-6', 'addr', 'show', 'dev', dev]))
      .flatMap((l) => l.addr_info)
      .map((a) => a.local);
  const routesVia = async (dev: string) => ns.ipJson<Array<{ dst: string }>>(['-6', 'route', 'show', 'dev', dev]);
  /** Whether vmnet takes router advertisements, as its three switches say ('1 2 1' or '0 0 0'). */
  const takesAdvertisements = async () =>
    (await ns.exec(['sh', '-c', 'cd /proc/sys/net/ipv6/conf/vmnet && echo $(cat autoconf accept_ra accept_redirects)'])).stdout.trim();
  /** Whether vmnet makes default routes of advertised routers (`accept_ra_defrtr`). */
  const defaultRouters = async () => (await ns.exec(['cat', '/proc/sys/net/ipv6/conf/vmnet/accept_ra_defrtr'])).stdout.trim();
  /** Waits up to 30 s for vmnet to have learned what `done` looks for. */
  const learnedWithin = async (done: (learned: Awaited<ReturnType<typeof learnedOnVmnet>>) => boolean, what: string) => {
    const deadline = Date.now() + 30_000;
    while (!done(await learnedOnVmnet())) {
      if (Date.now() > deadline) throw new Error(`vmnet learned no ${what} within 30 s`);
      await new Promise((r) => setTimeout(r, 250));
    }
  };
  /** What vmnet learned from the guest: its SLAAC addresses and routes of protocol ra. */
  const learnedOnVmnet = async () => ({
    addresses: (await ipv6Addresses('vmnet')).filter((a) => a.startsWith(GUEST_PREFIX)),
    routes: (await ns.ipJson<Array<{ dst: string; protocol?: string }>>(['-6', 'route', 'show', 'dev', 'vmnet']))
      .filter((r) => r.protocol === 'ra')
      .map((r) => r.dst),
  });
  /**
   * A guest advertising GUEST_PREFIX for SLAAC every few seconds, and a witness that learns from it, both on
   * vmnet's bridge; `body` runs once the witness has a default route from the guest.
   */
  const withAdvertisingGuest = async (body: () => Promise<void>, raParams: string[] = []) => {
    const token = uniqueToken();
    const guest = await Netns.create(`hpg-${token}`);
    const witness = await Netns.create(`hpw-${token}`);
    let dnsmasqPid: number | null = null;
    try {
      await addVethPair({ ns, name: 'vnet0' }, { ns: guest, name: 'g0' });
      await addVethPair({ ns, name: 'vnet1' }, { ns: witness, name: 'w0' });
      for (const tap of ['vnet0', 'vnet1']) await ns.ip(['link', 'set', tap, 'master', 'vmnet', 'up']);
      await guest.ip(['addr', 'add', '2001:db8:66::1/64', 'dev', 'g0', 'nodad']);
      await guest.ip(['link', 'set', 'g0', 'up']);
      dnsmasqPid = await startRouterAdvertiser(guest, 'g0', '2001:db8:66::,ra-only,64,1h', join(dir, 'guest-dnsmasq.pid'), raParams);
      // The witness solicits when its link comes up; the guest's answer crosses the bridge.
      await witness.ip(['link', 'set', 'w0', 'up']);
      await waitForLearnedDefaultRoute(witness, 'the witness');
      await body();
    } finally {
      if (dnsmasqPid) await stopPid(dnsmasqPid, { timeoutMs: 3_000 });
      await guest.destroy();
      await witness.destroy();
      for (const tap of ['vnet0', 'vnet1']) await ns.ip(['link', 'del', tap], { allowFailure: true });
    }
  };

  beforeAll(async () => {
    lab = await createAgentLab({ stateDir: dir, hosts: [{ name: HOST, nics: 2 }] });
    await lab.waitForAgents();
    ns = Netns.attach(lab.testbed.host(HOST).namespace);
    client = await connectToAgent();
  }, 120_000);

  afterAll(async () => {
    await client?.close();
    await lab?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a new VM network bridge has IPv6 off: no link-local address, no route', async () => {
    expect(await setup(VMNET)).toEqual({ code: 0, message: 'Done' });
    expect(await disableIpv6('vmnet')).toBe('1');
    expect(await ipv6Addresses('vmnet')).toEqual([]);
    expect(await routesVia('vmnet')).toEqual([]);
    // Its port has no IP stack of its own; eth0, which the request does not name, keeps the kernel's default.
    expect(await disableIpv6('eth1')).toBe('1');
    expect(await disableIpv6('eth0')).toBe('0');
    expect(
      lab
        .journal(HOST)
        .filter((e) => e.kind === 'apply')
        .at(-1),
    ).toMatchObject({ outcome: 'ok' });
  });

  it("a guest's router advertisements give the host nothing there, while a witness on the same bridge learns", async () => {
    await withAdvertisingGuest(async () => {
      expect(await ipv6Addresses('vmnet')).toEqual([]);
      // On this lab's one switch the advertisement also reaches the host's eth0 through the bridge's uplink; a
      // host whose VM networks have segments of their own does not see it there.
      expect(await routesVia('vmnet')).toEqual([]);
    });
  });

  it('an IPv6 address turns it on first; a rollback turns it off again; no IPv6 again turns it off', async () => {
    // Not confirmed within 2 s: the host rolls the change back, IPv6 off again and the address gone.
    await expect(setup(WITH_IPV6, { connectivityCheck: 'true', connectivityTimeout: '2' })).rejects.toMatchObject({ code: 10 });
    expect(await disableIpv6('vmnet')).toBe('1');
    expect(await ipv6Addresses('vmnet')).toEqual([]);

    expect(await setup(WITH_IPV6)).toEqual({ code: 0, message: 'Done' });
    expect(await disableIpv6('vmnet')).toBe('0');
    expect(await ipv6Addresses('vmnet')).toContain('2001:db8:6::10');

    expect(await setup(VMNET)).toEqual({ code: 0, message: 'Done' });
    expect(await disableIpv6('vmnet')).toBe('1');
    expect(await ipv6Addresses('vmnet')).toEqual([]);
    // The same request again: nothing to do.
    expect(await setup(VMNET)).toEqual({ code: 0, message: 'Done' });
    expect(
      lab
        .journal(HOST)
        .filter((e) => e.kind === 'apply')
        .at(-1),
    ).toMatchObject({ outcome: 'ok', ops: 0 });
  });

  it("with IPv6 configuration, the bridge takes a guest's advertisements only with ipv6autoconf, and forgets them when it goes", async () => {
    expect(await setup(WITH_IPV6)).toEqual({ code: 0, message: 'Done' });
    expect([await disableIpv6('vmnet'), await takesAdvertisements()]).toEqual(['0', '0 0 0']);
    // The guest advertises every 4 s, so a bridge that starts taking advertisements hears one soon.
    await withAdvertisingGuest(async () => {
      expect(await learnedOnVmnet()).toEqual({ addresses: [], routes: [] });

      // Not the default route's network: an address from the advertisements, no default route.
      expect(await setup(WITH_AUTOCONF)).toEqual({ code: 0, message: 'Done' });
      expect([await disableIpv6('vmnet'), await takesAdvertisements(), await defaultRouters()]).toEqual(['0', '1 2 1', '0']);
      await learnedWithin((learned) => learned.addresses.length > 0, 'a SLAAC address');
      expect((await learnedOnVmnet()).routes).not.toContain('default');
      const caps = Capabilities.parse(await client.call('Host.getCapabilities', {}));
      expect([caps.networks.vmnet?.ipv6autoconf, caps.bridges.vmnet?.ipv6autoconf]).toEqual([true, true]);

      // The default route's network: the advertised router becomes the default route; no longer, it goes at once.
      expect(await setup({ ...WITH_AUTOCONF, defaultRoute: 'true' })).toEqual({ code: 0, message: 'Done' });
      expect(await defaultRouters()).toBe('1');
      await learnedWithin((learned) => learned.routes.includes('default'), 'a default route');
      expect(await setup(WITH_AUTOCONF)).toEqual({ code: 0, message: 'Done' });
      expect(await defaultRouters()).toBe('0');
      const kept = await learnedOnVmnet();
      expect([kept.addresses.length, kept.routes.includes('default')]).toEqual([1, false]);

      // Back to a static address: advertisements ignored, and what the bridge learned from them gone at once.
      expect(await setup(WITH_IPV6)).toEqual({ code: 0, message: 'Done' });
      expect(await takesAdvertisements()).toBe('0 0 0');
      expect(await learnedOnVmnet()).toEqual({ addresses: [], routes: [] });
      expect(await ipv6Addresses('vmnet')).toContain('2001:db8:6::10');
      const after = Capabilities.parse(await client.call('Host.getCapabilities', {}));
      expect([after.networks.vmnet?.ipv6autoconf, after.networks.vmnet?.ipv6addrs]).toEqual([false, ['2001:db8:6::10/64']]);
      // Still ignored at the guest's next advertisements.
      await new Promise((r) => setTimeout(r, 5_000));
      expect(await learnedOnVmnet()).toEqual({ addresses: [], routes: [] });

      // Autoconf unconfirmed: the bridge takes advertisements while the host waits, and the rollback to the
      // static address ignores them again, with nothing learned left.
      const unconfirmed = setup(WITH_AUTOCONF, { connectivityCheck: 'true', connectivityTimeout: '3' });
      unconfirmed.catch(() => undefined);
      await expect.poll(takesAdvertisements, { timeout: 3_000, interval: 100 }).toBe('1 2 1');
      await expect(unconfirmed).rejects.toMatchObject({ code: 10 });
      expect(await takesAdvertisements()).toBe('0 0 0');
      expect(await learnedOnVmnet()).toEqual({ addresses: [], routes: [] });
      expect(await ipv6Addresses('vmnet')).toContain('2001:db8:6::10');
    }, ['--ra-param=g0,4']);
    expect(await setup(VMNET)).toEqual({ code: 0, message: 'Done' });
  }, 120_000);

  it('with IPv6 forwarding on, an ipv6autoconf bridge still takes advertisements; one an older agent set to accept_ra 1 is mended', async () => {
    const forwarding = (on: boolean) => ns.exec(['sysctl', '-qw', `net.ipv6.conf.all.forwarding=${on ? 1 : 0}`]);
    expect(await setup(WITH_IPV6)).toEqual({ code: 0, message: 'Done' });
    await forwarding(true);
    try {
      await withAdvertisingGuest(async () => {
        expect(await setup(WITH_AUTOCONF)).toEqual({ code: 0, message: 'Done' });
        expect([await takesAdvertisements(), (await ns.exec(['cat', '/proc/sys/net/ipv6/conf/vmnet/forwarding'])).stdout.trim()]).toEqual([
          '1 2 1',
          '1',
        ]);
        await learnedWithin((learned) => learned.addresses.length > 0, 'a SLAAC address while forwarding');

        // As an older agent (or VDSM) left it: at 1 the forwarding bridge ignores advertisements, so it reads as
        // not taking them, and the same request writes 2 again.
        await ns.exec(['sh', '-c', 'echo 1 > /proc/sys/net/ipv6/conf/vmnet/accept_ra']);
        const caps = Capabilities.parse(await client.call('Host.getCapabilities', {}));
        expect(caps.bridges.vmnet?.ipv6autoconf).toBe(true);
        expect(await setup(WITH_AUTOCONF)).toEqual({ code: 0, message: 'Done' });
        expect(await takesAdvertisements()).toBe('1 2 1');
        expect(
          lab
            .journal(HOST)
            .filter((e) => e.kind === 'apply')
            .at(-1)?.ops,
        ).toBeGreaterThan(0);
      }, ['--ra-param=g0,4']);
    } finally {
      await forwarding(false);
    }
    expect(await setup(VMNET)).toEqual({ code: 0, message: 'Done' });
  }, 120_000);

  it("a bridgeless network decides its device's IPv6, which goes off when the network leaves; a device without a network reports its switches", async () => {
    const autoconfReported = async () => {
      const caps = Capabilities.parse(await client.call('Host.getCapabilities', {}));
      return [caps.nics.eth0?.ipv6autoconf, caps.nics.eth1?.ipv6autoconf, caps.networks.storage?.ipv6autoconf];
    };
    const switchesOf = async (dev: string) =>
      (
        await ns.exec([
          'sh',
          '-c',
          `cd /proc/sys/net/ipv6/conf/${dev} && echo $(cat disable_ipv6 autoconf accept_ra accept_redirects accept_ra_defrtr)`,
        ])
      ).stdout.trim();
    // eth0, no network's, takes advertisements as the kernel's defaults say; eth1, vmnet's port, has IPv6 off.
    expect(await autoconfReported()).toEqual([true, false, undefined]);

    const storage = { nic: 'eth1', bridged: 'false' };
    const toStorage = (attrs: Record<string, unknown>) =>
      client.call('Host.setupNetworks', {
        networks: { vmnet: { remove: 'true' }, storage: { ...storage, ...attrs } },
        bondings: {},
        options: { connectivityCheck: 'false' },
      });
    expect(await toStorage({ ipv6addr: '2001:db8:7::10/64' })).toEqual({ code: 0, message: 'Done' });
    expect(await switchesOf('eth1')).toBe('0 0 0 0 1');
    expect(await ipv6Addresses('eth1')).toContain('2001:db8:7::10');

    const storageOnly = (attrs: Record<string, unknown>) =>
      client.call('Host.setupNetworks', { networks: { storage: attrs }, bondings: {}, options: { connectivityCheck: 'false' } });
    expect(await storageOnly({ ...storage, ipv6autoconf: 'true' })).toEqual({ code: 0, message: 'Done' });
    expect(await switchesOf('eth1')).toBe('0 1 2 1 0');
    expect(await ipv6Addresses('eth1')).not.toContain('2001:db8:7::10');
    expect(await autoconfReported()).toEqual([true, true, true]);

    // Left by its network, eth1 has IPv6 off: it learns nothing more from its segment.
    expect(await storageOnly({ remove: 'true' })).toEqual({ code: 0, message: 'Done' });
    expect((await switchesOf('eth1')).split(' ')[0]).toBe('1');
    expect(await ipv6Addresses('eth1')).toEqual([]);
    expect(await autoconfReported()).toEqual([true, false, undefined]);
    expect(await setup(VMNET)).toEqual({ code: 0, message: 'Done' });
  });

  it('a NIC a network left keeps IPv6 off across a boot once the configuration is safe', async () => {
    // vmnet leaves eth1, and that configuration is made safe
    expect(await setup({ remove: 'true' })).toEqual({ code: 0, message: 'Done' });
    expect(await disableIpv6('eth1')).toBe('1');
    expect(await client.call('Host.setSafeNetworkConfig', {})).toBe(true);

    await client.close().catch(() => undefined);
    await lab.testbed.powerOff(HOST);
    await lab.testbed.powerOn(HOST);
    await lab.waitForAgents(180_000);
    client = await connectToAgent();
    // The boot gave every NIC the kernel's defaults (testbed/scripts/host-power.sh); the restore turned eth1's
    // IPv6 off again, and left eth0, which no network ever had, as the kernel made it.
    expect(await disableIpv6('eth1')).toBe('1');
    expect(await disableIpv6('eth0')).toBe('0');
    expect(await ipv6Addresses('eth1')).toEqual([]);
    const caps = Capabilities.parse(await client.call('Host.getCapabilities', {}));
    expect([caps.nics.eth0?.ipv6autoconf, caps.nics.eth1?.ipv6autoconf]).toEqual([true, false]);

    // A network on eth1 itself decides its IPv6 again.
    expect(await setup(WITH_IPV6)).toEqual({ code: 0, message: 'Done' });
    expect(await disableIpv6('eth1')).toBe('1');
    expect(await disableIpv6('vmnet')).toBe('0');
  }, 300_000);
});
