/**
 * The IPv6 switch's file: only link names the kernel allows reach /proc/sys, and a link without one is left
 * out of a read. Setting it is shown on a real kernel by test/agent/agent-ipv6-per-bridge.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { readIpv6Enabled, setIpv6Enabled } from '../../../agent/backend/ipv6-sysctl';

describe('the IPv6 switch per link', () => {
  it('refuses a name that would leave the link directory, and writes nothing', async () => {
    for (const name of ['..', '.', 'a/b', '../all', 'x'.repeat(16), '']) {
      await expect(setIpv6Enabled(name, false), name).rejects.toThrow(/not a link name/);
    }
  });

  it('reads lo as the kernel has it, and leaves out a link that does not exist or a bad name', async () => {
    const read = await readIpv6Enabled(['lo', 'no-such-link0', '../all']);
    expect([...read.keys()]).toEqual(['lo']);
  });
});
