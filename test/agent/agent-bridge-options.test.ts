/**
 * A bridged network's `custom.bridge_opts` through the agent on a namespaced host: set on the bridge it
 * creates, reported among the bridge's `opts`, changed in place on a bridge that exists, put back exactly by a
 * rollback (also onto the bridge a rolled-back removal makes again), set again from the safe configuration at boot, and a value the kernel refuses changing nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Capabilities } from '../../model/vdsm/capabilities';
import { VdsmCode } from '../../model/vdsm/error-codes';
import { netnsUnavailableReason } from '../../testbed/netns';
import { AgentRpcError } from '../../vdsm/client/errors';
import { createAgentHost, type AgentHost } from '../helpers/agent-host';
import { skipBecause } from '../helpers/skip';

const unavailable = await netnsUnavailableReason();

describe.skipIf(skipBecause(unavailable, 'agent bridge option tests'))('bridge options on a namespaced host', () => {
  let h: AgentHost;
  beforeAll(async () => {
    h = await createAgentHost();
  });
  afterAll(async () => {
    await h?.close();
  });

  /** A VM network: a bridge over eth1, without addresses. */
  const setup = (bridgeOpts: string, timeoutSeconds: number) =>
    h.client.call('Host.setupNetworks', {
      networks: { vmnet: { nic: 'eth1', bridged: 'true', custom: { bridge_opts: bridgeOpts } } },
      bondings: {},
      options: { connectivityTimeout: timeoutSeconds },
    });
  async function confirmed(bridgeOpts: string): Promise<unknown> {
    const stop = h.confirmContinuously();
    try {
      return await setup(bridgeOpts, 5);
    } finally {
      stop();
    }
  }
  const options = async () => (await h.kernel()).links.find((l) => l.name === 'vmnet')?.bridge?.options ?? {};
  const ifindex = async () => (await h.host.ipJson<{ ifindex: number }[]>(['link', 'show', 'dev', 'vmnet']))[0]?.ifindex;

  it('creates the bridge with its options, and reports them with the others as VDSM does', async () => {
    expect(await confirmed('multicast_snooping=0 hash_max=8192')).toEqual({ code: 0, message: 'Done' });
    expect(await options()).toMatchObject({ multicast_snooping: '0', hash_max: '8192' });
    const caps = Capabilities.parse(await h.client.call('Host.getCapabilities', {}));
    expect(caps.bridges.vmnet?.opts).toMatchObject({ multicast_snooping: '0', hash_max: '8192', stp_state: '0', priority: '32768' });
  });

  it('an unconfirmed change of the options puts every option back exactly', async () => {
    const before = await options();
    const err = await setup('multicast_snooping=1 priority=100 multicast_router=2', 2).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AgentRpcError);
    expect((err as AgentRpcError).code).toBe(VdsmCode.LOST_CONNECTION);
    expect(await options()).toEqual(before);
  });

  it('a kept change sets the options on the bridge in place; options it does not name keep their values', async () => {
    const bridge = await ifindex();
    expect(await confirmed('priority=100 multicast_router=2')).toEqual({ code: 0, message: 'Done' });
    expect(await ifindex()).toBe(bridge);
    expect(await options()).toMatchObject({ priority: '100', multicast_router: '2', multicast_snooping: '0', hash_max: '8192' });
  });

  it('an unconfirmed removal makes the bridge again with every option it had', async () => {
    const before = await options();
    const err = await h.client
      .call('Host.setupNetworks', { networks: { vmnet: { remove: 'true' } }, bondings: {}, options: { connectivityTimeout: 2 } })
      .catch((e: unknown) => e);
    expect((err as AgentRpcError).code).toBe(VdsmCode.LOST_CONNECTION);
    expect(await options()).toEqual(before);
  });

  it('a value the kernel refuses fails the change and leaves every option as it was', async () => {
    const before = await options();
    const stop = h.confirmContinuously();
    const err = await setup('group_fwd_mask=1', 5)
      .catch((e: unknown) => e)
      .finally(stop);
    expect(err).toBeInstanceOf(AgentRpcError);
    expect((err as AgentRpcError).message).toMatch(/Invalid argument/);
    expect(await options()).toEqual(before);
  });

  it('the safe configuration sets the options again at boot', async () => {
    expect(await h.client.call('Host.setSafeNetworkConfig', {})).toBe(true);
    // A boot starts from a kernel without the bridge.
    await h.restartAgent(true, () => h.host.ip(['link', 'del', 'vmnet']).then(() => undefined));
    expect(await options()).toMatchObject({ priority: '100', multicast_router: '2' });
  });
});
