/**
 * Testbeds are built concurrently (parallel test files, a demo beside the tests): subnets and names must
 * never collide, and the claim must be exclusive across processes.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { skipBecause } from '../helpers/skip';
import { subnetPlan } from '../../testbed/addressing';
import { run } from '../../lib/process';
import { Netns, uniqueToken } from '../../testbed/netns';
import { waitForTcp } from '../../testbed/reachability';
import { testbedUnavailableReason } from '../../testbed/requirements';
import { rootNamespaceUses } from '../../testbed/subnet-claim';
import { createTestbed, type Testbed } from '../../testbed/testbed';
import { cleanUp, makeStateDir, SERVICE_PORT, SERVING_BOOT_COMMAND } from './helpers/fixture';

const unavailable = await testbedUnavailableReason();

describe.skipIf(skipBecause(unavailable, 'testbed concurrency tests'))('concurrent testbeds', () => {
  const built: Array<{ testbed?: Testbed; stateDir: string }> = [];

  afterAll(async () => {
    const errors: unknown[] = [];
    for (const b of built) await cleanUp(b.testbed, b.stateDir).catch((err: unknown) => errors.push(err));
    if (errors.length) throw new AggregateError(errors, 'cleaning up concurrent testbeds failed');
  });

  it('lets exactly one of many simultaneous claims of a namespace name win', async () => {
    const name = `hp-claimtest-${uniqueToken()}`;
    const claims = await Promise.all(Array.from({ length: 6 }, () => Netns.tryCreate(name)));
    const winners = claims.filter((c): c is Netns => c !== null);
    try {
      expect(winners).toHaveLength(1);
    } finally {
      for (const w of winners) await w.destroy();
    }
  });

  it('gives testbeds built at the same time distinct subnets, names and working paths', async () => {
    const entries: Array<{ testbed?: Testbed; stateDir: string }> = await Promise.all(
      [0, 1, 2].map(async (i) => ({ stateDir: await makeStateDir(`concurrent${i}`) })),
    );
    built.push(...entries);
    const results = await Promise.allSettled(
      entries.map((e) => createTestbed({ stateDir: e.stateDir, hosts: 1, bootCommand: SERVING_BOOT_COMMAND })),
    );
    results.forEach((r, i) => {
      if (r.status === 'fulfilled' && entries[i]) entries[i].testbed = r.value;
    });
    const testbeds = results.map((r) => {
      if (r.status === 'rejected') throw r.reason;
      return r.value;
    });

    const indexes = new Set(testbeds.map((t) => t.description.subnet.index));
    const tokens = new Set(testbeds.map((t) => t.description.token));
    expect(indexes.size).toBe(3);
    expect(tokens.size).toBe(3);
    for (const t of testbeds) {
      const host = t.hosts[0];
      if (!host) throw new Error('no host');
      // The root namespace routes each testbed's hosts through that testbed's own manager interface.
      const [route] = JSON.parse((await run(['ip', '-j', 'route', 'get', host.address])).stdout) as Array<{ dev: string }>;
      expect(route?.dev).toBe(t.manager.interface);
      await waitForTcp(host.address, SERVICE_PORT, { timeoutMs: 20_000 });
      expect(await rootNamespaceUses(subnetPlan(t.description.subnet.index))).toBe(true);
    }
  });
});
