/**
 * Every name, address and path of a testbed, decided before anything is built: the plan is written to
 * testbed.json first, so teardown can find each part even if building stops half-way.
 *
 * Names carry the testbed's random token (`hp-<token>-<host>`), so concurrent testbeds never collide;
 * switch ports only need to be unique inside the testbed's own switch namespace.
 */
import { join } from 'node:path';
import {
  bmcAddress,
  HOST_SUBNET_PREFIX_LENGTH,
  hostAddress,
  nicMac,
  VLAN_SUBNET_PREFIX_LENGTH,
  vlanHostAddress,
  type SubnetPlan,
} from './addressing';
import { TestbedPhase, type FactoryDevice, type TestbedDescription, type TestbedHost } from './description';
import { IPMI_LAN_PORT } from './ipmi-sim';
import { expandBootCommand, type ResolvedHostOptions } from './options';

export const SWITCH_BRIDGE = 'br0';
export const BMC_USERNAME = 'admin';

export interface PlanInput {
  token: string;
  stateDir: string;
  plan: SubnetPlan;
  switchNamespace: string;
  hosts: readonly ResolvedHostOptions[];
  bootCommand: readonly string[];
}

export function hostDir(stateDir: string, host: string): string {
  return join(stateDir, 'hosts', host);
}

/** Files of a host that are not in the description (derived from its dir). */
export function hostFiles(dir: string): { powerConf: string; bootPid: string; powerLog: string; dhclientLog: string } {
  return {
    powerConf: join(dir, 'power.conf'),
    bootPid: join(dir, 'boot.pid'),
    powerLog: join(dir, 'power.log'),
    dhclientLog: join(dir, 'dhclient.log'),
  };
}

/** Shared dhclient.conf of the hosts' factory DHCP. */
export function dhclientConfPath(stateDir: string): string {
  return join(stateDir, 'dhclient.conf');
}

/** Where the top-of-rack router keeps its files. */
export function routerDir(stateDir: string): string {
  return join(stateDir, 'router');
}

function factoryDevice(options: ResolvedHostOptions): FactoryDevice {
  return {
    nics: options.bond ? [...options.bond.nics] : ['eth0'],
    bond: options.bond ? { name: options.bond.name, options: { ...options.bond.options } } : null,
    vlan: options.vlan ?? null,
  };
}

function planHost(input: PlanInput, options: ResolvedHostOptions, index: number): TestbedHost {
  const { plan, token, stateDir } = input;
  const dir = hostDir(stateDir, options.name);
  const namespace = `hp-${token}-${options.name}`;
  const tagged = options.vlan !== undefined;
  const address = tagged ? vlanHostAddress(plan, index) : hostAddress(plan, index);
  const prefixLength = tagged ? VLAN_SUBNET_PREFIX_LENGTH : HOST_SUBNET_PREFIX_LENGTH;
  const gateway = options.defaultRoute ? (tagged ? plan.vlanGateway : plan.gateway) : null;
  const stateDirOfHost = join(dir, 'state');
  const runtimeDir = join(dir, 'run');
  return {
    name: options.name,
    kind: options.kind,
    namespace,
    nics: Array.from({ length: options.nics }, (_, j) => ({ name: `eth${j}`, mac: nicMac(plan, index, j), switchPort: `h${index}n${j}` })),
    factory: { boot: options.factory, address: `${address}/${prefixLength}`, gateway, device: factoryDevice(options) },
    address,
    dir,
    stateDir: stateDirOfHost,
    runtimeDir,
    consoleLog: join(dir, 'console.log'),
    powerScript: join(dir, 'chassis.sh'),
    bootCommand: expandBootCommand(options.bootCommand ?? input.bootCommand, {
      host: options.name,
      namespace,
      address,
      stateDir: stateDirOfHost,
      runtimeDir,
      managerAddress: plan.managerAddress,
      gateway: plan.gateway,
    }),
    bmc: {
      address: bmcAddress(plan, index),
      port: IPMI_LAN_PORT,
      username: BMC_USERNAME,
      agent: 'ipmilan',
      dir: join(dir, 'bmc'),
      pid: null,
    },
  };
}

/** The top-of-rack router, when a host's factory network is tagged (one VLAN per testbed). */
function planRouter(input: PlanInput): TestbedDescription['router'] {
  const vlan = input.hosts.find((h) => h.vlan !== undefined)?.vlan;
  if (vlan === undefined) return null;
  const { plan, token, stateDir } = input;
  const dir = routerDir(stateDir);
  const hex = (n: number) => n.toString(16).padStart(2, '0');
  return {
    vlan,
    address: plan.router,
    vlanSubnet: plan.vlanSubnet,
    vlanGateway: plan.vlanGateway,
    namespace: `hp-${token}-tor`,
    // 02:68:74 = "ht": the testbed's top-of-rack router.
    nic: { name: 'eth0', mac: `02:68:74:${hex(plan.index)}:00:00`, switchPort: 'tor' },
    dir,
    powerScript: join(dir, 'power.sh'),
  };
}

export function planTestbed(input: PlanInput): TestbedDescription {
  const { plan, token, stateDir } = input;
  return {
    version: 1,
    phase: TestbedPhase.BUILDING,
    token,
    createdAt: new Date().toISOString(),
    stateDir,
    subnet: { index: plan.index, hostSubnet: plan.hostSubnet, managerSubnet: plan.managerSubnet },
    switch: { namespace: input.switchNamespace, bridge: SWITCH_BRIDGE },
    manager: { interface: `hp${token}mgr`, switchPort: 'mgr', gateway: plan.gateway, address: plan.managerAddress },
    dhcp: {
      namespace: `hp-${token}-dhcp`,
      interface: 'eth0',
      switchPort: 'dhcp',
      address: plan.dhcpServer,
      dir: join(stateDir, 'dhcp'),
      pid: null,
    },
    oob: { namespace: `hp-${token}-oob`, interface: 'eth0', switchPort: 'oob' },
    hosts: input.hosts.map((h, i) => planHost(input, h, i)),
    router: planRouter(input),
    credentialsFile: join(stateDir, 'bmc-credentials.json'),
  };
}
