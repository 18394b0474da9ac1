/**
 * The plan cases behind the golden fixtures in test/fixtures/plans/<case>/. Each case builds the planner's
 * inputs the way the agent does (a setupNetworks change, its rollback, the boot-time restore), on a host
 * that got to its current state through earlier changes in the kernel simulator. plan-golden.test.ts checks
 * that the stored inputs are still what these builders make, and that the planner still makes plan.json.
 */
import { MAIN_TABLE, type KernelState } from '../../model/net-state';
import { desiredStateForChange } from '../../model/network/desired-state';
import type { NetworkAttributes } from '../../model/vdsm/setup-networks';
import { addr, defaultVia, nic } from '../helpers/host-state';
import {
  afterChange,
  changeInputs,
  freshHost,
  nextConfig,
  rollbackInputs,
  withLease,
  type HostStep,
  type PlanInputs,
  type SetupRequest,
} from '../helpers/plan-steps';

export interface PlanCase {
  /** The fixture directory's name. */
  name: string;
  about: string;
  inputs: () => PlanInputs;
}

/** A freshly installed host: eth0 with the management address and default route; eth1..eth3 idle and up. */
function installedHost(): KernelState {
  return {
    links: [
      nic('lo', '00:00:00:00:00:00', { kind: 'loopback', mtu: 65536 }),
      nic('eth0', '52:54:00:00:00:10'),
      nic('eth1', '52:54:00:00:00:11'),
      nic('eth2', '52:54:00:00:00:12'),
      nic('eth3', '52:54:00:00:00:13'),
    ],
    addresses: [addr('eth0', '198.18.1.10/24')],
    routes: [defaultVia('198.18.1.1', 'eth0')],
    rules: [],
  };
}

/** The same host whose OS configured eth0 by DHCP (the agent stopped the OS's client when it took eth0 over). */
function dhcpInstalledHost(): KernelState {
  const kernel = installedHost();
  kernel.addresses = [addr('eth0', '198.18.1.77/24', true)];
  kernel.routes = [{ ...defaultVia('198.18.1.1', 'eth0'), protocol: 'dhcp' }];
  return kernel;
}

const host = (): HostStep => freshHost(installedHost());

/** A host the OS brought up by DHCP on eth0 with a stock dhclient script: its default route has no `proto dhcp`. */
const stockDhcpHost = (): HostStep => {
  const kernel = dhcpInstalledHost();
  kernel.routes = [{ ...defaultVia('198.18.1.1', 'eth0'), protocol: 'boot' }];
  return { ...freshHost(kernel), foreignDhcp: [{ dev: 'eth0', family: 4, table: MAIN_TABLE, defaultRoute: true, sourceRouting: false }] };
};

const ovirtmgmt: NetworkAttributes = {
  nic: 'eth0',
  bridged: 'true',
  ipaddr: '198.18.1.10',
  netmask: '255.255.255.0',
  gateway: '198.18.1.1',
  defaultRoute: true,
};
const mgmtDhcp: NetworkAttributes = { nic: 'eth0', bridged: 'true', bootproto: 'dhcp', defaultRoute: true };
const storage: NetworkAttributes = { nic: 'eth1', bridged: 'false', ipaddr: '198.18.2.10', prefix: 24, gateway: '198.18.2.1' };
const bond0 = { nics: ['eth2', 'eth3'], options: 'mode=1 miimon=100' };
/** Seed-style VM network: a bridge over VLAN 100 on a bond, by DHCP, MTU 9000. */
const vmnetOnBond: NetworkAttributes = { bonding: 'bond0', vlan: '100', bridged: 'true', bootproto: 'dhcp', mtu: 9000 };
const vlanStack = (mtu: number): SetupRequest => ({
  networks: { vmnet: { bonding: 'bond0', vlan: '100', bridged: 'true', ipaddr: '198.18.3.10', prefix: 24, mtu } },
  bondings: { bond0 },
});

const withMgmt = (): HostStep => afterChange(host(), { networks: { ovirtmgmt } });
const withMgmtAndStorage = (): HostStep => afterChange(withMgmt(), { networks: { storage } });
const withBond = (): HostStep => afterChange(withMgmt(), { bondings: { bond0 } });
const withBridgeOptions = (): HostStep =>
  afterChange(host(), { networks: { ovirtmgmt: { ...ovirtmgmt, custom: { bridge_opts: 'multicast_snooping=0 priority=100' } } } });
const withVlanStack = (mtu: number): HostStep => afterChange(withMgmt(), vlanStack(mtu));
/** A VM network without IP configuration, on a host where the agent sets IPv6 per device (its own namespace). */
const vmnetNoIp: NetworkAttributes = { nic: 'eth1', bridged: 'true' };
const vmnetWithIpv6: NetworkAttributes = { ...vmnetNoIp, ipv6addr: '2001:db8:5::10/64' };
/**
 * The agent in its own namespace, which reads IPv6 per link: the NICs as the kernel leaves them (IPv6 on,
 * advertisements and their default routers taken). ovirtmgmt's bridge is left unread (made where IPv6 was
 * not read), so left alone; its port eth0 converges to IPv6 off with any change.
 */
const controllingIpv6 = (): HostStep => {
  const step = withMgmt();
  const links = step.kernel.links.map((l) => (l.kind === 'nic' ? { ...l, ipv6: true, ipv6Autoconf: true, ipv6DefaultRouter: true } : l));
  return { ...step, kernel: { ...step.kernel, links }, controlsIpv6: true };
};
const withVmnetNoIp = (): HostStep => afterChange(controllingIpv6(), { networks: { vmnet: vmnetNoIp } });
const vmnetWithAutoconf: NetworkAttributes = { ...vmnetNoIp, ipv6autoconf: 'true' };
const withVmnetAutoconf = (): HostStep => afterChange(controllingIpv6(), { networks: { vmnet: vmnetWithAutoconf } });
/** A bridgeless network on eth1 that takes router advertisements. */
const slaacStorage: NetworkAttributes = { nic: 'eth1', bridged: 'false', ipv6autoconf: 'true' };
const withSlaacStorage = (): HostStep => afterChange(controllingIpv6(), { networks: { storage: slaacStorage } });
/** A DHCP network on eth1 without the default route: its own table, rules written when the lease arrives. */
const backup: NetworkAttributes = { nic: 'eth1', bridged: 'false', bootproto: 'dhcp' };
const withDhcpBackup = (): HostStep => withLease(afterChange(withMgmt(), { networks: { backup } }), 'eth1', '198.18.6.50/24', '198.18.6.1');
/** The same network bridged: its device, the bridge, goes when the network does. */
const withBridgedDhcpBackup = (): HostStep =>
  withLease(afterChange(withMgmt(), { networks: { backup: { ...backup, bridged: 'true' } } }), 'backup', '198.18.6.50/24', '198.18.6.1');
const withDhcpMgmt = (): HostStep =>
  withLease(
    afterChange(freshHost(dhcpInstalledHost()), { networks: { ovirtmgmt: mgmtDhcp } }),
    'ovirtmgmt',
    '198.18.1.77/24',
    '198.18.1.1',
  );

/** A case that plans `request` on the host `step` makes. */
const change = (name: string, about: string, step: () => HostStep, request: SetupRequest): PlanCase => ({
  name,
  about,
  inputs: () => strip(changeInputs(step(), request)),
});

/** A case that plans the rollback of `request` after it was applied on the host `step` makes. */
const rollback = (name: string, about: string, step: () => HostStep, request: SetupRequest): PlanCase => ({
  name,
  about,
  inputs: () => rollbackInputs(step(), request),
});

function strip({ current, runningDhcp, desired }: PlanInputs): PlanInputs {
  return { current, runningDhcp, desired };
}

export const PLAN_CASES: readonly PlanCase[] = [
  // Nothing to do
  {
    name: 'no-op',
    about: 'the running configuration requested again on a host that has it: no ops',
    inputs: () => {
      const step = withMgmtAndStorage();
      return strip(changeInputs(step, { networks: { ovirtmgmt, storage } }));
    },
  },
  {
    name: 'repair-link-down',
    about: 'the same configuration on a host whose management bridge was taken down behind our back: only link-up',
    inputs: () => {
      const step = withMgmt();
      step.kernel.links = step.kernel.links.map((l) => (l.name === 'ovirtmgmt' ? { ...l, up: false } : l));
      return strip(changeInputs(step, { networks: { ovirtmgmt } }));
    },
  },
  {
    name: 'unowned-left-alone',
    about: "ovirtmgmt on a host with another tool's address, route, rule and DHCP client on eth3: those stay",
    inputs: () => {
      const step = host();
      step.kernel.addresses.push(addr('eth3', '198.18.9.5/24'));
      step.kernel.routes.push({ family: 4, table: 500, dst: '198.18.99.0/24', gateway: '198.18.9.1', dev: 'eth3', protocol: 'static' });
      step.kernel.rules.push({ family: 4, priority: 1000, from: '198.18.9.0/24', table: 500 });
      step.dhcp.push({ dev: 'eth3', family: 6, table: 254, defaultRoute: false, sourceRouting: false });
      return strip(changeInputs(step, { networks: { ovirtmgmt } }));
    },
  },

  // The management network
  change(
    'mgmt-bridge-static',
    'ovirtmgmt bridged over eth0: the address and default route move to the bridge, which takes the NIC MAC',
    host,
    {
      networks: { ovirtmgmt },
    },
  ),
  change(
    'mgmt-bridgeless-static-mtu',
    'ovirtmgmt without a bridge on eth0, MTU 9000: the address stays, the NIC MTU rises, a table and rules appear',
    host,
    {
      networks: { ovirtmgmt: { ...ovirtmgmt, bridged: 'false', mtu: 9000 } },
    },
  ),
  change(
    'mgmt-bridge-dhcp',
    "ovirtmgmt by DHCP over eth0 on a host whose OS leased eth0's address: the lease goes, the bridge's client starts",
    () => freshHost(dhcpInstalledHost()),
    {
      networks: { ovirtmgmt: mgmtDhcp },
    },
  ),
  change(
    'dhcp-kept',
    'the DHCP management network requested again with its lease in place: the client, its address and routes are left alone',
    withDhcpMgmt,
    {
      networks: { ovirtmgmt: mgmtDhcp },
    },
  ),
  change(
    'dhcp-to-static',
    'ovirtmgmt from DHCP to static: the client stops, its lease address and route go, static ones come',
    withDhcpMgmt,
    {
      networks: { ovirtmgmt: { ...ovirtmgmt, ipaddr: '198.18.1.77' } },
    },
  ),
  change('static-to-dhcp', 'ovirtmgmt from static to DHCP: the static address, routes and rules go, a client starts', withMgmt, {
    networks: { ovirtmgmt: mgmtDhcp },
  }),
  change('stp-on', 'STP turned on for an existing bridge: one link-set', withMgmt, {
    networks: { ovirtmgmt: { ...ovirtmgmt, stp: 'true' } },
  }),
  change(
    'bridge-options',
    'bridge options changed on an existing bridge: one link-set of the options that differ, the bridge kept',
    withBridgeOptions,
    { networks: { ovirtmgmt: { ...ovirtmgmt, custom: { bridge_opts: 'multicast_snooping=0 priority=200 hash_max=8192' } } } },
  ),

  // IPv6 per device (docs/setup-networks.md#ipv6-per-device)
  change(
    'ipv6-off-on-new-bridge',
    "a VM network without IPv6 configuration: its new bridge and its port get IPv6 off last, one ip -batch run and the sysctls after it; so does eth0, ovirtmgmt's port; ovirtmgmt, whose IPv6 was not read, is left alone",
    controllingIpv6,
    { networks: { vmnet: vmnetNoIp } },
  ),
  change(
    'ipv6-on-for-an-address',
    'the VM network gets an IPv6 address: IPv6 on first, router advertisements ignored, then the address',
    withVmnetNoIp,
    { networks: { vmnet: vmnetWithIpv6 } },
  ),
  change(
    'ipv6-autoconf-on',
    'the VM network gets IPv6 autoconf: IPv6 on, router advertisements taken, their default routers not (it is not the default route network)',
    withVmnetNoIp,
    {
      networks: { vmnet: vmnetWithAutoconf },
    },
  ),
  change(
    'ipv6-autoconf-to-static',
    'the VM network goes from IPv6 autoconf to a static address: advertisements ignored from then on, IPv6 stays on, then the address',
    withVmnetAutoconf,
    { networks: { vmnet: vmnetWithIpv6 } },
  ),
  change(
    'ipv6-bridgeless-autoconf',
    "a bridgeless network with IPv6 autoconf on a NIC that takes advertisements as the kernel's defaults say: only their default routers stop (not the default route network), and the one learned goes; eth0, ovirtmgmt's port, gets IPv6 off",
    controllingIpv6,
    { networks: { storage: slaacStorage } },
  ),
  change(
    'ipv6-port-to-bridgeless-address',
    "the VM network's port, IPv6 off, becomes a bridgeless network's device with an IPv6 address: IPv6 on before the address, advertisements ignored",
    withVmnetNoIp,
    { networks: { vmnet: { remove: 'true' }, storage: { nic: 'eth1', bridged: 'false', ipv6addr: '2001:db8:2::10/64' } } },
  ),
  change(
    'ipv6-off-when-network-leaves',
    'the bridgeless autoconf network is removed: its device gets IPv6 off, so it learns nothing more from its segment',
    withSlaacStorage,
    { networks: { storage: { remove: 'true' } } },
  ),

  // Addresses, routes, rules
  change(
    'add-network-with-gateway',
    'a bridgeless storage network with its own gateway: own routing table and source rules, main default route untouched',
    withMgmt,
    {
      networks: { storage },
    },
  ),
  change(
    'address-change-same-subnet',
    "storage's address changes within its subnet: deleting the last IPv4 address flushes the routes, so they are added again",
    withMgmtAndStorage,
    {
      networks: { storage: { ...storage, ipaddr: '198.18.2.11' } },
    },
  ),
  change(
    'address-change-new-subnet',
    'storage moves to another subnet and gateway: address, table routes and source rules are replaced',
    withMgmtAndStorage,
    {
      networks: { storage: { ...storage, ipaddr: '198.18.4.10', gateway: '198.18.4.1' } },
    },
  ),
  change('gateway-change', "storage's gateway changes: only the table's default route is replaced", withMgmtAndStorage, {
    networks: { storage: { ...storage, gateway: '198.18.2.254' } },
  }),
  change(
    'default-route-move',
    'the default route moves from ovirtmgmt to storage: the main default route changes device, both tables stay',
    withMgmtAndStorage,
    {
      networks: { storage: { ...storage, defaultRoute: true } },
    },
  ),
  change(
    'default-route-dropped',
    'ovirtmgmt gives up the default route without a new holder: the main default route goes, its own table stays',
    withMgmtAndStorage,
    {
      networks: { ovirtmgmt: { ...ovirtmgmt, defaultRoute: false } },
    },
  ),
  change(
    'ipv6-gateway-without-default-route',
    "an IPv6 gateway on a network without the default route: no IPv6 route anywhere (only the default-route network's IPv6 gateway is installed)",
    withMgmt,
    {
      networks: { storage: { ...storage, ipv6addr: '2001:db8:2::10/64', ipv6gateway: '2001:db8:2::1' } },
    },
  ),

  // Source routing of DHCP networks (the rules come with the lease, from our dhclient script)
  change(
    'dhcp-source-routed-add',
    'a DHCP network without the default route: its client learns into its own table and writes the rules itself',
    withMgmt,
    {
      networks: { backup },
    },
  ),
  change(
    'dhcp-source-routed-kept',
    "the source-routed DHCP network requested again with its lease in place: its routes and rules are the client's, no ops",
    withDhcpBackup,
    {
      networks: { backup },
    },
  ),
  change(
    'dhcp-source-routed-to-static',
    "the DHCP network becomes static with a gateway: stopping the client takes the lease's address, routes and rules along; the static ones come",
    withDhcpBackup,
    {
      networks: { backup: { nic: 'eth1', bridged: 'false', ipaddr: '198.18.6.50', prefix: 24, gateway: '198.18.6.1' } },
    },
  ),
  change(
    'static-to-dhcp-source-routed',
    "storage becomes DHCP: its static address, table routes and rules go, a client starts that will write the lease's",
    withMgmtAndStorage,
    {
      networks: { storage: { nic: 'eth1', bridged: 'false', bootproto: 'dhcp' } },
    },
  ),
  change(
    'dhcp-source-routed-remove',
    "the DHCP network removed: stopping its client is all (it takes the lease's address, routes and rules along)",
    withDhcpBackup,
    {
      networks: { backup: { remove: true } },
    },
  ),
  change(
    'dhcp-source-routed-bridged-remove',
    "the bridged DHCP network removed: its client stops first and takes the lease's rules, the bridge's deletion the address and routes",
    withBridgedDhcpBackup,
    {
      networks: { backup: { remove: true } },
    },
  ),
  change(
    'dhcp-takes-default-route',
    'the DHCP network takes the default route: its client restarts learning into the main table without rules; ovirtmgmt loses the main default route',
    withDhcpBackup,
    {
      networks: { backup: { ...backup, defaultRoute: true } },
    },
  ),
  change('ipv6-static-and-dhcpv6', 'a static IPv6 address with the IPv6 default route on one network, DHCPv6 on another', withMgmt, {
    networks: {
      storage: { ...storage, ipv6addr: '2001:db8:2::10/64', ipv6gateway: '2001:db8:2::1', defaultRoute: true },
      vmnet: { nic: 'eth2', bridged: 'true', dhcpv6: 'true' },
    },
  }),

  // Removal and moves
  change(
    'remove-bridged-network',
    'ovirtmgmt removed: its rules go, the bridge is deleted (taking its address and routes along), eth0 is left bare',
    withMgmt,
    {
      networks: { ovirtmgmt: { remove: true } },
    },
  ),
  change('remove-bridgeless-network', "storage removed: eth1 loses the network's address, routes and rules but stays", withMgmtAndStorage, {
    networks: { storage: { remove: true } },
  }),
  change(
    'move-network-to-other-nic',
    'a bridged network moves from eth1 to eth2: eth1 is released from the bridge that stays',
    () => afterChange(withMgmt(), { networks: { vmnet: { nic: 'eth1', bridged: 'true' } } }),
    {
      networks: { vmnet: { nic: 'eth2', bridged: 'true' } },
    },
  ),
  change(
    'move-network-to-other-nic-ipv6',
    'a VM network moves from eth1 to eth2 where the agent sets IPv6 per device: eth1 keeps IPv6 off and still leaves the bridge',
    withVmnetNoIp,
    {
      networks: { vmnet: { ...vmnetNoIp, nic: 'eth2' } },
    },
  ),
  change(
    'bridged-to-bridgeless',
    'storage loses its bridge: the bridge goes, its address and routes come back on eth1',
    () => afterChange(withMgmt(), { networks: { storage: { ...storage, bridged: 'true' } } }),
    {
      networks: { storage },
    },
  ),

  // VLANs
  change('vlan-on-nic-bridgeless', 'a static network on VLAN 100 of eth1, no bridge', withMgmt, {
    networks: { tagged: { nic: 'eth1', vlan: '100', bridged: 'false', ipaddr: '198.18.5.10', prefix: 24 } },
  }),
  change('vlan-on-nic-bridged', 'a bridged network over VLAN 100 of eth1: VLAN before bridge before enslaving', withMgmt, {
    networks: { vmnet: { nic: 'eth1', vlan: '100', bridged: 'true' } },
  }),
  change(
    'vlan-and-untagged-on-one-nic',
    'an untagged and a tagged network on eth1 with different MTUs: eth1 carries the larger one',
    withMgmt,
    {
      networks: { untagged: { nic: 'eth1', bridged: 'true', mtu: 1500 }, tagged: { nic: 'eth1', vlan: '200', bridged: 'true', mtu: 9000 } },
    },
  ),
  change(
    'vlan-id-change',
    'a bridged network moves from VLAN 100 to VLAN 200: the old VLAN goes, the new one joins the bridge',
    () => afterChange(withMgmt(), { networks: { vmnet: { nic: 'eth1', vlan: '100', bridged: 'true' } } }),
    {
      networks: { vmnet: { nic: 'eth1', vlan: '200', bridged: 'true' } },
    },
  ),
  change(
    'vlan-remove',
    'the VLAN network removed: bridge before VLAN',
    () => afterChange(withMgmt(), { networks: { vmnet: { nic: 'eth1', vlan: '100', bridged: 'true' } } }),
    {
      networks: { vmnet: { remove: true } },
    },
  ),

  // Bonds
  change('bond-create', 'a bond of eth2 and eth3 without a network: ports go down, join, come back up', withMgmt, { bondings: { bond0 } }),
  change('bond-bridged-network', 'a bond and a bridged static network over it in one request', withMgmt, {
    networks: { vmnet: { bonding: 'bond0', bridged: 'true', ipaddr: '198.18.3.10', prefix: 24 } },
    bondings: { bond0 },
  }),
  change(
    'bond-bridged-nics-out-of-order',
    "a new bond listing eth3 before eth2 under a bridge: the bond takes eth2's MAC (enslaved first, by name), so the bridge does too",
    withMgmt,
    {
      networks: { vmnet: { bonding: 'bond0', bridged: 'true', ipaddr: '198.18.3.10', prefix: 24 } },
      bondings: { bond0: { ...bond0, nics: ['eth3', 'eth2'] } },
    },
  ),
  change('bond-vlan-bridged-dhcp', 'the seed case: bond, VLAN 100 on it, a bridge over that, DHCP, MTU 9000 throughout', withMgmt, {
    networks: { vmnet: vmnetOnBond },
    bondings: { bond0 },
  }),
  change('bond-vlan-bridgeless', 'a static network on VLAN 100 of an existing bond, no bridge', withBond, {
    networks: { tagged: { bonding: 'bond0', vlan: '100', bridged: 'false', ipaddr: '198.18.5.10', prefix: 24 } },
  }),
  change(
    'bond-modify-options',
    'the bond requested with another mode and miimon: re-created with them (the kernel changes a mode only on a bond that is down), slaves re-enslaved',
    withBond,
    {
      bondings: { bond0: { ...bond0, options: 'mode=4 miimon=200' } },
    },
  ),
  change(
    'bond-add-and-remove-slaves',
    'bond0 from eth2+eth3 to eth3+eth1: eth2 is released, eth1 goes down, joins and comes up',
    withBond,
    {
      bondings: { bond0: { ...bond0, nics: ['eth3', 'eth1'] } },
    },
  ),
  change(
    'bond-slave-to-network',
    'eth2 leaves bond0 and carries a bridgeless network in the same change: it is released from the bond that stays',
    withBond,
    {
      bondings: { bond0: { ...bond0, nics: ['eth3'] } },
      networks: { storage: { ...storage, nic: 'eth2' } },
    },
  ),
  change(
    'bond-slave-to-bridged-network',
    "eth2 leaves bond0 for a bridged network in the same change: the bridge takes eth2's own MAC, not the bond's",
    withBond,
    {
      bondings: { bond0: { ...bond0, nics: ['eth3'] } },
      networks: { vmnet: { nic: 'eth2', bridged: 'true' } },
    },
  ),
  change(
    'bridged-network-leaves-bond',
    'a bridged network moves from bond0 to eth1 and bond0 stays: bond0 leaves the bridge',
    () => afterChange(withBond(), { networks: { vmnet: { bonding: 'bond0', bridged: 'true' } } }),
    {
      networks: { vmnet: { nic: 'eth1', bridged: 'true' } },
    },
  ),
  change('bond-delete', 'bond0 removed: deleting it releases its ports', withBond, { bondings: { bond0: { remove: true } } }),
  change(
    'bond-delete-with-network',
    'the seed stack removed with its bond in one request: bridge, VLAN, bond, top down',
    () => afterChange(withMgmt(), { networks: { vmnet: vmnetOnBond }, bondings: { bond0 } }),
    {
      networks: { vmnet: { remove: true } },
      bondings: { bond0: { remove: true } },
    },
  ),

  // MTU across a stack
  change(
    'mtu-up-across-stack',
    'bridge over VLAN over bond from 1500 to 9000: set bottom-up (a VLAN may not exceed its base)',
    () => withVlanStack(1500),
    vlanStack(9000),
  ),
  change(
    'mtu-down-across-stack',
    'bridge over VLAN over bond from 9000 to 1500: also bottom-up (lowering a base lowers its VLANs)',
    () => withVlanStack(9000),
    vlanStack(1500),
  ),
  change(
    'mtu-down-vlan-on-nic',
    'bridge over VLAN over a NIC from 9000 to 1500',
    () => afterChange(withMgmt(), { networks: { vmnet: { nic: 'eth1', vlan: '100', bridged: 'true', mtu: 9000 } } }),
    {
      networks: { vmnet: { nic: 'eth1', vlan: '100', bridged: 'true', mtu: 1500 } },
    },
  ),

  // Rollbacks (the agent's reverse plans, back to the snapshot it took)
  rollback(
    'rollback-mgmt-bridge-over-os-dhcp',
    "undo a DHCP ovirtmgmt over eth0 whose OS client added its default route without proto dhcp: the route is the lease's, left to the restarted client (put back by hand, its gateway would not be on-link yet)",
    stockDhcpHost,
    {
      networks: { ovirtmgmt: mgmtDhcp },
    },
  ),
  rollback('rollback-mgmt-bridge', 'undo ovirtmgmt over eth0: the bridge goes, the address and default route return to eth0', host, {
    networks: { ovirtmgmt },
  }),
  rollback(
    'rollback-bond-vlan-bridged-dhcp',
    'undo the seed stack: the DHCP client stops, bridge, VLAN and bond go, the ports return as they were',
    withMgmt,
    {
      networks: { vmnet: vmnetOnBond },
      bondings: { bond0 },
    },
  ),
  rollback(
    'rollback-remove-bridged-network',
    'undo the removal of ovirtmgmt: the bridge comes back with its MAC, port, address, routes and rules',
    withMgmt,
    {
      networks: { ovirtmgmt: { remove: true } },
    },
  ),
  rollback(
    'rollback-mtu-up-across-stack',
    'undo raising the stack to 9000: every MTU goes back, bottom-up',
    () => withVlanStack(1500),
    vlanStack(9000),
  ),
  rollback('rollback-bond-options', 'undo a mode and miimon change: the bond is re-created exactly as it was', withBond, {
    bondings: { bond0: { ...bond0, options: 'mode=4 miimon=200' } },
  }),
  rollback('rollback-bridge-options', 'undo a change of bridge options: the options changed go back to their values', withBridgeOptions, {
    networks: { ovirtmgmt: { ...ovirtmgmt, custom: { bridge_opts: 'multicast_snooping=1 priority=200' } } },
  }),
  rollback(
    'rollback-ipv6-on-for-an-address',
    'undo the IPv6 address on the VM network: the address goes, then IPv6 goes off again',
    withVmnetNoIp,
    { networks: { vmnet: vmnetWithIpv6 } },
  ),
  rollback(
    'rollback-ipv6-autoconf-to-static',
    'undo autoconf to a static address: the address goes, and the bridge takes router advertisements again',
    withVmnetAutoconf,
    { networks: { vmnet: vmnetWithIpv6 } },
  ),
  rollback('rollback-bond-slaves', 'undo the slave change: eth1 leaves the bond, eth2 rejoins', withBond, {
    bondings: { bond0: { ...bond0, nics: ['eth3', 'eth1'] } },
  }),
  rollback('rollback-dhcp-to-static', 'undo DHCP to static: the static configuration goes and the DHCP client runs again', withDhcpMgmt, {
    networks: { ovirtmgmt: { ...ovirtmgmt, ipaddr: '198.18.1.77' } },
  }),
  rollback(
    'rollback-dhcp-source-routed-to-static',
    'undo the switch of the source-routed DHCP network to static: the static ones go, the client runs again and rewrites its rules',
    withDhcpBackup,
    {
      networks: { backup: { nic: 'eth1', bridged: 'false', ipaddr: '198.18.6.50', prefix: 24, gateway: '198.18.6.1' } },
    },
  ),
  rollback(
    'rollback-address-change',
    "undo storage's address change: the old address and the flushed routes come back",
    withMgmtAndStorage,
    {
      networks: { storage: { ...storage, ipaddr: '198.18.2.11' } },
    },
  ),

  // Boot-time restore (network-service.ts restoreSafeConfig: previous = what of the running config exists)
  {
    name: 'boot-restore-safe-config',
    about: 'after a reboot nothing we built exists; the safe config (ovirtmgmt, a bond with a VLAN network) is built again',
    inputs: () => {
      const booted = host();
      const safe = nextConfig(booted, {
        networks: { ovirtmgmt, tagged: { bonding: 'bond0', vlan: '100', bridged: 'false', ipaddr: '198.18.5.10', prefix: 24 } },
        bondings: { bond0 },
      });
      return { current: booted.kernel, runningDhcp: [], desired: desiredStateForChange(booted.running, safe, booted.kernel) };
    },
  },
  {
    name: 'boot-restore-source-routes',
    about:
      'after a reboot the safe config with two gateways comes back: the static tables and rules, and the DHCP client that writes its own',
    inputs: () => {
      const booted = host();
      const safe = nextConfig(booted, { networks: { ovirtmgmt, storage, backup: { ...backup, nic: 'eth2' } } });
      return { current: booted.kernel, runningDhcp: [], desired: desiredStateForChange(booted.running, safe, booted.kernel) };
    },
  },
  {
    name: 'boot-restore-released-nic-ipv6-off',
    about:
      "after a reboot eth1, which a network left before the configuration was made safe, has the kernel's IPv6 defaults again: the restore turns its IPv6 off",
    inputs: () => {
      const safe = afterChange(withSlaacStorage(), { networks: { storage: { remove: 'true' } } }).running;
      const booted = host();
      const links = booted.kernel.links.map((l) =>
        l.kind === 'nic' ? { ...l, ipv6: true, ipv6Autoconf: true, ipv6DefaultRouter: true } : l,
      );
      const kernel = { ...booted.kernel, links };
      return { current: kernel, runningDhcp: [], desired: desiredStateForChange(booted.running, safe, kernel, { ipv6: true }) };
    },
  },
  {
    name: 'boot-restore-drops-unsafe',
    about: 'an agent restart on a new boot with the unsafe networks still in the kernel: scratch goes, the safe vmnet returns',
    inputs: () => {
      const safeStep = afterChange(withMgmt(), { networks: { vmnet: { nic: 'eth1', bridged: 'true' } } });
      const unsafe = afterChange(safeStep, { networks: { vmnet: { remove: true }, scratch: { nic: 'eth1', bridged: 'true' } } });
      return {
        current: unsafe.kernel,
        runningDhcp: unsafe.dhcp,
        desired: desiredStateForChange(unsafe.running, safeStep.running, unsafe.kernel),
      };
    },
  },
];
