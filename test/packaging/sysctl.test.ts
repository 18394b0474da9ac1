/**
 * packaging/sysctl.d/hostprov-agent.conf: the kernel settings a packaged agent host gets, which the testbed's
 * hosts get too (testbed/build.ts). `sysctl -p` accepts the file as it is, in a network namespace of the
 * test's own, and the kernel then reports every value it sets.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../lib/paths';
import { agentHostSysctls } from '../../testbed/build';
import { Netns, netnsUnavailableReason, uniqueToken } from '../../testbed/netns';
import { skipBecause } from '../helpers/skip';

const FILE = join(PROJECT_ROOT, 'packaging', 'sysctl.d', 'hostprov-agent.conf');
const unavailable = await netnsUnavailableReason();

describe.skipIf(skipBecause(unavailable, 'sysctl file test (needs network namespaces)'))('the agent host sysctl file', () => {
  let ns: Netns | undefined;
  afterAll(async () => {
    await ns?.destroy();
  });

  it('applies with sysctl -p, and the kernel reports each value it sets', async () => {
    ns = await Netns.create(`hp-sysctl-${uniqueToken()}`);
    await ns.exec(['sysctl', '-q', '-p', FILE]);
    const settings = await agentHostSysctls();
    expect(settings).toEqual(expect.arrayContaining(['net.ipv4.conf.all.arp_ignore=1', 'net.ipv4.conf.default.arp_announce=2']));
    for (const setting of settings) {
      const [key, value] = setting.split('=');
      const { stdout } = await ns.exec(['sysctl', '-n', key!]);
      expect(stdout.trim(), key).toBe(value);
    }
  });
});
