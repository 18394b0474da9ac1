/**
 * The default-route network's nameservers reach the host's resolv.conf (the namespace's own, in
 * /etc/netns/<ns>/, never the machine's, which is checked after every case): written with its other lines kept, reported by the capabilities, put
 * back exactly by a rollback (no file before, none after), written again from the safe configuration at boot,
 * and never written through a symbolic link a resolver service owns.
 */
import { existsSync, lstatSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Capabilities } from '../../model/vdsm/capabilities';
import { VdsmCode } from '../../model/vdsm/error-codes';
import { netnsUnavailableReason } from '../../testbed/netns';
import { AgentRpcError } from '../../vdsm/client/errors';
import { BRIDGED_MGMT, createAgentHost, type AgentHost } from '../helpers/agent-host';
import { skipBecause } from '../helpers/skip';

const unavailable = await netnsUnavailableReason();
const DNS = ['192.0.2.53', '2001:db8::53'];

describe.skipIf(skipBecause(unavailable, 'agent DNS tests'))('nameservers on a namespaced host', () => {
  let h: AgentHost;
  let resolvConf = '';
  /** The machine's own resolv.conf, which no test may change. */
  const machine = () => (existsSync('/etc/resolv.conf') ? readFileSync('/etc/resolv.conf', 'utf8') : null);
  const machineBefore = machine();
  beforeAll(async () => {
    h = await createAgentHost();
    resolvConf = join(h.host.etcDir, 'resolv.conf');
  });
  afterAll(async () => {
    await h?.close();
  });
  afterEach(() => {
    expect(machine()).toBe(machineBefore);
  });

  const setup = (nameservers: string[], timeoutSeconds: number) =>
    h.client.call('Host.setupNetworks', {
      networks: { ovirtmgmt: { ...BRIDGED_MGMT, nameservers } },
      bondings: {},
      options: { connectivityTimeout: timeoutSeconds },
    });

  async function confirmed(nameservers: string[]): Promise<unknown> {
    const stop = h.confirmContinuously();
    try {
      return await setup(nameservers, 5);
    } finally {
      stop();
    }
  }

  it('an unconfirmed change puts resolv.conf back exactly: there was none, there is none', async () => {
    rmSync(resolvConf);
    const err = await setup(DNS, 2).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AgentRpcError);
    expect((err as AgentRpcError).code).toBe(VdsmCode.LOST_CONNECTION);
    expect(existsSync(resolvConf)).toBe(false);
  });

  it("a kept change writes the default-route network's nameservers in place of the old ones, keeping the other lines", async () => {
    writeFileSync(resolvConf, 'search example.org\nnameserver 198.51.100.1\noptions timeout:1\n');
    expect(await confirmed(DNS)).toEqual({ code: 0, message: 'Done' });
    expect(readFileSync(resolvConf, 'utf8')).toBe(
      'search example.org\nnameserver 192.0.2.53\nnameserver 2001:db8::53\noptions timeout:1\n',
    );
    const caps = Capabilities.parse(await h.client.call('Host.getCapabilities', {}));
    expect(caps.nameservers).toEqual(DNS);
  });

  it('an empty list clears the nameserver lines, keeping the others; unconfirmed, the text comes back exactly', async () => {
    const before = 'search example.org\nnameserver 198.51.100.1\nnameserver 198.51.100.2\noptions timeout:1\n';
    writeFileSync(resolvConf, before);
    const err = await setup([], 2).catch((e: unknown) => e);
    expect((err as AgentRpcError).code).toBe(VdsmCode.LOST_CONNECTION);
    expect(readFileSync(resolvConf, 'utf8')).toBe(before);

    expect(await confirmed([])).toEqual({ code: 0, message: 'Done' });
    expect(readFileSync(resolvConf, 'utf8')).toBe('search example.org\noptions timeout:1\n');
    const caps = Capabilities.parse(await h.client.call('Host.getCapabilities', {}));
    expect(caps.nameservers).toEqual([]);
  });

  it('a static default-route network sent without the list keeps the file as it is', async () => {
    const before = 'nameserver 198.51.100.7\n';
    writeFileSync(resolvConf, before);
    const stop = h.confirmContinuously();
    try {
      expect(
        await h.client.call('Host.setupNetworks', {
          networks: { ovirtmgmt: { ...BRIDGED_MGMT, mtu: 1400 } },
          bondings: {},
          options: { connectivityTimeout: 5 },
        }),
      ).toEqual({ code: 0, message: 'Done' });
    } finally {
      stop();
    }
    expect(readFileSync(resolvConf, 'utf8')).toBe(before);
  });

  it('a reboot writes the safe nameservers back over a hand edit', async () => {
    writeFileSync(resolvConf, 'search example.org\n');
    expect(await confirmed(DNS)).toEqual({ code: 0, message: 'Done' });
    expect(await h.client.call('Host.setSafeNetworkConfig', {})).toBe(true);
    writeFileSync(resolvConf, 'search example.org\nnameserver 203.0.113.9\n');
    await h.restartAgent(true);
    expect(readFileSync(resolvConf, 'utf8')).toBe('search example.org\nnameserver 192.0.2.53\nnameserver 2001:db8::53\n');
  });

  it('giving up the default route clears the nameserver lines, as VDSM does; unconfirmed, the text comes back exactly', async () => {
    const before = 'search example.org\nnameserver 198.51.100.1\noptions timeout:1\n';
    writeFileSync(resolvConf, before);
    expect(await confirmed(DNS)).toEqual({ code: 0, message: 'Done' });
    const holding = readFileSync(resolvConf, 'utf8');
    expect(holding).toBe('search example.org\nnameserver 192.0.2.53\nnameserver 2001:db8::53\noptions timeout:1\n');

    const withoutRole = (timeoutSeconds: number) =>
      h.client.call('Host.setupNetworks', {
        networks: { ovirtmgmt: { ...BRIDGED_MGMT, defaultRoute: false } },
        bondings: {},
        options: { connectivityTimeout: timeoutSeconds },
      });
    const err = await withoutRole(2).catch((e: unknown) => e);
    expect((err as AgentRpcError).code).toBe(VdsmCode.LOST_CONNECTION);
    expect(readFileSync(resolvConf, 'utf8')).toBe(holding);

    const stop = h.confirmContinuously();
    try {
      expect(await withoutRole(5)).toEqual({ code: 0, message: 'Done' });
    } finally {
      stop();
    }
    expect(readFileSync(resolvConf, 'utf8')).toBe('search example.org\noptions timeout:1\n');
    // The role back without a list keeps the host's current nameservers: there are none.
    const again = h.confirmContinuously();
    try {
      const back = { networks: { ovirtmgmt: BRIDGED_MGMT }, bondings: {}, options: { connectivityTimeout: 5 } };
      expect(await h.client.call('Host.setupNetworks', back)).toEqual({ code: 0, message: 'Done' });
    } finally {
      again();
    }
    expect(readFileSync(resolvConf, 'utf8')).toBe('search example.org\noptions timeout:1\n');
  });

  it('a resolv.conf that is a symbolic link (a resolver service owns it) is not written: the change is kept without it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hostprov-resolved-'));
    try {
      const owned = join(dir, 'stub-resolv.conf');
      writeFileSync(owned, 'nameserver 127.0.0.53\n');
      rmSync(resolvConf, { force: true });
      symlinkSync(owned, resolvConf);
      expect(await confirmed(['192.0.2.99'])).toEqual({ code: 0, message: 'Done' });
      expect(lstatSync(resolvConf).isSymbolicLink()).toBe(true);
      expect(readFileSync(owned, 'utf8')).toBe('nameserver 127.0.0.53\n');
    } finally {
      rmSync(resolvConf, { force: true });
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
