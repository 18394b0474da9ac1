/**
 * Rules about the host as a whole once the request is applied (the effective set), and about the
 * properties and QoS of the request's attachments (ovirt-engine NetworkAttachmentsValidator,
 * VlanUntaggedNetworkExclusivenessValidator, NetworkMtuValidator, HostSetupNetworksValidator
 * `validateCustomProperties`, HostNetworkQosValidator; docs/engine-host-networking.md#validation-keys).
 * The engine reports the first NIC or network that breaks a rule; these report each one.
 */
import { DEFAULT_MTU, type Network } from '../host-networking/network';
import type { HostNetworkQos } from '../host-networking/values';
import type { CompletedRequest } from './complete';
import { attachmentPath, byNic, describeAttachment, effectiveOf, type EffectiveAttachment } from './effective-set';
import { violation, ViolationKey, type Violation } from './violations';

/** The MTU the host gets: the network's, or the data-center default for 0 (ovirt-engine `getHostMtuActualValue`). */
export function effectiveMtu(network: Pick<Network, 'mtu'>): number {
  return network.mtu === 0 ? DEFAULT_MTU : network.mtu;
}

const withNetwork = (effective: readonly EffectiveAttachment[]) =>
  effective.filter((a): a is EffectiveAttachment & { network: Network } => a.network !== null);

export function checkDuplicateNetworks(effective: readonly EffectiveAttachment[]): Violation[] {
  const byNetwork = new Map<string, Array<EffectiveAttachment & { network: Network }>>();
  for (const a of withNetwork(effective)) byNetwork.set(a.network.id, [...(byNetwork.get(a.network.id) ?? []), a]);
  return [...byNetwork.values()]
    .filter((group) => group.length > 1)
    .map((group) => {
      const network = group[0]?.network.name ?? '';
      const last = group[group.length - 1];
      return violation(
        ViolationKey.ACTION_TYPE_FAILED_NETWORK_ATTACHMENTS_REFERENCES_SAME_NETWORK_DUPLICATELY,
        `network ${network} would be attached ${group.length} times: ${group.map(describeAttachment).join(', ')}; a network is attached to a host once`,
        last ? attachmentPath(last) : [],
        { networkName: network, attachmentIds: group.map((a) => a.id ?? 'new') },
      );
    });
}

/** Each NIC carries at most one untagged network (VM or not), besides any number of VLAN networks. */
export function checkUntaggedExclusive(effective: readonly EffectiveAttachment[]): Violation[] {
  const out: Violation[] = [];
  for (const [nic, group] of byNic(withNetwork(effective))) {
    const untagged = group.filter((a) => a.network?.vlan === null);
    if (untagged.length > 1) {
      const names = untagged.map((a) => a.network?.name ?? '');
      out.push(
        violation(
          ViolationKey.NETWORK_INTERFACES_NOT_EXCLUSIVELY_USED_BY_UNTAGGED_NETWORK,
          `${nic} would carry ${untagged.length} untagged networks (${names.join(', ')}); a NIC carries one untagged network and any number of VLAN networks`,
          attachmentPath(untagged.find((a) => a.requested) ?? untagged[0] ?? (group[0] as EffectiveAttachment), 'nicName'),
          { nicName: nic, networkNames: names },
        ),
      );
    }
  }
  return out;
}

/** On a NIC with an untagged network, every network has that network's MTU; NICs with only VLAN networks are free. */
export function checkMtu(effective: readonly EffectiveAttachment[]): Violation[] {
  const out: Violation[] = [];
  for (const [nic, group] of byNic(withNetwork(effective))) {
    const networks = group.map((a) => a.network as Network);
    const untagged = networks.find((n) => n.vlan === null);
    if (!untagged) continue;
    const mtu = effectiveMtu(untagged);
    if (networks.every((n) => effectiveMtu(n) === mtu)) continue;
    const listed = networks.map((n) => `${n.name}(${n.mtu === 0 ? 'default' : n.mtu})`);
    out.push(
      violation(
        ViolationKey.NETWORK_MTU_DIFFERENCES,
        `${nic} would carry networks with different MTUs: ${listed.join(', ')}; on a NIC with an untagged network all networks share its MTU ${mtu}`,
        attachmentPath(group.find((a) => a.requested) ?? (group[0] as EffectiveAttachment), 'nicName'),
        { nicName: nic, networks: listed, mtu },
      ),
    );
  }
  return out;
}

/**
 * Network custom properties the engine knows for every cluster level (engine config
 * `PreDefinedNetworkCustomProperties`): the key and the pattern its value must match whole. `bridge_opts`
 * needs a bridge, so non-VM networks take none.
 */
export const PREDEFINED_NETWORK_CUSTOM_PROPERTIES: Readonly<Record<string, RegExp>> = {
  bridge_opts: /^[^\s=]+=[^\s=]+(\s+[^\s=]+=[^\s=]+)*$/,
};

export function checkCustomProperties(request: CompletedRequest): Violation[] {
  const out: Violation[] = [];
  for (const a of request.attachments) {
    const network = a.network;
    if (network === null || !Object.keys(a.properties).length) continue;
    const allowed = network.vmNetwork ? PREDEFINED_NETWORK_CUSTOM_PROPERTIES : {};
    const unknown = Object.keys(a.properties).filter((k) => !(k in allowed));
    const badValue = Object.entries(a.properties)
      .filter(([k, v]) => k in allowed && !allowed[k]?.test(v))
      .map(([k]) => k);
    if (!unknown.length && !badValue.length) continue;
    const problems = [
      unknown.length
        ? `${unknown.join(', ')} ${unknown.length > 1 ? 'are' : 'is'} not ${network.vmNetwork ? 'a known property' : 'allowed on a non-VM network'}`
        : null,
      badValue.length
        ? `${badValue.join(', ')} ${badValue.length > 1 ? 'have' : 'has'} a malformed value (expected key=value pairs)`
        : null,
    ].filter(Boolean);
    out.push(
      violation(
        ViolationKey.ACTION_TYPE_FAILED_NETWORK_CUSTOM_PROPERTIES_BAD_INPUT,
        `${describeAttachment(effectiveOf(a))}: custom properties: ${problems.join('; ')}`,
        ['attachments', a.index, 'properties'],
        {
          networkName: network.name,
          unknownKeys: unknown,
          badValueKeys: badValue,
        },
      ),
    );
  }
  return out;
}

const isEmptyQos = (qos: HostNetworkQos) =>
  qos.outAverageLinkshare === undefined && qos.outAverageUpperlimit === undefined && qos.outAverageRealtime === undefined;

/** The attachment has QoS on the host: its own non-empty override, or the network's when it does not override (ovirt-engine `qosConfiguredOnInterface`). */
export function qosConfigured(a: { qos: HostNetworkQos | null }, network: Pick<Network, 'qos'>): boolean {
  return a.qos !== null ? !isEmptyQos(a.qos) : network.qos !== null;
}

export function checkQos(request: CompletedRequest, effective: readonly EffectiveAttachment[]): Violation[] {
  const out: Violation[] = [];
  for (const a of request.attachments) {
    const qos = a.qos;
    if (qos === null || a.network === null) continue;
    const what = describeAttachment(effectiveOf(a));
    const path = ['attachments', a.index, 'qos'];
    if (!isEmptyQos(qos) && qos.outAverageLinkshare === undefined) {
      out.push(
        violation(
          ViolationKey.ACTION_TYPE_FAILED_HOST_NETWORK_QOS_SETUP_NETWORKS_MISSING_VALUES,
          `${what}: a QoS override needs a link share (outAverageLinkshare)`,
          path,
          {
            networkName: a.network.name,
          },
        ),
      );
    }
    if (
      qos.outAverageUpperlimit !== undefined &&
      qos.outAverageRealtime !== undefined &&
      qos.outAverageUpperlimit < qos.outAverageRealtime
    ) {
      out.push(
        violation(
          ViolationKey.ACTION_TYPE_FAILED_HOST_NETWORK_QOS_SETUP_NETWORKS_INCONSISTENT_VALUES,
          `${what}: QoS upper limit ${qos.outAverageUpperlimit} Mbps is below real time ${qos.outAverageRealtime} Mbps`,
          path,
          { networkName: a.network.name, outAverageUpperlimit: qos.outAverageUpperlimit, outAverageRealtime: qos.outAverageRealtime },
        ),
      );
    }
  }
  for (const [nic, group] of byNic(withNetwork(effective))) {
    const withQos = group.filter((a) => qosConfigured(a, a.network as Network));
    if (!withQos.length || withQos.length === group.length) continue;
    const without = group.filter((a) => !withQos.includes(a));
    out.push(
      violation(
        ViolationKey.ACTION_TYPE_FAILED_HOST_NETWORK_QOS_INTERFACES_WITHOUT_QOS,
        `${nic}: ${withQos.map((a) => a.network?.name).join(', ')} ${withQos.length > 1 ? 'have' : 'has'} QoS but ${without.map((a) => a.network?.name).join(', ')} ${without.length > 1 ? 'have' : 'has'} none; on one NIC either every network has QoS or none does`,
        attachmentPath(group.find((a) => a.requested) ?? (group[0] as EffectiveAttachment), 'qos'),
        { nicName: nic, withQos: withQos.map((a) => a.network?.name ?? ''), withoutQos: without.map((a) => a.network?.name ?? '') },
      ),
    );
  }
  return out;
}
