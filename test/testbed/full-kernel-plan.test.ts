/** The pure parts of full-kernel testbed hosts: factory networks, the VLAN's addresses and router, guest configs. */
import { describe, expect, it } from 'vitest';
import { run } from '../../lib/process';
import { subnetPlan, vlanHostAddress } from '../../testbed/addressing';
import { dhcpReservation } from '../../testbed/build';
import { factoryDeviceName, TestbedDescriptionSchema } from '../../testbed/description';
import { FactoryNetworkError, resolveHosts, TestbedOptionsSchema } from '../../testbed/options';
import { planTestbed } from '../../testbed/plan';
import { renderGuestConfig, umlArgv, WIRE_MTU } from '../../testbed/uml/guest-config';

const plan = subnetPlan(9);
const testbed = (hosts: unknown[]) => {
  const options = TestbedOptionsSchema.parse({ stateDir: '/tmp/tb', hosts });
  return planTestbed({
    token: 'abc123',
    stateDir: '/tmp/tb',
    plan,
    switchNamespace: 'hp-sw-198.18.9',
    hosts: resolveHosts(options),
    bootCommand: ['sleep', 'infinity'],
  });
};

describe('factory networks of full-kernel hosts', () => {
  it('puts a tagged host on the VLAN subnet behind the router, with its bond and VLAN', () => {
    const d = testbed([
      { name: 'seed', kind: 'uml', nics: 4, factory: 'dhcp', bond: { name: 'bond4', nics: ['eth2', 'eth3'] }, vlan: 3000 },
      { name: 'proxy' },
    ]);
    const seed = d.hosts[0];
    expect(seed).toMatchObject({
      kind: 'uml',
      address: '198.19.9.130',
      factory: {
        boot: 'dhcp',
        address: '198.19.9.130/25',
        gateway: '198.19.9.129',
        device: { nics: ['eth2', 'eth3'], bond: { name: 'bond4', options: { mode: 'active-backup', miimon: '100' } }, vlan: 3000 },
      },
    });
    expect(factoryDeviceName(seed?.factory.device ?? { nics: [], bond: null, vlan: null })).toBe('bond4.3000');
    expect(d.router).toMatchObject({ vlan: 3000, address: '198.18.9.3', vlanSubnet: '198.19.9.128/25', vlanGateway: '198.19.9.129' });
    // Untagged hosts stay on the switch's subnet; a testbed without tags has no router.
    expect(d.hosts[1]).toMatchObject({
      kind: 'netns',
      address: '198.18.9.11',
      factory: { device: { nics: ['eth0'], bond: null, vlan: null } },
    });
    expect(testbed([{}]).router).toBeNull();
    expect(vlanHostAddress(plan, 39)).toBe('198.19.9.169');
    // What another process reads back is the same (descriptions are zod-validated).
    expect(TestbedDescriptionSchema.parse(JSON.parse(JSON.stringify(d)))).toEqual(d);
  });

  it('reserves the address for every MAC a bond may carry', () => {
    const d = testbed([{ kind: 'uml', nics: 4, bond: { name: 'bond4', nics: ['eth3', 'eth2'] } }]);
    const host = d.hosts[0];
    if (!host) throw new Error('no host');
    expect(dhcpReservation(host)).toEqual({ macs: [host.nics[3]?.mac, host.nics[2]?.mac], address: host.address, defaultRoute: true });
  });

  it('refuses bonds and VLANs on namespace hosts, NICs a host lacks, and two VLANs in one testbed', () => {
    const resolve = (hosts: unknown[]) => () => resolveHosts(TestbedOptionsSchema.parse({ stateDir: '/tmp/tb', hosts }));
    expect(resolve([{ vlan: 100 }])).toThrow(FactoryNetworkError);
    expect(resolve([{ bond: { name: 'bond0', nics: ['eth0', 'eth1'] }, nics: 2 }])).toThrow(/full-kernel/);
    expect(resolve([{ kind: 'uml', nics: 2, bond: { name: 'bond0', nics: ['eth1', 'eth2'] } }])).toThrow(/eth2 does not exist/);
    expect(
      resolve([
        { kind: 'uml', vlan: 100 },
        { kind: 'uml', vlan: 200 },
      ]),
    ).toThrow(/one VLAN/);
    expect(
      TestbedOptionsSchema.safeParse({ stateDir: '/tmp/tb', hosts: [{ kind: 'uml', bond: { name: 'team0', nics: ['eth0'] } }] }).success,
    ).toBe(false);
  });
});

describe('guest configuration', () => {
  const host = {
    role: 'host' as const,
    name: 'seed',
    modulesDir: '/usr/lib/uml/modules/6.1.0',
    nics: [{ name: 'eth0', mac: '02:68:70:09:00:00' }],
    runtimeDir: '/tmp/tb/hosts/seed/run',
    sysctls: ['net.ipv4.conf.all.arp_ignore=1', 'net.ipv4.conf.all.arp_announce=2'],
    factory: {
      boot: 'dhcp' as const,
      address: '198.19.9.130/25',
      gateway: '198.19.9.129',
      nics: ['eth2', 'eth3'],
      bond: { name: 'bond4', options: { mode: 'active-backup', miimon: '100' } },
      vlan: 3000,
      mtu: 1500,
    },
    dhclientConf: '/tmp/tb/dhclient.conf',
    dhclientScript: '/x/factory-dhclient-script.sh',
    bootCommand: ['node', "/it's/agent.mjs", 'agent'],
    bootEnv: { PATH: '/usr/bin', A: "x'y" },
    bootCwd: '/work',
  };

  it('is bash that the guest init sources back to the same values, quotes and all', async () => {
    const conf = renderGuestConfig(host);
    const { stdout } = await run([
      'bash',
      '-c',
      `${conf}\nprintf '%s\\0' "$ROLE" "\${FACTORY_BOND_OPTIONS[@]}" "$FACTORY_VLAN" "\${SYSCTLS[@]}" "\${BOOT_ARGV[@]}" "\${BOOT_ENV[@]}" "$WIRE_MTU"`,
    ]);
    expect(stdout.split('\0').slice(0, -1)).toEqual([
      'host',
      'mode',
      'active-backup',
      'miimon',
      '100',
      '3000',
      'net.ipv4.conf.all.arp_ignore=1',
      'net.ipv4.conf.all.arp_announce=2',
      'node',
      "/it's/agent.mjs",
      'agent',
      'PATH=/usr/bin',
      "A=x'y",
      String(WIRE_MTU),
    ]);
  });

  it('boots the kernel with hostfs as root, the guest init, and one tap per NIC at the wire MTU', () => {
    const argv = umlArgv({ umid: 'abc-seed', dir: '/tmp/tb/hosts/seed', guestConf: '/tmp/tb/hosts/seed/guest.conf', nics: 2 });
    expect(argv).toEqual(
      expect.arrayContaining([
        'rootfstype=hostfs',
        'rootflags=/',
        'HOSTPROV_GUEST_CONF=/tmp/tb/hosts/seed/guest.conf',
        `vec0:transport=tap,ifname=t0,mtu=${WIRE_MTU}`,
        `vec1:transport=tap,ifname=t1,mtu=${WIRE_MTU}`,
      ]),
    );
    expect(argv.find((a) => a.startsWith('init='))).toMatch(/testbed\/scripts\/uml-guest-init\.sh$/);
  });
});
