/**
 * Building the planned testbed in the kernel: the switch, the manager side, the DHCP and out-of-band
 * namespaces, the hosts with their NICs and power files. Processes (dnsmasq, ipmi_sim, boot commands) are
 * started by testbed.ts once the wiring exists.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../lib/paths';
import { run } from '../lib/process';
import { HOST_SUBNET_PREFIX_LENGTH, subnetPlan, VLAN_SUBNET_PREFIX_LENGTH } from './addressing';
import { HostKind, type TestbedDescription, type TestbedHost } from './description';
import { dnsmasqArgv, type DhcpReservation } from './dnsmasq';
import { addVethPair, Netns } from './netns';
import { FACTORY_MTU, writePowerFiles } from './power-config';
import { dhclientConfPath, hostFiles } from './plan';
import { TESTBED_SCRIPTS_DIR } from './scripts-dir';
import { umlArgv, umlWiring, WIRE_MTU, writeGuestConfig } from './uml/guest-config';
import { umlModulesDir, xstateShim } from './uml/kernel';

const prefix = `/${HOST_SUBNET_PREFIX_LENGTH}`;

/** The kernel settings a packaged agent host gets (packaging/sysctl.d/hostprov-agent.conf), as `key=value`. */
export async function agentHostSysctls(): Promise<string[]> {
  const text = await readFile(join(PROJECT_ROOT, 'packaging', 'sysctl.d', 'hostprov-agent.conf'), 'utf8');
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#') && !line.startsWith(';'))
    .map((line) => line.replace(/\s*=\s*/, '='));
}

/** A Linux bridge without STP, so a port forwards the moment its link is up (hosts boot fast). */
export async function buildSwitch(description: TestbedDescription): Promise<void> {
  const sw = Netns.attach(description.switch.namespace);
  await sw.ip(['link', 'add', description.switch.bridge, 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0']);
  await sw.ip(['link', 'set', description.switch.bridge, 'up']);
}

async function plugIntoSwitch(description: TestbedDescription, port: string): Promise<void> {
  await Netns.attach(description.switch.namespace).ip(['link', 'set', port, 'master', description.switch.bridge, 'up']);
}

/** The manager side: a veth end in the root namespace holding the gateway (/24) and the manager address (/32). */
export async function buildManagerSide(description: TestbedDescription): Promise<void> {
  const { manager } = description;
  await addVethPair({ ns: null, name: manager.interface }, { ns: Netns.attach(description.switch.namespace), name: manager.switchPort });
  await plugIntoSwitch(description, manager.switchPort);
  // /32: the manager's own address adds no route; hosts reach it only through their default gateway.
  const ip = (args: readonly string[]) => run(['ip', ...args]);
  await ip(['addr', 'add', `${manager.gateway}${prefix}`, 'dev', manager.interface]);
  await ip(['addr', 'add', `${manager.address}/32`, 'dev', manager.interface]);
  await ip(['link', 'set', manager.interface, 'up']);
  // The VLAN's subnet lies behind the top-of-rack router; the route goes when the interface does.
  if (description.router)
    await ip(['route', 'add', description.router.vlanSubnet, 'via', description.router.address, 'dev', manager.interface]);
}

/** What the DHCP server reserves for a host: its factory address for every MAC its factory device may have. */
export function dhcpReservation(host: TestbedHost): DhcpReservation {
  const macs = host.factory.device.nics
    .map((name) => host.nics.find((n) => n.name === name)?.mac)
    .filter((mac): mac is string => mac !== undefined);
  return { macs, address: host.address, defaultRoute: host.factory.gateway !== null };
}

/** A namespace with one NIC on the switch holding `addresses`. */
async function buildServiceNamespace(
  description: TestbedDescription,
  part: { namespace: string; interface: string; switchPort: string },
  addresses: readonly string[],
): Promise<void> {
  const ns = await Netns.create(part.namespace);
  await addVethPair({ ns, name: part.interface }, { ns: Netns.attach(description.switch.namespace), name: part.switchPort });
  await plugIntoSwitch(description, part.switchPort);
  for (const address of addresses) await ns.ip(['addr', 'add', `${address}${prefix}`, 'dev', part.interface]);
  await ns.ip(['link', 'set', part.interface, 'up']);
}

export async function buildDhcpNamespace(description: TestbedDescription): Promise<void> {
  await buildServiceNamespace(description, description.dhcp, [description.dhcp.address]);
}

/** Out-of-band network: every BMC address lives here, so BMCs answer while their hosts are off. */
export async function buildOobNamespace(description: TestbedDescription): Promise<void> {
  await buildServiceNamespace(
    description,
    description.oob,
    description.hosts.map((h) => h.bmc.address),
  );
}

/** dhclient settings of the factory DHCP: give up blocking after a few seconds, keep trying in background. */
export async function writeDhclientConf(description: TestbedDescription): Promise<void> {
  await writeFile(
    dhclientConfPath(description.stateDir),
    [
      '# Generated by hostprov testbed: factory DHCP of the simulated hosts.',
      'timeout 5;',
      'retry 2;',
      'initial-interval 1;',
      'request subnet-mask, broadcast-address, routers;',
      '',
    ].join('\n'),
  );
}

export interface HostBootSettings {
  bootCwd: string;
  bootEnv: Readonly<Record<string, string>>;
  powerOffGraceMs: number;
}

/**
 * A full-kernel host's NIC j: a tap in the host's namespace (the guest process opens it), bridged there to
 * a veth whose peer is the host's port on the switch. All at the wire MTU, so jumbo frames pass.
 */
async function wireGuestNic(description: TestbedDescription, ns: Netns, j: number, switchPort: string): Promise<void> {
  const { tap, uplink, bridge } = umlWiring(j);
  const sw = Netns.attach(description.switch.namespace);
  await ns.ip(['tuntap', 'add', 'dev', tap, 'mode', 'tap']);
  await addVethPair({ ns, name: uplink }, { ns: sw, name: switchPort });
  await ns.ip(['link', 'add', bridge, 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0']);
  for (const dev of [tap, uplink]) await ns.ip(['link', 'set', dev, 'mtu', String(WIRE_MTU), 'master', bridge, 'up']);
  await ns.ip(['link', 'set', bridge, 'up']);
  await sw.ip(['link', 'set', switchPort, 'mtu', String(WIRE_MTU)]);
  await plugIntoSwitch(description, switchPort);
}

/** A full-kernel host: its namespace holds the guest process and the wiring of its NICs. */
async function buildUmlHost(description: TestbedDescription, host: TestbedHost, boot: HostBootSettings): Promise<void> {
  const ns = await Netns.create(host.namespace);
  for (const [j, nic] of host.nics.entries()) await wireGuestNic(description, ns, j, nic.switchPort);
  await mkdir(host.stateDir, { recursive: true });
  await mkdir(host.runtimeDir, { recursive: true });
  await mkdir(host.bmc.dir, { recursive: true });
  const guestConf = await writeGuestConfig(host.dir, {
    role: 'host',
    name: host.name,
    modulesDir: await umlModulesDir(),
    nics: host.nics,
    runtimeDir: host.runtimeDir,
    sysctls: await agentHostSysctls(),
    factory: { ...host.factory, ...host.factory.device, mtu: FACTORY_MTU },
    dhclientConf: dhclientConfPath(description.stateDir),
    dhclientScript: join(TESTBED_SCRIPTS_DIR, 'factory-dhclient-script.sh'),
    bootCommand: host.bootCommand,
    bootEnv: guestBootEnv(host, boot),
    bootCwd: boot.bootCwd,
  });
  await writePowerFiles(
    {
      ...powerConfigBase(description, host, boot),
      uml: {
        argv: umlArgv({ umid: `${description.token}-${host.name}`, dir: host.dir, guestConf, nics: host.nics.length }),
        preload: await xstateShim(),
      },
    },
    { powerConf: hostFiles(host.dir).powerConf, chassisScript: host.powerScript },
  );
}

function guestBootEnv(host: TestbedHost, boot: HostBootSettings): Record<string, string> {
  return {
    ...boot.bootEnv,
    HOSTPROV_TESTBED_HOST: host.name,
    HOSTPROV_TESTBED_STATE_DIR: host.stateDir,
    HOSTPROV_TESTBED_RUNTIME_DIR: host.runtimeDir,
  };
}

function powerConfigBase(
  description: TestbedDescription,
  host: TestbedHost,
  boot: HostBootSettings,
): Parameters<typeof writePowerFiles>[0] {
  return {
    host: host.name,
    namespace: host.namespace,
    nics: host.nics,
    switchNamespace: description.switch.namespace,
    switchBridge: description.switch.bridge,
    factory: host.factory,
    hostDir: host.dir,
    runtimeDir: host.runtimeDir,
    consoleLog: host.consoleLog,
    bootCommand: host.bootCommand,
    bootEnv: guestBootEnv(host, boot),
    bootCwd: boot.bootCwd,
    dhclientConf: dhclientConfPath(description.stateDir),
    offGraceMs: boot.powerOffGraceMs,
  };
}

type Router = NonNullable<TestbedDescription['router']>;

/**
 * The top-of-rack router: a full-kernel guest with one NIC on the switch that terminates the testbed's VLAN
 * (this machine's kernel has no 8021q), serves DHCP on it with the VLAN hosts' reservations and routes it
 * to the manager side. It has no BMC: the testbed powers it on at build and off at teardown.
 */
export async function buildRouter(description: TestbedDescription, router: Router): Promise<void> {
  const ns = await Netns.create(router.namespace);
  await wireGuestNic(description, ns, 0, router.nic.switchPort);
  await mkdir(join(router.dir, 'dhcp'), { recursive: true });
  const vlanDev = `eth0.${router.vlan}`;
  const plan = subnetPlan(description.subnet.index);
  const guestConf = await writeGuestConfig(router.dir, {
    role: 'router',
    name: 'tor',
    modulesDir: await umlModulesDir(),
    address: `${router.address}/${HOST_SUBNET_PREFIX_LENGTH}`,
    gateway: description.manager.gateway,
    vlan: router.vlan,
    vlanAddress: `${router.vlanGateway}/${VLAN_SUBNET_PREFIX_LENGTH}`,
    dnsmasqArgv: dnsmasqArgv({
      dir: join(router.dir, 'dhcp'),
      interface: vlanDev,
      plan: { dhcpPoolStart: plan.vlanDhcpPoolStart, dhcpPoolEnd: plan.vlanDhcpPoolEnd, gateway: router.vlanGateway },
      netmask: '255.255.255.128',
      reservations: description.hosts.filter((h) => h.factory.device.vlan !== null).map((h) => dhcpReservation(h)),
      pidFile: '/run/dnsmasq.pid',
    }),
  });
  const consoleLog = join(router.dir, 'console.log');
  await writePowerFiles(
    {
      host: 'tor',
      namespace: router.namespace,
      nics: [router.nic],
      switchNamespace: description.switch.namespace,
      switchBridge: description.switch.bridge,
      factory: { boot: 'static', address: router.address, gateway: description.manager.gateway },
      hostDir: router.dir,
      runtimeDir: join(router.dir, 'run'),
      consoleLog,
      bootCommand: ['true'],
      bootEnv: {},
      bootCwd: '/',
      dhclientConf: dhclientConfPath(description.stateDir),
      offGraceMs: 0,
      uml: { argv: umlArgv({ umid: `${description.token}-tor`, dir: router.dir, guestConf, nics: 1 }), preload: await xstateShim() },
    },
    { powerConf: join(router.dir, 'power.conf'), chassisScript: router.powerScript },
  );
}

/** A host namespace with its NICs on the switch (down: the host is off until powered on), dirs and power files. */
export async function buildHost(description: TestbedDescription, host: TestbedHost, boot: HostBootSettings): Promise<void> {
  if (host.kind === HostKind.UML) return buildUmlHost(description, host, boot);
  const ns = await Netns.create(host.namespace);
  // What a packaged host gets (packaging/sysctl.d, as VDSM sets it): ARP answered only on the NIC holding the
  // address. Otherwise every NIC on the switch answers for it, the manager may learn another NIC's MAC, and
  // when that NIC is removed the host is unreachable until the manager's neighbour entry expires.
  await ns.exec(['sysctl', '-q', '-w', ...(await agentHostSysctls())]);
  // Programs run with `ip netns exec` (dhclient-script included) see this file, never the machine's.
  await ns.writeEtcFile('resolv.conf', `# hostprov testbed host ${host.name}: the testbed has no DNS\noptions timeout:1 attempts:1\n`);
  const sw = Netns.attach(description.switch.namespace);
  for (const nic of host.nics) {
    await addVethPair({ ns, name: nic.name, mac: nic.mac }, { ns: sw, name: nic.switchPort });
    await plugIntoSwitch(description, nic.switchPort);
  }
  await mkdir(host.stateDir, { recursive: true });
  await mkdir(host.runtimeDir, { recursive: true });
  await mkdir(host.bmc.dir, { recursive: true });
  await writePowerFiles(
    {
      host: host.name,
      namespace: host.namespace,
      nics: host.nics,
      switchNamespace: description.switch.namespace,
      switchBridge: description.switch.bridge,
      factory: host.factory,
      hostDir: host.dir,
      runtimeDir: host.runtimeDir,
      consoleLog: host.consoleLog,
      bootCommand: host.bootCommand,
      bootEnv: {
        ...boot.bootEnv,
        HOSTPROV_TESTBED_HOST: host.name,
        HOSTPROV_TESTBED_STATE_DIR: host.stateDir,
        HOSTPROV_TESTBED_RUNTIME_DIR: host.runtimeDir,
      },
      bootCwd: boot.bootCwd,
      dhclientConf: dhclientConfPath(description.stateDir),
      offGraceMs: boot.powerOffGraceMs,
    },
    { powerConf: hostFiles(host.dir).powerConf, chassisScript: host.powerScript },
  );
}
