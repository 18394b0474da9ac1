/**
 * Unmanaged networks: networks the host reports that are no cluster network's
 * (docs/engine-host-networking.md#out-of-sync; ovirt-engine UnmanagedNetworkValidator). They can only be
 * removed, by their name on the host, and while one sits on a NIC that NIC takes no attachment.
 */
import type { CompletedRequest } from './complete';
import type { ContextIndex } from './context';
import { describeAttachment, effectiveOf } from './effective-set';
import { vdsmNetworkName } from '../host-networking/vdsm-name';
import { violation, ViolationKey, type Violation } from './violations';

export function checkUnmanagedNetworks(request: CompletedRequest, index: ContextIndex): Violation[] {
  const out: Violation[] = [];
  const unmanaged = new Map(index.unmanagedNetworks.map((n) => [n.name, n]));
  for (const [i, name] of request.removedUnmanagedNetworks.entries()) {
    const path = ['removedUnmanagedNetworks', i];
    const clusterNetwork = index.context.clusterNetworks
      .map((cn) => index.networkById(cn.networkId))
      .find((n) => n !== undefined && (n.name === name || vdsmNetworkName(n) === name));
    if (clusterNetwork) {
      out.push(
        violation(
          ViolationKey.REMOVED_UNMANAGED_NETWORK_IS_A_CLUSTER_NETWORK,
          `removedUnmanagedNetworks[${i}]: ${name} is the cluster network ${clusterNetwork.name}; remove its attachment instead`,
          path,
          { networkName: name },
        ),
      );
    } else if (!unmanaged.has(name)) {
      out.push(
        violation(
          ViolationKey.REMOVED_UNMANAGED_NETWORK_DOES_NOT_EXISIT_ON_HOST,
          `removedUnmanagedNetworks[${i}]: host ${index.context.host.name} reports no unmanaged network ${name}`,
          path,
          {
            networkName: name,
          },
        ),
      );
    }
  }
  const staying = index.unmanagedNetworks.filter((n) => n.baseInterface !== null && !request.removedUnmanagedNetworks.includes(n.name));
  for (const a of request.attachments) {
    for (const network of staying.filter((n) => n.baseInterface === a.nicName)) {
      out.push(
        violation(
          ViolationKey.ACTION_TYPE_FAILED_HOST_NETWORK_ATTACHEMENT_ON_UNMANAGED_NETWORK,
          `${describeAttachment(effectiveOf(a))}: ${a.nicName} carries the unmanaged network ${network.name}; remove it (removedUnmanagedNetworks) before attaching networks there`,
          ['attachments', a.index, 'nicName'],
          { nicName: a.nicName, unmanagedNetworkName: network.name, networkName: a.network?.name ?? null },
        ),
      );
    }
  }
  return out;
}
