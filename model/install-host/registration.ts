/**
 * What an install tells the store besides the attachment: the management network as the data center
 * defines it, the host's name, the cluster it joins, where its agent answers and the device found carrying
 * the manager's traffic. Recording the attachment registers them, so the store never holds the engine's
 * defaults for a network the install built otherwise (which would read as out of sync at the first refresh,
 * and a sync would push the defaults onto the host).
 * Pure and import-free at run time: the workflow builds it from its input.
 */
import type { AgentEndpointRefInput, InstallHostInput } from './contract';

export interface InstallRegistration {
  /** `defaultRoute`: the install puts the host's default route on it (checked against the cluster's role). */
  network: { name: string; vlan: number | null; mtu: number; vmNetwork: boolean; stp: boolean; defaultRoute: boolean };
  host: {
    name: string;
    clusterId: string;
    /**
     * The cluster's compatibility level as the install was told it (it decides the commit mode), checked
     * against the stored cluster's. Absent in the recordings of installs scheduled before it was passed.
     */
    clusterLevel?: string;
    /** Where the install reached the agent (TLS by reference), for the host networking API. */
    agentEndpoint: AgentEndpointRefInput & { host: string };
    /** The device the install found carrying the manager's traffic (may be a VLAN device). */
    activeNic: string;
  };
}

export function registrationOf(input: InstallHostInput, activeNic: string): InstallRegistration {
  const { name, vlan, mtu, vmNetwork, stp, defaultRoute } = input.managementNetwork;
  return {
    network: { name, vlan, mtu, vmNetwork, stp, defaultRoute },
    host: {
      name: input.host.name,
      clusterId: input.host.clusterId,
      clusterLevel: input.clusterLevel,
      agentEndpoint: { ...input.agent, host: input.agent.host ?? input.host.address },
      activeNic,
    },
  };
}
