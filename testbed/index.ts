/** The testbed: namespaced hosts, a switch, a manager side, DHCP and real BMCs (see testbed.ts). */
export { createTestbed, Testbed, TestbedExistsError, NoTestbedError, type TestbedOptions } from './testbed';
export { destroyTestbed, TestbedTeardownError, type TeardownOptions } from './teardown';
export {
  readDescription,
  findHost,
  FactoryBoot,
  TestbedPhase,
  UnknownTestbedHostError,
  type TestbedDescription,
  type TestbedHost,
  type TestbedNic,
  type TestbedBmc,
} from './description';
export { type TestbedHostOptions, DEFAULT_BOOT_COMMAND, BOOT_PLACEHOLDERS } from './options';
export { powerOn, powerOff, powerState, bootPid, fenceThroughBmc, PowerState, HostPowerError } from './power';
export { readBmcCredentials, fenceNodeParamsFor, type BmcCredentials } from './bmc-credentials';
export { testbedUnavailableReason } from './requirements';
export { MAX_HOSTS, subnetPlan, type SubnetPlan } from './addressing';
export { Netns, uniqueToken, netnsExists, addVethPair, linkExists, netnsUnavailableReason } from './netns';
export { canConnect, waitForTcp, type WaitForTcpOptions } from './reachability';
