/**
 * The installs `hostprov demo` can show on its lab: which hosts the lab has, which one is installed and with
 * which management network. `install-host` is the default (two namespaced hosts); `vlan-bond` is the case
 * the whole feature exists for: a full-kernel host (a User-Mode Linux guest) that boots with eth2+eth3 in
 * bond4 and its address on bond4.3000 by DHCP, and a cluster whose ovirtmgmt is a VM network on VLAN 3000
 * with MTU 9000 (docs/design-decisions.md#devising-the-management-network).
 */
import type { AgentLabHost } from '../../testbed/agent-lab';
import type { InstallHostRequest } from '../../model/install-host/contract';
import { umlUnavailableReason } from '../../testbed/uml/kernel';

export interface LabScenario {
  /** What the demo says while it builds. */
  building: string;
  hosts: (options: { dhcp: boolean }) => AgentLabHost[];
  /** The host installed; the next host of the lab is its fence proxy. */
  target: string;
  request: Partial<InstallHostRequest>;
  /** Why the scenario cannot run here beyond the testbed's own needs, or null. */
  unavailable: () => Promise<string | null>;
}

export const DEFAULT_LAB_SCENARIO = 'install-host';

export const LAB_SCENARIOS: Readonly<Record<string, LabScenario>> = {
  [DEFAULT_LAB_SCENARIO]: {
    building: 'switch, manager side, 2 hosts with agents over mutual TLS, ipmi_sim BMCs',
    hosts: ({ dhcp }) => [{ name: 'host1', ...(dhcp ? { factory: 'dhcp' as const } : {}) }, { name: 'host2' }],
    target: 'host1',
    request: {},
    unavailable: async () => null,
  },
  'vlan-bond': {
    building:
      'switch, manager side, a top-of-rack router guest for VLAN 3000, host1 as a full-kernel guest (eth2+eth3 in bond4, address on bond4.3000 by DHCP), host2 as fence proxy, ipmi_sim BMCs',
    hosts: () => [
      { name: 'host1', kind: 'uml', nics: 4, factory: 'dhcp', bond: { name: 'bond4', nics: ['eth2', 'eth3'] }, vlan: 3000 },
      { name: 'host2' },
    ],
    target: 'host1',
    request: {
      managementNetwork: { name: 'ovirtmgmt', vlan: 3000, mtu: 9000, vmNetwork: true, stp: false, defaultRoute: true },
      // A guest runs Node about 15 times slower: give its agent time to come back after the reboot.
      policy: { connectivityTimeoutSeconds: 60, reboot: true, commitMode: 'auto', agentWaitSeconds: 240 },
    },
    unavailable: umlUnavailableReason,
  },
};
