/**
 * Bridge options on the real kernel: every option of model/network/bridge-options.ts, set to a value other
 * than the kernel's default through the ops the planner makes (`link add ... type bridge`, `link set ...
 * type bridge`), reads back through the backend as the value set. So the table's iproute2 and `ip -j` names
 * are the kernel's, and a value the kernel refuses fails the apply and names the op.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NetworkBackend } from '../../../agent/backend/backend';
import { PlanApplyError } from '../../../agent/backend/errors';
import { createLinuxBackend } from '../../../agent/backend/linux-backend';
import { BRIDGE_OPTIONS, bridgeOptionHolds } from '../../../model/network/bridge-options';
import { Netns } from '../../../testbed/netns';
import { skipBecause } from '../../helpers/skip';
import { kernelSkipReason, testLog, uniqueNetnsName, withTempDir } from './kernel-helpers';

/** A value for each option that no fresh bridge has (the defaults are in FRESH_BRIDGE_OPTIONS's source). */
const CHANGED: Record<string, string> = {
  ageing_time: '12345',
  forward_delay: '1234',
  group_fwd_mask: '16384', // LLDP's bit; bits 0-2 are refused (below)
  hash_max: '8192',
  hello_time: '150',
  max_age: '1500',
  multicast_igmp_version: '3',
  multicast_last_member_count: '3',
  multicast_last_member_interval: '150',
  multicast_membership_interval: '26100',
  multicast_mld_version: '2',
  multicast_querier: '1',
  multicast_querier_interval: '25600',
  multicast_query_interval: '12600',
  multicast_query_response_interval: '1100',
  multicast_query_use_ifaddr: '1',
  multicast_router: '2',
  multicast_snooping: '0',
  multicast_startup_query_count: '3',
  multicast_startup_query_interval: '3333',
  multicast_stats_enabled: '1',
  nf_call_arptables: '1',
  nf_call_ip6tables: '1',
  nf_call_iptables: '1',
  no_linklocal_learn: '1',
  priority: '4096',
};

describe.skipIf(skipBecause(kernelSkipReason, 'bridge option tests'))('bridge options on the real kernel', () => {
  let host: Netns;
  let runtime: Awaited<ReturnType<typeof withTempDir>>;
  let backend: NetworkBackend;
  const optionsOf = async (name: string) => (await backend.read()).links.find((l) => l.name === name)?.bridge?.options ?? {};

  beforeAll(async () => {
    runtime = await withTempDir('bridge-options');
    host = await Netns.create(uniqueNetnsName('hpbo'));
    backend = createLinuxBackend({ netns: host.name, runtimeDir: runtime.path, log: testLog });
  });
  afterAll(async () => {
    backend?.close();
    await host?.destroy();
    await runtime?.remove();
  });

  it('has a changed value for every option it sets, none of them a fresh bridge’s', async () => {
    expect(Object.keys(CHANGED).sort()).toEqual(Object.keys(BRIDGE_OPTIONS).sort());
    await backend.apply({ ops: [{ kind: 'link-add', name: 'fresh', type: 'bridge', stp: false }] });
    const fresh = await optionsOf('fresh');
    expect(Object.keys(fresh).sort()).toEqual(Object.keys(BRIDGE_OPTIONS).sort());
    for (const [name, value] of Object.entries(CHANGED)) expect(bridgeOptionHolds(name, value, fresh[name]), name).toBe(false);
  });

  it('creates a bridge with every option set, and reads each back as set', async () => {
    await backend.apply({ ops: [{ kind: 'link-add', name: 'made', type: 'bridge', stp: false, bridgeOptions: CHANGED }] });
    const read = await optionsOf('made');
    for (const [name, value] of Object.entries(CHANGED))
      expect(bridgeOptionHolds(name, value, read[name]), `${name}: ${read[name]}`).toBe(true);
  });

  it('sets every option of an existing bridge, and reads each back as set', async () => {
    await backend.apply({ ops: [{ kind: 'link-set', name: 'fresh', bridgeOptions: CHANGED }] });
    const read = await optionsOf('fresh');
    for (const [name, value] of Object.entries(CHANGED))
      expect(bridgeOptionHolds(name, value, read[name]), `${name}: ${read[name]}`).toBe(true);
  });

  it('fails the apply on a value the kernel refuses, naming the op', async () => {
    const err = await backend
      .apply({ ops: [{ kind: 'link-set', name: 'fresh', bridgeOptions: { group_fwd_mask: '1' } }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PlanApplyError);
    expect((err as Error).message).toMatch(/^plan op #0 \(link-set\) failed: .*Invalid argument/);
    expect((await optionsOf('fresh')).group_fwd_mask).toBe(CHANGED.group_fwd_mask);
  });
});
