/**
 * A bridged network moved to another NIC leaves its old NIC behind, with a real `hostprov agent` process in
 * the host's namespace (where it also sets IPv6 per device, as in production): the bridge that stays holds
 * the new NIC and what others put there (a guest's tap device), never the old NIC as well. With both NICs on
 * one segment, the old NIC left in the bridge would be a bridging loop. A move that is not confirmed rolls
 * back to the bridge's ports as they were.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VdsmCode } from '../../model/vdsm/error-codes';
import { netnsUnavailableReason } from '../../testbed/netns';
import { createAgentProcessHost, type AgentProcessHost } from '../helpers/agent-process';
import { skipBecause } from '../helpers/skip';

const unavailable = await netnsUnavailableReason();
/** A guest's NIC on the VM network, as libvirt adds it: not the agent's to release. */
const GUEST_TAP = 'vnet0';

describe.skipIf(skipBecause(unavailable, 'moving a bridged network (needs network namespaces)'))(
  'a bridged network moved to another NIC',
  () => {
    let h: AgentProcessHost;
    const onNic = (nic: string, options: Record<string, unknown> = { connectivityCheck: 'false' }) =>
      h.call('Host.setupNetworks', { networks: { data: { nic, bridged: 'true', bootproto: 'none' } }, bondings: {}, options });
    const portsOf = async (bridge: string) =>
      (await h.host.ipJson<Array<{ ifname: string }>>(['link', 'show', 'master', bridge])).map((l) => l.ifname).sort();
    const masterOf = async (dev: string) =>
      (await h.host.ipJson<Array<{ master?: string }>>(['link', 'show', 'dev', dev]))[0]?.master ?? null;
    const ipv6Disabled = async (dev: string) => (await h.host.exec(['cat', `/proc/sys/net/ipv6/conf/${dev}/disable_ipv6`])).stdout.trim();

    beforeAll(async () => {
      h = await createAgentProcessHost();
      await h.start();
      await onNic('eth1');
      await h.host.ip(['tuntap', 'add', 'dev', GUEST_TAP, 'mode', 'tap']);
      await h.host.ip(['link', 'set', GUEST_TAP, 'master', 'data', 'up']);
    });
    afterAll(async () => {
      await h?.close();
    });

    it('takes the old NIC out of the bridge, with IPv6 off, and keeps the guest in it', async () => {
      expect(await portsOf('data')).toEqual(['eth1', GUEST_TAP]);
      await onNic('eth0');
      expect(await portsOf('data')).toEqual(['eth0', GUEST_TAP]);
      expect(await masterOf('eth1')).toBeNull();
      // Released, the NIC learns nothing from its segment that no network owns.
      expect(await ipv6Disabled('eth1')).toBe('1');
    });

    it('an unconfirmed move back rolls back to the ports the bridge had', async () => {
      await expect(onNic('eth1', { connectivityCheck: 'true', connectivityTimeout: 1 })).rejects.toMatchObject({
        code: VdsmCode.LOST_CONNECTION,
      });
      expect(await portsOf('data')).toEqual(['eth0', GUEST_TAP]);
      expect(await masterOf('eth1')).toBeNull();
    });

    it('and a confirmed one moves it again, old NIC out', async () => {
      const stopConfirming = h.confirmContinuously();
      try {
        await onNic('eth1', { connectivityCheck: 'true', connectivityTimeout: 10 });
      } finally {
        await stopConfirming();
      }
      expect(await portsOf('data')).toEqual(['eth1', GUEST_TAP]);
      expect(await masterOf('eth0')).toBeNull();
    });
  },
);
