/**
 * A host the manager reaches only over an IPv6 address the kernel made from a router advertisement (SLAAC),
 * with the agent in its own namespace as in production (the agent lab). Its NIC reports `ipv6autoconf`, as
 * its switches say; a management network on that NIC with `ipv6autoconf` (what the engine and install-host
 * derive from it) keeps the host reachable: the NIC, now the bridge's port, has IPv6 off, and the bridge,
 * which has the NIC's MAC, makes the same address from the next advertisement, over which the manager's
 * fresh connection confirms the change. The same change without IPv6 configuration is not confirmed and is
 * rolled back, which gives the NIC its IPv6, and so its address, again (docs/setup-networks.md#ipv6-per-device).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientEndpoint } from '../../activities/agent-endpoint';
import { SecretResolver } from '../../activities/secrets';
import { PROJECT_ROOT } from '../../lib/paths';
import { stopPid } from '../../lib/process';
import { Capabilities } from '../../model/vdsm/capabilities';
import { createAgentLab, type AgentLab } from '../../testbed/agent-lab';
import { addVethPair, Netns, uniqueToken } from '../../testbed/netns';
import { testbedUnavailableReason } from '../../testbed/requirements';
import { AgentClient } from '../../vdsm/client/client';
import { startRouterAdvertiser } from '../helpers/router-advertiser';
import { skipBecause } from '../helpers/skip';

const reason = await testbedUnavailableReason();
const HOST = 'slaac';
const PREFIX = '2001:db8:77:';
const ROUTER_ADDRESS = '2001:db8:77::1';

describe.skipIf(skipBecause(reason, 'management over SLAAC (agent lab)'))('a host the manager reaches only over SLAAC', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hostprov-slaac-'));
  const token = uniqueToken();
  let lab: AgentLab;
  let ns: Netns;
  let router: Netns | null = null;
  let switchPort = '';
  let switchNs: Netns | null = null;
  let dnsmasqPid: number | null = null;
  let client: AgentClient;
  let secrets: SecretResolver;

  /** eth1's or the bridge's address from the router's prefix (the kernel's SLAAC address), if any. */
  const slaacAddressOf = async (dev: string) =>
    (await ns.ipJson<Array<{ addr_info: Array<{ local: string }> }>>(['-6', 'addr', 'show', 'dev', dev]))
      .flatMap((l) => l.addr_info)
      .map((a) => a.local)
      .find((a) => a.startsWith(PREFIX));
  const slaacAddressWithin = async (dev: string): Promise<string> => {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const address = await slaacAddressOf(dev);
      if (address) return address;
      if (Date.now() > deadline) throw new Error(`${dev} made no address from the advertisements within 30 s`);
      await new Promise((r) => setTimeout(r, 250));
    }
  };
  const disableIpv6 = async (dev: string) => (await ns.exec(['cat', `/proc/sys/net/ipv6/conf/${dev}/disable_ipv6`])).stdout.trim();

  /** The manager's fresh connections from the router's namespace to `address`, until one confirms or `ms` pass. */
  const confirmFromRouter = (address: string, ms: number): Promise<string> => {
    const request = lab.installRequest(HOST);
    const endpoint = clientEndpoint({ ...request.agent, host: address, port: request.agent.port ?? 54321 }, { secrets });
    const child = spawn(
      'ip',
      [
        'netns',
        'exec',
        router?.name ?? '',
        join(PROJECT_ROOT, 'node_modules/.bin/tsx'),
        join(PROJECT_ROOT, 'test/agent/fixtures/confirm-from-namespace.ts'),
        JSON.stringify(endpoint),
        String(ms),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    return new Promise((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`confirm-from-namespace exited ${code}: ${out}`))));
    });
  };
  const manage = (attrs: Record<string, unknown>, timeoutSeconds: number) =>
    client.call(
      'Host.setupNetworks',
      {
        networks: { mgmt6: { nic: 'eth1', bridged: 'true', ...attrs } },
        bondings: {},
        options: { connectivityCheck: 'true', connectivityTimeout: String(timeoutSeconds) },
      },
      { timeoutMs: (timeoutSeconds + 20) * 1000 },
    );

  beforeAll(async () => {
    lab = await createAgentLab({ stateDir: dir, hosts: [{ name: HOST, nics: 2 }] });
    await lab.waitForAgents();
    ns = Netns.attach(lab.testbed.host(HOST).namespace);
    secrets = new SecretResolver({ secretsDir: dir });
    const request = lab.installRequest(HOST);
    client = await AgentClient.connect(
      clientEndpoint({ ...request.agent, host: lab.testbed.host(HOST).address, port: request.agent.port ?? 54321 }, { secrets }),
    );
    // Only eth1 on the router's segment takes its advertisements: eth0, on the same lab switch, is the
    // test's IPv4 management path and must not give the host a second way to the router.
    await ns.exec(['sh', '-c', 'echo 1 > /proc/sys/net/ipv6/conf/eth0/disable_ipv6']);
    const { description } = lab.testbed;
    switchNs = Netns.attach(description.switch.namespace);
    router = await Netns.create(`hpr-${token}`);
    switchPort = `hpr${token}`;
    await addVethPair({ ns: switchNs, name: switchPort }, { ns: router, name: 'r0' });
    await switchNs.ip(['link', 'set', switchPort, 'master', description.switch.bridge, 'up']);
    await router.ip(['addr', 'add', `${ROUTER_ADDRESS}/64`, 'dev', 'r0', 'nodad']);
    await router.ip(['link', 'set', 'r0', 'up']);
    dnsmasqPid = await startRouterAdvertiser(router, 'r0', `${PREFIX}:,ra-only,64,1h`, join(dir, 'router-dnsmasq.pid'), [
      '--ra-param=r0,4',
    ]);
  }, 120_000);

  afterAll(async () => {
    if (dnsmasqPid) await stopPid(dnsmasqPid, { timeoutMs: 3_000 });
    await router?.destroy();
    if (switchNs && switchPort) await switchNs.ip(['link', 'del', switchPort], { allowFailure: true });
    await client?.close();
    secrets?.close();
    await lab?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps its address on a management bridge with ipv6autoconf; without IPv6 configuration the change is rolled back', async () => {
    const address = await slaacAddressWithin('eth1');
    const caps = Capabilities.parse(await client.call('Host.getCapabilities', {}));
    expect([caps.nics.eth1?.ipv6autoconf, caps.nics.eth1?.ipv4addrs]).toEqual([true, []]);

    // No IPv6 configuration: the bridge has IPv6 off, the port too; nothing answers at the address.
    const [refused, unconfirmed] = await Promise.all([
      manage({}, 6).then(
        () => 'kept',
        (err: { code?: number }) => err.code,
      ),
      confirmFromRouter(address, 6_000),
    ]);
    expect([refused, unconfirmed]).toEqual([10, 'unreachable']);
    // The rollback gave eth1 its IPv6 again: it makes the same address from the next advertisement.
    expect(await disableIpv6('eth1')).toBe('0');
    expect(await slaacAddressWithin('eth1')).toBe(address);

    // With ipv6autoconf: the bridge makes the address, and the manager's fresh connection to it confirms.
    const [kept, confirmed] = await Promise.all([manage({ ipv6autoconf: 'true' }, 20), confirmFromRouter(address, 20_000)]);
    expect([kept, confirmed]).toEqual([{ code: 0, message: 'Done' }, 'confirmed']);
    expect(await slaacAddressOf('mgmt6')).toBe(address);
    expect([await disableIpv6('eth1'), await slaacAddressOf('eth1')]).toEqual(['1', undefined]);
    const after = Capabilities.parse(await client.call('Host.getCapabilities', {}));
    expect([after.networks.mgmt6?.ipv6autoconf, after.nics.eth1?.ipv6autoconf]).toEqual([true, false]);
  }, 120_000);
});
