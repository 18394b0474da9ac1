/**
 * The address plan of the two-gateways lab (testbed/gateway-lab/lab.ts): one host with a NIC on each of
 * three subnets, each subnet behind its own gateway namespace, each gateway routing to its own client
 * namespace. Network A holds the host's default route at first; B is a second static network; C is learned
 * by DHCP from a dnsmasq in C's gateway and can be renumbered (C's second generation).
 *
 * Every namespace of a lab is private to it and none is connected to the root namespace, so concurrent labs
 * may use the same addresses. They come from the RFC 2544 benchmarking range (198.18.0.0/15), like the
 * testbed's.
 */

export const LabNetworkId = { A: 'a', B: 'b', C: 'c' } as const;
export type LabNetworkId = (typeof LabNetworkId)[keyof typeof LabNetworkId];

export const LAB_NETWORK_IDS: readonly LabNetworkId[] = [LabNetworkId.A, LabNetworkId.B, LabNetworkId.C];

export const LAB_PREFIX_LENGTH = 24;

export interface LabSubnet {
  /** `198.18.x.0/24` */
  cidr: string;
  /** The gateway's address on the host's side. */
  gateway: string;
  /** The host's static address (network C's when it is configured statically). */
  hostAddress: string;
  /** DHCP pool (network C only). */
  pool: { start: string; end: string };
}

export interface LabNetwork {
  id: LabNetworkId;
  /** The host's NIC on this network. */
  nic: string;
  subnet: LabSubnet;
  /** The client behind the gateway: its subnet, the gateway's address there, and its own address. */
  clientSubnet: string;
  clientGateway: string;
  clientAddress: string;
}

function subnet(third: number): LabSubnet {
  const base = `198.18.${third}`;
  return {
    cidr: `${base}.0/${LAB_PREFIX_LENGTH}`,
    gateway: `${base}.1`,
    hostAddress: `${base}.10`,
    pool: { start: `${base}.100`, end: `${base}.150` },
  };
}

const THIRD_OCTET: Readonly<Record<LabNetworkId, number>> = { a: 1, b: 2, c: 3 };
const NIC: Readonly<Record<LabNetworkId, string>> = { a: 'eth0', b: 'eth1', c: 'eth2' };

/**
 * Network `id` of the plan. `generation` renumbers network C: generation 1 moves its host-side subnet from
 * 198.18.3.0/24 to 198.18.4.0/24 (the client side stays).
 */
export function labNetwork(id: LabNetworkId, generation = 0): LabNetwork {
  const third = THIRD_OCTET[id];
  return {
    id,
    nic: NIC[id],
    subnet: subnet(id === LabNetworkId.C && generation > 0 ? 4 : third),
    clientSubnet: `198.19.${third}.0/${LAB_PREFIX_LENGTH}`,
    clientGateway: `198.19.${third}.1`,
    clientAddress: `198.19.${third}.10`,
  };
}
