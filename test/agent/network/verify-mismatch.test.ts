/**
 * The verify step against the real kernel: the verify read is scoped (the links the change is about, the
 * route families it wants), and it must still catch a kernel that does not match the plan. The network
 * service runs in-process on the real Linux backend; right after the real apply, the test changes the kernel
 * behind its back (as an operator or another daemon could), before the verify reads it. The request must fail
 * naming the difference, and the rollback must restore exactly the state before the change.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { NetworkBackend } from '../../../agent/backend/backend';
import { createLinuxBackend } from '../../../agent/backend/linux-backend';
import { ConnectivityCheck } from '../../../agent/network/connectivity';
import { DhcpRegistry } from '../../../agent/network/dhcp-registry';
import { Journal, readJournal } from '../../../agent/network/journal';
import { NetworkService } from '../../../agent/network/network-service';
import { ConfigStore } from '../../../agent/persistence/config-store';
import { PendingTransactionStore } from '../../../agent/persistence/pending-transaction';
import { JsonRpcCode, VdsmError } from '../../../model/vdsm/error-codes';
import { addVethPair, Netns, netnsUnavailableReason, uniqueToken } from '../../../testbed/netns';
import { comparable } from '../../helpers/agent-host';
import { skipBecause } from '../../helpers/skip';
import { testLog } from '../backend/kernel-helpers';

const unavailable = await netnsUnavailableReason();

interface Host {
  ns: Netns;
  peer: Netns;
  dir: string;
  backend: NetworkBackend;
  service: NetworkService;
  journal: Journal;
}

describe.skipIf(skipBecause(unavailable, 'verify mismatch tests'))('setupNetworks verify against the real kernel', () => {
  const hosts: Host[] = [];
  afterEach(async () => {
    for (const h of hosts.splice(0)) {
      h.backend.close();
      await h.ns.destroy();
      await h.peer.destroy();
      rmSync(h.dir, { recursive: true, force: true });
    }
  });

  /** A host with NIC eth0 whose network service runs `afterApply` between the real apply and the verify. */
  async function host(afterApply: (ns: Netns, backend: NetworkBackend) => Promise<void>): Promise<Host> {
    const token = uniqueToken();
    const ns = await Netns.create(`hpvh-${token}`);
    const peer = await Netns.create(`hpvp-${token}`);
    const dir = mkdtempSync(join(tmpdir(), 'hostprov-verify-'));
    const real = createLinuxBackend({ netns: ns.name, runtimeDir: join(dir, 'run'), log: testLog });
    const h: Host = { ns, peer, dir, backend: real, service: undefined as unknown as NetworkService, journal: new Journal(dir) };
    hosts.push(h);
    await addVethPair({ ns, name: 'eth0' }, { ns: peer, name: 'p0' });
    await ns.ip(['link', 'set', 'eth0', 'up']);
    await peer.ip(['link', 'set', 'p0', 'up']);
    let interfere = true;
    // The real backend; only the first apply (the change, not the rollback's) is followed by the interference.
    const backend: NetworkBackend = {
      ...real,
      async apply(plan, options) {
        await real.apply(plan, options);
        if (interfere) {
          interfere = false;
          await afterApply(ns, real);
        }
      },
    };
    h.service = new NetworkService({
      backend,
      config: new ConfigStore(dir),
      transactions: new PendingTransactionStore(dir),
      connectivity: new ConnectivityCheck(join(dir, 'run')),
      journal: h.journal,
      dhcp: new DhcpRegistry(join(dir, 'run'), backend),
      log: testLog,
    });
    return h;
  }

  /** The request fails with exactly `problem` (one difference: the verify saw everything else right). */
  async function failsVerifyAndRestores(h: Host, network: Record<string, string>, problem: RegExp): Promise<void> {
    const before = comparable(await h.backend.read());
    const request = { networks: { net1: network }, bondings: {}, options: { connectivityCheck: 'false' } };
    const error = await h.service.setupNetworks(request, 'req-1').then(
      () => null,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(VdsmError);
    expect((error as VdsmError).code).toBe(JsonRpcCode.INTERNAL_ERROR);
    expect((error as VdsmError).message).toMatch(new RegExp(`^the host did not take the configuration: ${problem.source}$`));
    expect(comparable(await h.backend.read())).toEqual(before);
    const kinds = readJournal(h.journal.file).map((e) => [e.kind, e.outcome]);
    expect(kinds).toEqual([
      ['apply', 'failed'],
      ['rollback', 'ok'],
    ]);
  }

  it('catches an address gone from the bridge (the verify reads only the links the change is about)', async () => {
    const h = await host(async (ns) => void (await ns.ip(['addr', 'del', '198.18.41.5/24', 'dev', 'net1'])));
    await failsVerifyAndRestores(
      h,
      { nic: 'eth0', bridged: 'true', ipaddr: '198.18.41.5', netmask: '255.255.255.0' },
      /address 198\.18\.41\.5\/24 is missing on net1 \(as a static address\)/,
    );
  });

  it('catches a port taken off the bridge', async () => {
    const h = await host(async (ns) => void (await ns.ip(['link', 'set', 'eth0', 'nomaster'])));
    await failsVerifyAndRestores(
      h,
      { nic: 'eth0', bridged: 'true', ipaddr: '198.18.42.5', netmask: '255.255.255.0' },
      /link eth0 has master none, expected net1/,
    );
  });

  it('catches a source route gone from its table (the verify reads the IPv4 routes the change wants)', async () => {
    // No default route: the network's gateway goes to its own table (source routing), with its rules.
    const h = await host(async (ns, backend) => {
      const { routes } = await backend.read();
      const own = routes.find((r) => r.dev === 'net1' && r.dst === 'default' && r.table !== 254);
      if (!own) throw new Error(`the apply made no default route in the network's own table: ${JSON.stringify(routes)}`);
      await ns.ip(['route', 'del', 'default', 'table', String(own.table)]);
    });
    await failsVerifyAndRestores(
      h,
      { nic: 'eth0', bridged: 'true', ipaddr: '198.18.43.5', netmask: '255.255.255.0', gateway: '198.18.43.1', defaultRoute: 'false' },
      /route default via 198\.18\.43\.1 dev net1 table \d+ is missing/,
    );
  });
});
