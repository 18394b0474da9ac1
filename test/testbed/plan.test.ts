/** The pure parts of the testbed: address plan, names, generated configs. */
import { describe, expect, it } from 'vitest';
import { run } from '../../lib/process';
import {
  bmcAddress,
  HostIndexError,
  hostAddress,
  nicMac,
  overlapsTestbedSubnets,
  subnetPlan,
  SubnetIndexError,
} from '../../testbed/addressing';
import { dnsmasqArgv } from '../../testbed/dnsmasq';
import { renderLanConf, UnsafeConfigValueError } from '../../testbed/ipmi-sim';
import { DuplicateHostNameError, expandBootCommand, resolveHosts, TestbedOptionsSchema } from '../../testbed/options';
import { planTestbed } from '../../testbed/plan';
import { renderPowerConfig } from '../../testbed/power-config';

describe('address plan', () => {
  it('derives every address of a testbed from its index', () => {
    const plan = subnetPlan(7);
    expect(plan).toMatchObject({
      hostSubnet: '198.18.7.0/24',
      managerSubnet: '198.19.7.0/24',
      gateway: '198.18.7.1',
      managerAddress: '198.19.7.1',
      dhcpServer: '198.18.7.2',
      dhcpPoolStart: '198.18.7.100',
      dhcpPoolEnd: '198.18.7.199',
    });
    expect([hostAddress(plan, 0), hostAddress(plan, 39)]).toEqual(['198.18.7.10', '198.18.7.49']);
    expect([bmcAddress(plan, 0), bmcAddress(plan, 39)]).toEqual(['198.18.7.200', '198.18.7.239']);
    expect(nicMac(plan, 3, 1)).toBe('02:68:70:07:03:01');
  });

  it('refuses indexes outside the plan', () => {
    expect(() => subnetPlan(0)).toThrow(SubnetIndexError);
    expect(() => subnetPlan(255)).toThrow(SubnetIndexError);
    expect(() => hostAddress(subnetPlan(1), 40)).toThrow(HostIndexError);
  });

  it('treats addresses and routes inside either /24 as a conflict, broad routes not', () => {
    const plan = subnetPlan(7);
    expect(overlapsTestbedSubnets(plan, '198.18.7.33/32')).toBe(true);
    expect(overlapsTestbedSubnets(plan, '198.19.7.0/24')).toBe(true);
    expect(overlapsTestbedSubnets(plan, '198.18.0.0/15')).toBe(true);
    expect(overlapsTestbedSubnets(plan, '198.18.8.0/24')).toBe(false);
    expect(overlapsTestbedSubnets(plan, '0.0.0.0/0')).toBe(false);
    expect(overlapsTestbedSubnets(plan, '192.0.2.0/24')).toBe(false);
  });
});

describe('options and plan', () => {
  it('names unnamed hosts by position and rejects duplicates', () => {
    const options = TestbedOptionsSchema.parse({ stateDir: '/tmp/x', hosts: [{}, { name: 'proxy' }, {}] });
    expect(resolveHosts(options).map((h) => h.name)).toEqual(['host1', 'proxy', 'host3']);
    const dup = TestbedOptionsSchema.parse({ stateDir: '/tmp/x', hosts: [{ name: 'a' }, { name: 'a' }] });
    expect(() => resolveHosts(dup)).toThrow(DuplicateHostNameError);
  });

  it('accepts only shell-safe absolute state dirs', () => {
    expect(TestbedOptionsSchema.safeParse({ stateDir: 'relative/dir' }).success).toBe(false);
    expect(TestbedOptionsSchema.safeParse({ stateDir: '/tmp/with space' }).success).toBe(false);
    expect(TestbedOptionsSchema.safeParse({ stateDir: '/tmp/ok_dir-1.x' }).success).toBe(true);
  });

  it('replaces boot-command placeholders per host and leaves unknown ones', () => {
    const argv = expandBootCommand(['agent', '--state-dir', '{stateDir}', '--x={host}@{address}', '{unknown}'], {
      host: 'h1',
      namespace: 'ns',
      address: '198.18.7.10',
      stateDir: '/s',
      runtimeDir: '/r',
      managerAddress: '198.19.7.1',
      gateway: '198.18.7.1',
    });
    expect(argv).toEqual(['agent', '--state-dir', '/s', '--x=h1@198.18.7.10', '{unknown}']);
  });

  it('plans token-scoped names, short interface names and per-host factory configs', () => {
    const options = TestbedOptionsSchema.parse({ stateDir: '/tmp/tb', hosts: [{}, { factory: 'dhcp', defaultRoute: false, nics: 3 }] });
    const description = planTestbed({
      token: 'abc123',
      stateDir: '/tmp/tb',
      plan: subnetPlan(9),
      switchNamespace: 'hp-sw-198.18.9',
      hosts: resolveHosts(options),
      bootCommand: ['x', '{runtimeDir}'],
    });
    const [first, second] = description.hosts;
    expect(description.manager).toMatchObject({ interface: 'hpabc123mgr', gateway: '198.18.9.1', address: '198.19.9.1' });
    expect(first).toMatchObject({
      namespace: 'hp-abc123-host1',
      address: '198.18.9.10',
      factory: { boot: 'static', address: '198.18.9.10/24', gateway: '198.18.9.1' },
    });
    expect(first?.bootCommand).toEqual(['x', '/tmp/tb/hosts/host1/run']);
    expect(second?.factory).toEqual({
      boot: 'dhcp',
      address: '198.18.9.11/24',
      gateway: null,
      device: { nics: ['eth0'], bond: null, vlan: null },
    });
    expect(second?.nics.map((n) => n.name)).toEqual(['eth0', 'eth1', 'eth2']);
    const names = [description.manager.interface, ...description.hosts.flatMap((h) => h.nics.flatMap((n) => [n.name, n.switchPort]))];
    for (const name of names) expect(Buffer.byteLength(name)).toBeLessThanOrEqual(15);
  });
});

describe('generated configs', () => {
  it('power.conf round-trips arbitrary boot arguments through bash', async () => {
    const tricky = ["it's", 'a "quoted" $HOME `x` \\ arg', '', 'line\nbreak'];
    const conf = renderPowerConfig({
      host: 'h1',
      namespace: 'ns',
      nics: [{ name: 'eth0', mac: '02:68:70:01:00:00', switchPort: 'h0n0' }],
      switchNamespace: 'sw',
      switchBridge: 'br0',
      factory: { boot: 'static', address: '198.18.1.10/24', gateway: null },
      hostDir: '/d',
      runtimeDir: '/d/run',
      consoleLog: '/d/console.log',
      bootCommand: tricky,
      bootEnv: { A: "x'y" },
      bootCwd: '/',
      dhclientConf: '/d/dhclient.conf',
      offGraceMs: 1000,
    });
    const { stdout } = await run([
      'bash',
      '-c',
      `${conf}\nprintf '%s\\0' "\${BOOT_ARGV[@]}" "\${BOOT_ENV[@]}" "$FACTORY_GATEWAY" "$OFF_GRACE_TICKS"`,
    ]);
    expect(stdout.split('\0').slice(0, -1)).toEqual([...tricky, "A=x'y", '', '20']);
  });

  it('lan.conf refuses values ipmi_sim would misread', () => {
    const base = { name: 'h1', dir: '/d', address: '198.18.1.200', username: 'admin', password: 'secret', chassisControl: '/d/chassis.sh' };
    expect(renderLanConf(base)).toContain('chassis_control "/d/chassis.sh 0x20"');
    expect(() => renderLanConf({ ...base, password: 'a"b' })).toThrow(UnsafeConfigValueError);
    expect(() => renderLanConf({ ...base, chassisControl: '/d/my dir/chassis.sh' })).toThrow(UnsafeConfigValueError);
  });

  it('dnsmasq withholds the router option from hosts without a default route', () => {
    const argv = dnsmasqArgv({
      dir: '/d',
      interface: 'eth0',
      plan: subnetPlan(3),
      reservations: [
        { macs: ['02:68:70:03:00:00'], address: '198.18.3.10', defaultRoute: true },
        { macs: ['02:68:70:03:01:00'], address: '198.18.3.11', defaultRoute: false },
        // A bond's NICs: the address follows whichever MAC asks.
        { macs: ['02:68:70:03:02:02', '02:68:70:03:02:03'], address: '198.18.3.12', defaultRoute: true },
      ],
    });
    expect(argv).toContain('--dhcp-host=02:68:70:03:00:00,198.18.3.10');
    expect(argv).toContain('--dhcp-host=02:68:70:03:01:00,set:noroute,198.18.3.11');
    expect(argv).toContain('--dhcp-host=02:68:70:03:02:02,02:68:70:03:02:03,198.18.3.12');
    expect(argv).toContain('--dhcp-range=198.18.3.100,198.18.3.199,255.255.255.0,1h');
    expect(argv).toContain('--dhcp-option=tag:noroute,option:router');
    expect(argv).toContain('--conf-file=/dev/null');
  });
});
