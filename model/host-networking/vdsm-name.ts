/**
 * The name a data-center network has on the host. VDSM names networks after Linux devices (the bridge of a
 * VM network is named after it), so a name VDSM cannot take is replaced by one derived from the network's
 * id (ovirt-engine utils/NetworkUtils.java `setNetworkVdsmName`).
 */
import type { Network } from './network';

/** Names VDSM takes as they are (ovirt-engine `VALID_VDS_NAME_PATTERN`). */
export const VDSM_NETWORK_NAME = /^[0-9a-zA-Z_-]{1,15}$/;

/** The engine's `HOST_NIC_NAME_LENGTH`: the kernel's interface name limit. */
const HOST_NIC_NAME_LENGTH = 15;

/**
 * The network's name on the host: its own name when VDSM can take it, otherwise `"on"` followed by its id
 * without the dashes, cut to 15 characters (`on` + 13 hex digits).
 */
export function vdsmNetworkName(network: Pick<Network, 'id' | 'name'>): string {
  if (VDSM_NETWORK_NAME.test(network.name)) return network.name;
  return `on${network.id.replace(/[^a-zA-Z0-9]+/g, '').slice(0, HOST_NIC_NAME_LENGTH - 2)}`;
}
