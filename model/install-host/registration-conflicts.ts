/**
 * Where the store disagrees with what an install registers (model/install-host/registration.ts). The install
 * refuses then, before anything reaches the host: the store is the system of record, and an install must
 * neither redefine a data-center network for every other host nor record a host as built to a definition
 * it was not built to.
 */
import type { Network } from '../host-networking/network';
import { effectiveMtu } from '../network-sync/equality';
import type { InstallRegistration } from './registration';

type WantedNetwork = InstallRegistration['network'];

const shown = (value: number | boolean | null): string => (value === null ? 'none' : String(value));

/**
 * The fields in which the stored network differs from the one the install builds, as `field stored → wanted`.
 * The MTU compares as the data center means it (0 is the default MTU); STP only for a bridged network, the
 * only kind that has it.
 */
export function networkDefinitionDifferences(stored: Network, wanted: WantedNetwork): string[] {
  const differences: string[] = [];
  const differ = (field: string, had: number | boolean | null, asked: number | boolean | null) => {
    if (had !== asked) differences.push(`${field} ${shown(had)} → ${shown(asked)}`);
  };
  differ('vlan', stored.vlan, wanted.vlan);
  differ('mtu', effectiveMtu(stored.mtu), effectiveMtu(wanted.mtu));
  differ('vmNetwork', stored.vmNetwork, wanted.vmNetwork);
  if (stored.vmNetwork && wanted.vmNetwork) differ('stp', stored.stp, wanted.stp);
  return differences;
}
