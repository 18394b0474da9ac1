/**
 * Which MAC the manager learns for a testbed host's address: the neighbour entry its interface holds after
 * a fresh resolution. Several rounds, because under ARP flux (every NIC on the switch answering) the first
 * answer, the one the kernel keeps, comes from a different NIC from time to time.
 */
import { run } from '../../lib/process';
import type { Testbed } from '../../testbed/testbed';

export async function macsLearnedFor(testbed: Testbed, hostName: string, rounds = 4): Promise<Array<string | undefined>> {
  const host = testbed.host(hostName);
  const manager = testbed.manager.interface;
  const learned: Array<string | undefined> = [];
  for (let round = 0; round < rounds; round++) {
    await run(['ip', 'neigh', 'flush', 'to', host.address, 'dev', manager]);
    await run(['ping', '-c', '1', '-W', '2', '-I', manager, host.address], { allowFailure: true });
    const { stdout } = await run(['ip', '-j', 'neigh', 'show', 'to', host.address, 'dev', manager]);
    learned.push((JSON.parse(stdout) as Array<{ lladdr?: string }>)[0]?.lladdr);
  }
  return learned;
}

/** The MAC of the host's NIC `nic`, as the testbed gave it. */
export function nicMac(testbed: Testbed, hostName: string, nic: string): string | undefined {
  return testbed.host(hostName).nics.find((n) => n.name === nic)?.mac;
}
