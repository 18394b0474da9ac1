/**
 * `blockingdhcp` against a real DHCP server: dnsmasq in a peer namespace delays every offer by a few seconds,
 * so an agent that answered before the lease would be caught with an address-less bridge. The agent acts on
 * the host namespace from outside and serves on loopback. eth0 and eth2 lead to dnsmasq (one fresh NIC per
 * case, so each client starts from a DISCOVER), eth1 to a namespace where no DHCP server runs.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NetworkBackend } from '../../agent/backend/backend';
import { createLinuxBackend } from '../../agent/backend/linux-backend';
import { journalFile, readJournal } from '../../agent/network/journal';
import { PendingTransactionStore, TransactionPhase } from '../../agent/persistence/pending-transaction';
import { startAgent, type RunningAgent } from '../../agent/agent-service';
import { AgentClient } from '../../vdsm/client/client';
import { AgentRpcError } from '../../vdsm/client/errors';
import { stopPid } from '../../lib/process';
import { VdsmCode } from '../../model/vdsm/error-codes';
import { Capabilities } from '../../model/vdsm/capabilities';
import { addVethPair, Netns } from '../../testbed/netns';
import { comparable } from '../helpers/agent-host';
import { skipBecause } from '../helpers/skip';
import { kernelSkipReason, testLog, uniqueNetnsName, waitForCarrier, withTempDir } from './backend/kernel-helpers';

const OFFER_DELAY_SECONDS = 3;
const NO_CHECK = { connectivityCheck: 'false' };

describe.skipIf(skipBecause(kernelSkipReason, 'blockingdhcp tests'))('setupNetworks with blockingdhcp', () => {
  let server: Netns;
  let silent: Netns;
  let host: Netns;
  let dir: Awaited<ReturnType<typeof withTempDir>>;
  let dnsmasqPid: number | null = null;
  let agent: RunningAgent;
  let client: AgentClient;
  let reader: NetworkBackend;

  beforeAll(async () => {
    dir = await withTempDir('blocking-dhcp');
    server = await Netns.create(uniqueNetnsName('hpbs'));
    silent = await Netns.create(uniqueNetnsName('hpbq'));
    host = await Netns.create(uniqueNetnsName('hpbh'));
    await addVethPair({ ns: server, name: 'dh0' }, { ns: host, name: 'eth0' });
    await addVethPair({ ns: silent, name: 'dh1' }, { ns: host, name: 'eth1' });
    await addVethPair({ ns: server, name: 'dh2' }, { ns: host, name: 'eth2' });
    await server.ip(['-batch', '-'], {
      input: 'link set dev dh0 up\naddr add 198.18.51.1/24 dev dh0\nlink set dev dh2 up\naddr add 198.18.52.1/24 dev dh2\n',
    });
    await silent.ip(['link', 'set', 'dev', 'dh1', 'up']);
    for (const dev of ['eth0', 'eth1', 'eth2']) await host.ip(['link', 'set', 'dev', dev, 'up']);
    for (const dev of ['eth0', 'eth2']) await waitForCarrier(host, dev);
    const pidFile = join(dir.path, 'dnsmasq.pid');
    await server.exec([
      'dnsmasq',
      '--conf-file=/dev/null',
      '--no-resolv',
      '--no-hosts',
      '--port=0',
      '--interface=dh0',
      '--interface=dh2',
      '--bind-interfaces',
      '--dhcp-authoritative',
      '--user=root',
      '--group=root',
      '--dhcp-range=198.18.51.100,198.18.51.150,255.255.255.0,10m',
      '--dhcp-range=198.18.52.100,198.18.52.150,255.255.255.0,10m',
      `--dhcp-reply-delay=${OFFER_DELAY_SECONDS}`,
      `--dhcp-leasefile=${join(dir.path, 'dnsmasq.leases')}`,
      `--pid-file=${pidFile}`,
    ]);
    dnsmasqPid = Number((await readFile(pidFile, 'utf8')).trim());
    agent = await startAgent({
      listen: { host: '127.0.0.1', port: 0 },
      stateDir: join(dir.path, 'state'),
      runtimeDir: join(dir.path, 'run'),
      tls: 'insecure',
      netns: host.name,
      log: testLog,
      // Long enough for dnsmasq to answer on a loaded machine; the no-lease case waits it out once.
      blockingDhcpTimeoutMs: 12_000,
    });
    client = await AgentClient.connect({ host: '127.0.0.1', port: agent.address.port, tls: { insecure: true } });
    reader = createLinuxBackend({ netns: host.name, runtimeDir: join(dir.path, 'reader'), log: testLog });
  });

  afterAll(async () => {
    await client?.close();
    await agent?.close();
    reader?.close();
    if (dnsmasqPid) await stopPid(dnsmasqPid, { timeoutMs: 3_000 });
    // Destroying the namespaces also stops the dhclients the agent left running in them.
    for (const ns of [host, silent, server]) await ns?.destroy();
    await dir?.remove();
  });

  const addressesOf = async (dev: string): Promise<string[]> =>
    (await reader.read()).addresses.filter((a) => a.dev === dev && a.family === 4).map((a) => a.address);
  const inPool = (address: string | undefined): boolean => /^198\.18\.5[12]\.(1[0-4]\d|150)$/.test(address ?? '');

  it("without it (VDSM's default) the verb answers before the lease; the lease follows", async () => {
    const params = { networks: { later: { nic: 'eth0', bridged: 'true', bootproto: 'dhcp' } }, bondings: {}, options: NO_CHECK };
    expect(await client.call('Host.setupNetworks', params, { timeoutMs: 30_000 })).toEqual({ code: 0, message: 'Done' });
    expect(await addressesOf('later')).toEqual([]);
    const deadline = Date.now() + 30_000;
    while (!(await addressesOf('later')).some(inPool) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect((await addressesOf('later')).some(inPool)).toBe(true);
  });

  it('with it, the verb answers once the network holds its lease', async () => {
    const params = {
      networks: { waited: { nic: 'eth2', bridged: 'true', bootproto: 'dhcp', blockingdhcp: true } },
      bondings: {},
      options: NO_CHECK,
    };
    expect(await client.call('Host.setupNetworks', params, { timeoutMs: 30_000 })).toEqual({ code: 0, message: 'Done' });
    const [address] = await addressesOf('waited');
    expect(inPool(address)).toBe(true);
    const caps = Capabilities.parse(await client.call('Host.getCapabilities', {}));
    expect(caps.networks.waited).toMatchObject({ dhcpv4: true, addr: address });
  });

  it('no lease in time fails with code 29 and rolls the change back completely, through the pending transaction', async () => {
    const before = comparable(await reader.read());
    const id = 'blocking-no-lease';
    const params = {
      networks: { nolease: { nic: 'eth1', bridged: 'true', bootproto: 'dhcp', blockingdhcp: 'true' } },
      bondings: {},
      options: NO_CHECK,
    };
    const failure = (e: unknown) => e;
    const err = await client.call('Host.setupNetworks', params, { timeoutMs: 30_000, id }).then(() => null, failure);
    expect(err).toBeInstanceOf(AgentRpcError);
    expect(err).toMatchObject({ code: VdsmCode.FAILED_IFUP, rpcMessage: expect.stringContaining('no DHCPv4 lease on nolease') });
    expect(comparable(await reader.read())).toEqual(before);
    expect(existsSync(join(dir.path, 'run', 'dhcp', 'nolease.4.pid'))).toBe(false);
    const caps = Capabilities.parse(await client.call('Host.getCapabilities', {}));
    expect(caps.networks.nolease).toBeUndefined();

    // The failed wait took the apply's failure path: journaled, rolled back, and the transaction on disk is
    // over with the answer the caller got (nothing left pending for a restart to act on).
    const stateDir = join(dir.path, 'state');
    const entries = readJournal(journalFile(stateDir)).filter((e) => e.requestId === id);
    expect(entries.map((e) => [e.kind, e.outcome])).toEqual([
      ['apply', 'failed'],
      ['rollback', 'ok'],
    ]);
    const record = new PendingTransactionStore(join(dir.path, 'run')).load();
    expect(record).toMatchObject({
      requestId: id,
      phase: TransactionPhase.FINISHED,
      outcome: { ok: false, code: VdsmCode.FAILED_IFUP, message: (err as AgentRpcError).rpcMessage },
    });

    // A retry of the same id learns the outcome; it does not apply (and wait) again.
    const retried = await client.call('Host.setupNetworks', params, { timeoutMs: 30_000, id }).then(() => null, failure);
    expect(retried).toMatchObject({ code: VdsmCode.FAILED_IFUP, rpcMessage: (err as AgentRpcError).rpcMessage });
    expect(readJournal(journalFile(stateDir)).filter((e) => e.requestId === id)).toHaveLength(2);
  });

  it('refuses a value it cannot read as a boolean, changing nothing', async () => {
    const before = comparable(await reader.read());
    const params = { networks: { odd: { nic: 'eth1', bootproto: 'dhcp', blockingdhcp: 'sometimes' } }, bondings: {}, options: NO_CHECK };
    await expect(client.call('Host.setupNetworks', params, { timeoutMs: 30_000 })).rejects.toMatchObject({ code: VdsmCode.BAD_PARAMS });
    expect(comparable(await reader.read())).toEqual(before);
  });
});
