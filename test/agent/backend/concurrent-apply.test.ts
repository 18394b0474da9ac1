/**
 * A plan whose ops fall into independent stacks runs as two `ip -batch` processes at once
 * (agent/backend/iproute2/apply.ts, model/network/plan/concurrent-batches.ts), against the real kernel: the
 * planner's plan for four bridged networks ends as the desired state, and a failed line stops its own
 * stack only, while the failure names its op as a single batch would.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyPlan, type ApplyDeps } from '../../../agent/backend/iproute2/apply';
import { IpBatchLauncher } from '../../../agent/backend/iproute2/batch-launcher';
import { PlanApplyError } from '../../../agent/backend/errors';
import { KernelStateReader } from '../../../agent/backend/iproute2/read';
import type { PlanOp } from '../../../model/net-state';
import { canonicalizeRequest } from '../../../model/network/canonicalize';
import { EMPTY_CONFIG, mergeRunningConfig } from '../../../model/network/config';
import { desiredStateForChange } from '../../../model/network/desired-state';
import { planChanges } from '../../../model/network/plan';
import { planTies } from '../../../model/network/plan/concurrent-batches';
import { verifyState } from '../../../model/network/verify';
import { SetupNetworksParams } from '../../../model/vdsm/setup-networks';
import { Netns } from '../../../testbed/netns';
import { skipBecause } from '../../helpers/skip';
import { kernelSkipReason, testLog, uniqueNetnsName } from './kernel-helpers';

const NICS = ['eth1', 'eth2', 'eth3', 'eth4'];

describe.skipIf(skipBecause(kernelSkipReason, 'concurrent apply tests'))('applying independent stacks at once', () => {
  let host: Netns;
  let launcher: IpBatchLauncher;
  let reader: KernelStateReader;
  let deps: ApplyDeps;

  beforeAll(async () => {
    host = await Netns.create(uniqueNetnsName('hpca'));
    await host.ip(['-batch', '-'], { input: NICS.map((n) => `link add ${n} type veth peer name ${n}p\n`).join('') });
    launcher = new IpBatchLauncher({ netns: host.name }, testLog);
    reader = new KernelStateReader({ netns: host.name }, testLog);
    deps = {
      target: { netns: host.name },
      log: testLog,
      launcher,
      concurrentBatches: 2,
      dhcp: {
        start: () => Promise.reject(new Error('no DHCP in this test')),
        stop: () => Promise.reject(new Error('no DHCP in this test')),
      },
      setIpv6: () => Promise.reject(new Error('no IPv6 switches in this test')),
    };
  });

  afterAll(async () => {
    launcher?.close();
    reader?.close();
    await host?.destroy();
  });

  it("runs the planner's plan for four networks as two processes and ends as the desired state", async () => {
    const networks = Object.fromEntries(
      NICS.map((nic, i) => [`net${i + 1}`, { nic, bridged: 'true', ipaddr: `198.18.4${i}.5`, netmask: '255.255.255.0' }]),
    );
    const request = canonicalizeRequest(SetupNetworksParams.parse({ networks, bondings: {}, options: {} }), {
      currentNameservers: [],
      running: EMPTY_CONFIG,
    });
    const next = mergeRunningConfig(EMPTY_CONFIG, request);
    const current = await reader.read();
    const desired = desiredStateForChange(EMPTY_CONFIG, next, current);
    const plan = planChanges(current, desired, []);

    const startsBefore = launcher.starts;
    await applyPlan(plan, deps);
    expect(launcher.starts - startsBefore, 'ip -batch processes of the apply').toBe(2);

    const after = await reader.read();
    expect(verifyState(after, desired)).toEqual([]);
    expect(planChanges(after, desired, []).ops).toEqual([]);

    // Undone the same way: the undo plan deletes four stacks at once.
    const undoDesired = desiredStateForChange(next, EMPTY_CONFIG, after);
    await applyPlan(planChanges(after, undoDesired, []), deps);
    const undone = await reader.read();
    expect(verifyState(undone, undoDesired)).toEqual([]);
    expect(undone.links.map((l) => l.name).sort()).toEqual(current.links.map((l) => l.name).sort());
  });

  it('stops the failing stack at its failed line, lets the other run to its end, and names the failed op', async () => {
    const address = { dev: 'hpc2', family: 4 as const, address: '198.18.50.1', prefixLen: 24, dynamic: false };
    const ops: PlanOp[] = [
      { kind: 'link-add', name: 'hpc1', type: 'bridge' },
      { kind: 'link-add', name: 'hpc2', type: 'bridge' },
      { kind: 'link-set', name: 'eth1', master: 'hpc1' },
      { kind: 'addr-add', address },
      // The kernel refuses an address the link has.
      { kind: 'addr-add', address },
      { kind: 'link-up', name: 'hpc1' },
      { kind: 'link-set', name: 'eth2', master: 'hpc2' },
      { kind: 'link-up', name: 'hpc2' },
    ];
    const startsBefore = launcher.starts;
    const thrown = await applyPlan({ ops, ties: planTies(await reader.read(), ops) }, deps).then(
      () => null,
      (err: unknown) => err,
    );
    expect(launcher.starts - startsBefore).toBe(2);
    expect(thrown).toBeInstanceOf(PlanApplyError);
    expect(thrown).toMatchObject({ opIndex: 4, op: ops[4] });
    expect((thrown as PlanApplyError).stderr).toContain('Address already assigned');

    const state = await reader.read();
    const link = (name: string) => state.links.find((l) => l.name === name);
    expect(link('hpc1')).toMatchObject({ up: true });
    expect(link('eth1')).toMatchObject({ master: 'hpc1' });
    // The failing stack stopped at its failed line: hpc2 has its address, no port, and stays down.
    expect(link('hpc2')).toMatchObject({ up: false });
    expect(state.addresses).toContainEqual(address);
    expect(link('eth2')).toMatchObject({ master: null });

    await applyPlan(
      {
        ops: [
          { kind: 'link-del', name: 'hpc1' },
          { kind: 'link-del', name: 'hpc2' },
        ],
      },
      deps,
    );
  });
});
