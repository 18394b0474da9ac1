/**
 * The agent process parses with zod's `jitless` (agent/zod-jitless.ts): its module graph sets it before it
 * builds its schemas, so a first `Host.setupNetworks` parse generates no parser code (`new Function`), and
 * the parse still accepts and refuses what it did (test/vdsm and test/model pin the rest).
 */
import { afterEach, describe, expect, it } from 'vitest';
// The agent command's module graph, as `hostprov agent` and the agent bundle load it, first.
import '../../cli/commands/agent';
import { SetupNetworksParams } from '../../model/vdsm/setup-networks';

const realFunction = globalThis.Function;
let constructed = 0;

/** Counts `new Function(…)`, which is how zod compiles the parsers it generates. */
function countFunctionConstructions(): void {
  globalThis.Function = new Proxy(realFunction, {
    construct(target, args: string[]) {
      constructed++;
      return Reflect.construct(target, args) as object;
    },
  });
}

afterEach(() => {
  globalThis.Function = realFunction;
  constructed = 0;
});

const request = {
  networks: {
    ovirtmgmt: {
      nic: 'eth0',
      bridged: 'true',
      bootproto: 'none',
      ipaddr: '192.0.2.10',
      netmask: '255.255.255.0',
      gateway: '192.0.2.1',
      defaultRoute: true,
    },
  },
  bondings: { bond0: { nics: ['eth1', 'eth2'], options: 'mode=1' } },
  options: { connectivityCheck: 'true', connectivityTimeout: 120, commitOnSuccess: true },
};

describe('zod in the agent process', () => {
  it('parses a setupNetworks request without generating parser code', () => {
    countFunctionConstructions();
    expect(SetupNetworksParams.parse(request)).toEqual(request);
    expect(constructed).toBe(0);
  });

  it('still refuses an unknown key with a typed error', () => {
    countFunctionConstructions();
    const bad = { ...request, networks: { ovirtmgmt: { ...request.networks.ovirtmgmt, ipadr: '192.0.2.11' } } };
    const result = SetupNetworksParams.safeParse(bad);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]).toMatchObject({ code: 'unrecognized_keys', keys: ['ipadr'], path: ['networks', 'ovirtmgmt'] });
    expect(constructed).toBe(0);
  });
});
