/**
 * The testbed's address plan. Every testbed owns one index N (1..254) and with it two /24s of the RFC 2544
 * benchmarking range, which nothing on a real network uses (the machine's own uplink is never touched):
 *
 * - `198.18.N.0/24` — the switch: manager gateway .1, DHCP server .2, hosts .10+i, DHCP pool .100–.199,
 *   BMCs .200+i;
 * - `198.19.N.1/32` — the manager's own address, *outside* the hosts' subnet: hosts reach it only through
 *   their default route, so a host without one really has no route to the manager;
 * - `198.19.N.128/25` — the testbed's VLAN (hosts whose factory network is tagged), behind the top-of-rack
 *   router at `198.18.N.3`.
 *
 * Pure functions: the same plan is derived by the process that builds a testbed and by the one that
 * tears it down.
 */

/** Hosts per testbed: host addresses .10–.49 and BMC addresses .200–.239 must not overlap other roles. */
export const MAX_HOSTS = 40;

/** Subnet indexes a testbed may claim (the N of 198.18.N.0/24). */
export const SUBNET_INDEX_MIN = 1;
export const SUBNET_INDEX_MAX = 254;

export const HOST_SUBNET_PREFIX_LENGTH = 24;
export const VLAN_SUBNET_PREFIX_LENGTH = 25;

export interface SubnetPlan {
  readonly index: number;
  /** `198.18.N.0/24`: the switch's subnet. */
  readonly hostSubnet: string;
  /** `198.19.N.0/24`: the manager's own subnet (only .1 is used), reachable from hosts only via .1 on the switch. */
  readonly managerSubnet: string;
  /** `198.18.N.1`: the manager side's address on the switch and the hosts' default gateway. */
  readonly gateway: string;
  /** `198.19.N.1`: the manager's address as the hosts see it (outside their subnet). */
  readonly managerAddress: string;
  readonly dhcpServer: string;
  readonly dhcpPoolStart: string;
  readonly dhcpPoolEnd: string;
  /** `198.18.N.3`: the top-of-rack router's untagged address (only when a host's factory network has a VLAN). */
  readonly router: string;
  /**
   * `198.19.N.128/25`: the subnet of the testbed's VLAN, routed by the top-of-rack router. The manager's
   * address `198.19.N.1/32` stays outside it, so VLAN hosts reach the manager only through the router.
   */
  readonly vlanSubnet: string;
  /** `198.19.N.129`: the router on the VLAN (the VLAN hosts' default gateway and DHCP server). */
  readonly vlanGateway: string;
  readonly vlanDhcpPoolStart: string;
  readonly vlanDhcpPoolEnd: string;
}

export class SubnetIndexError extends Error {
  override readonly name = 'SubnetIndexError';
  constructor(readonly index: number) {
    super(`testbed subnet index ${index} is outside ${SUBNET_INDEX_MIN}..${SUBNET_INDEX_MAX}`);
  }
}

export class HostIndexError extends Error {
  override readonly name = 'HostIndexError';
  constructor(readonly index: number) {
    super(`testbed host index ${index} is outside 0..${MAX_HOSTS - 1}`);
  }
}

export function subnetPlan(index: number): SubnetPlan {
  if (!Number.isInteger(index) || index < SUBNET_INDEX_MIN || index > SUBNET_INDEX_MAX) throw new SubnetIndexError(index);
  return {
    index,
    hostSubnet: `198.18.${index}.0/24`,
    managerSubnet: `198.19.${index}.0/24`,
    gateway: `198.18.${index}.1`,
    managerAddress: `198.19.${index}.1`,
    dhcpServer: `198.18.${index}.2`,
    dhcpPoolStart: `198.18.${index}.100`,
    dhcpPoolEnd: `198.18.${index}.199`,
    router: `198.18.${index}.3`,
    vlanSubnet: `198.19.${index}.128/${VLAN_SUBNET_PREFIX_LENGTH}`,
    vlanGateway: `198.19.${index}.129`,
    vlanDhcpPoolStart: `198.19.${index}.200`,
    vlanDhcpPoolEnd: `198.19.${index}.250`,
  };
}

function assertHostIndex(hostIndex: number): void {
  if (!Number.isInteger(hostIndex) || hostIndex < 0 || hostIndex >= MAX_HOSTS) throw new HostIndexError(hostIndex);
}

/** The address of host `hostIndex` (0-based) on its first NIC, static or reserved for it in DHCP. */
export function hostAddress(plan: SubnetPlan, hostIndex: number): string {
  assertHostIndex(hostIndex);
  return `198.18.${plan.index}.${10 + hostIndex}`;
}

/** The address of host `hostIndex` on the testbed's VLAN (`198.19.N.130+i`), static or reserved in the router's DHCP. */
export function vlanHostAddress(plan: SubnetPlan, hostIndex: number): string {
  assertHostIndex(hostIndex);
  return `198.19.${plan.index}.${130 + hostIndex}`;
}

/** The address of host `hostIndex`'s BMC (on the switch, in the out-of-band namespace). */
export function bmcAddress(plan: SubnetPlan, hostIndex: number): string {
  assertHostIndex(hostIndex);
  return `198.18.${plan.index}.${200 + hostIndex}`;
}

/**
 * A locally administered MAC that encodes testbed, host and NIC (`02:68:70:NN:HH:KK`, 0x68 0x70 = "hp"), so
 * the DHCP server can reserve a host's address by MAC and a log line names its host.
 */
export function nicMac(plan: SubnetPlan, hostIndex: number, nicIndex: number): string {
  assertHostIndex(hostIndex);
  if (!Number.isInteger(nicIndex) || nicIndex < 0 || nicIndex > 255) throw new Error(`NIC index ${nicIndex} is outside 0..255`);
  const hex = (n: number) => n.toString(16).padStart(2, '0');
  return `02:68:70:${hex(plan.index)}:${hex(hostIndex)}:${hex(nicIndex)}`;
}

function ipv4ToInt(address: string): number | null {
  const parts = address.split('.');
  if (parts.length !== 4) return null;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) return null;
    value = value * 256 + Number(part);
  }
  return value;
}

/** `[first, last]` of an IPv4 CIDR (`a.b.c.d/len`, or a bare address = /32); `null` if it is not IPv4. */
export function ipv4Range(cidr: string): [number, number] | null {
  const [address = '', lengthText = '32'] = cidr.split('/');
  const start = ipv4ToInt(address);
  const length = Number(lengthText);
  if (start === null || !Number.isInteger(length) || length < 0 || length > 32) return null;
  const size = 2 ** (32 - length);
  const first = Math.floor(start / size) * size;
  return [first, first + size - 1];
}

/**
 * True when `cidr` shares addresses with the testbed's two /24s. Routes broader than a /15 (a default
 * route, say) are not conflicts: our connected /24 routes are more specific and win.
 */
export function overlapsTestbedSubnets(plan: SubnetPlan, cidr: string): boolean {
  const range = ipv4Range(cidr);
  const length = Number(cidr.split('/')[1] ?? '32');
  if (!range || length < 15) return false;
  return [plan.hostSubnet, plan.managerSubnet].some((own) => {
    const ownRange = ipv4Range(own);
    return ownRange !== null && range[0] <= ownRange[1] && ownRange[0] <= range[1];
  });
}
