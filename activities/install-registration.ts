/**
 * Registers what an install builds (model/install-host/registration.ts) before its intent is recorded: the
 * management network with the definition the install builds, the host under its name, in its cluster and
 * with the agent endpoint the install reached it at.
 * Everything is checked before anything is written, so a refusal changes nothing; the refusals are
 * `StoreConstraintError`s, final failures of the recording (docs/design-decisions.md#what-install-host-registers):
 * a known host is neither renamed (unless the store only named it after its id) nor moved, and the level
 * the install was told (which decides how it commits) must be its stored cluster's.
 *
 * A cluster the store does not know is not created: a cluster is the data center's to define (its name,
 * its level, its other networks); the host then stays without one, as before, until an operator puts it in one.
 */
import { z } from 'zod';
import type { Cluster } from '../model/host-networking/cluster';
import { AgentEndpoint, type Host } from '../model/host-networking/host';
import { InterfaceName } from '../model/host-networking/reported-interfaces';
import { Network } from '../model/host-networking/network';
import { EntityName, ExternalId } from '../model/host-networking/values';
import { sameClusterLevel } from '../model/install-host/cluster-level';
import { networkDefinitionDifferences } from '../model/install-host/registration-conflicts';
import type { InstallRegistration } from '../model/install-host/registration';
import { StoreConstraint, StoreConstraintError, StoreNotFoundError } from '../store/errors';
import type { HostNetworkingStore } from '../store/store';

export const InstallRegistrationInput = z
  .object({
    network: Network.pick({ name: true, vlan: true, mtu: true, vmNetwork: true, stp: true }).extend({ defaultRoute: z.boolean() }).strict(),
    host: z
      .object({
        name: EntityName,
        clusterId: ExternalId,
        // Optional: a retried recording of an install scheduled before the level was passed carries none.
        clusterLevel: z
          .string()
          .regex(/^\d+\.\d+$/, 'cluster levels look like "4.8"')
          .optional(),
        agentEndpoint: AgentEndpoint,
        activeNic: InterfaceName,
      })
      .strict(),
  })
  .strict();

const NOTHING_CHANGED = 'nothing was changed';

function definitionRefusal(stored: Network, wanted: InstallRegistration['network']): StoreConstraintError | null {
  const differences = networkDefinitionDifferences(stored, wanted);
  if (differences.length === 0) return null;
  return new StoreConstraintError(
    StoreConstraint.INSTALL_NETWORK_DEFINITION,
    `network ${stored.name} is defined otherwise in the store (${differences.join(', ')}): ` +
      `update the network first (\`hostprov networks update\`) or install the stored definition; ${NOTHING_CHANGED}`,
  );
}

/**
 * A host the store named after its id: the intent of an install without a registration (recorded before
 * registrations existed) creates it so, and nobody has named it since. An install gives it its name.
 */
function namedByPlaceholder(host: Host): boolean {
  return host.name === host.id;
}

/** The refusal of a name another host has. */
function nameTaken(name: string, cause: StoreConstraintError): StoreConstraintError {
  return new StoreConstraintError(
    StoreConstraint.HOST_NAME_UNIQUE,
    `another host is named ${name} in the store: remove it (\`hostprov hosts remove\`) or install it under its own id; ${NOTHING_CHANGED}`,
    { cause },
  );
}

const isNameTaken = (err: unknown): err is StoreConstraintError =>
  err instanceof StoreConstraintError && err.constraint === StoreConstraint.HOST_NAME_UNIQUE;

/** The refusals of an install against what the store holds, none when it may go on. */
async function refusals(
  store: HostNetworkingStore,
  hostId: string,
  wanted: InstallRegistration,
  found: { network: Network | null; cluster: Cluster | null; host: Host | null },
): Promise<StoreConstraintError[]> {
  const { network, cluster, host } = found;
  const problems: StoreConstraintError[] = [];
  const definition = network && definitionRefusal(network, wanted.network);
  if (definition) problems.push(definition);
  if (host && host.name !== wanted.host.name && !namedByPlaceholder(host))
    problems.push(
      new StoreConstraintError(
        StoreConstraint.INSTALL_HOST_NAME,
        `host ${hostId} is named ${host.name} in the store, and the install names it ${wanted.host.name}: ` +
          `rename the host first (\`hostprov hosts update --name\`) or install it under its stored name; ${NOTHING_CHANGED}`,
      ),
    );
  if (cluster) {
    const rows = await store.clusters.listNetworks(cluster.id);
    const management = rows.find((r) => r.roles.management);
    if (management && management.networkId !== network?.id) {
      const name = (await store.networks.get(management.networkId))?.name ?? management.networkId;
      problems.push(
        new StoreConstraintError(
          StoreConstraint.INSTALL_CLUSTER_MANAGEMENT,
          `cluster ${cluster.name} (${cluster.id}) has ${name} as its management network, and the install builds ${wanted.network.name}; ${NOTHING_CHANGED}`,
        ),
      );
    } else if (management && management.roles.defaultRoute !== wanted.network.defaultRoute) {
      // The out-of-sync report compares the host's default route with the cluster's role.
      const holder = rows.find((r) => r.roles.defaultRoute);
      const holderName = holder ? ((await store.networks.get(holder.networkId))?.name ?? holder.networkId) : 'no network';
      problems.push(
        new StoreConstraintError(
          StoreConstraint.INSTALL_DEFAULT_ROUTE,
          `cluster ${cluster.name} (${cluster.id}) gives the default route to ${holderName}, and the install ` +
            `${wanted.network.defaultRoute ? 'puts it on' : 'keeps it off'} ${wanted.network.name}: ` +
            `move the role first (\`hostprov clusters update-network\`) or install with defaultRoute ${management.roles.defaultRoute}; ${NOTHING_CHANGED}`,
        ),
      );
    }
    const level = wanted.host.clusterLevel;
    if (level !== undefined && !sameClusterLevel(level, cluster.compatibilityVersion))
      problems.push(
        new StoreConstraintError(
          StoreConstraint.INSTALL_CLUSTER_LEVEL,
          `cluster ${cluster.name} (${cluster.id}) has compatibility version ${cluster.compatibilityVersion} in the store, ` +
            `and the install was told level ${level}, which decides how it commits: install with the stored level ` +
            `or change the cluster's first (\`hostprov clusters update --compatibility-version\`); ${NOTHING_CHANGED}`,
        ),
      );
    if (host?.clusterId && host.clusterId !== cluster.id)
      problems.push(
        new StoreConstraintError(
          StoreConstraint.INSTALL_HOST_CLUSTER,
          `host ${hostId} is in cluster ${host.clusterId} in the store, and the install names cluster ${cluster.id}: ` +
            `move the host first (\`hostprov hosts update\`); ${NOTHING_CHANGED}`,
        ),
      );
  }
  return problems;
}

/** What the registration wrote that a compensation may take back. */
export interface Registered {
  networkId: string;
  /** The network is new: the install created it, with its definition. */
  createdNetwork: boolean;
}

/** The network the install builds: the stored one when it matches, else a new one with the install's definition. */
async function registerNetwork(
  store: HostNetworkingStore,
  found: Network | null,
  wanted: InstallRegistration['network'],
): Promise<Registered> {
  if (found) return { networkId: found.id, createdNetwork: false };
  try {
    const { name, vlan, mtu, vmNetwork, stp } = wanted;
    return { networkId: (await store.networks.create({ name, vlan, mtu, vmNetwork, stp })).id, createdNetwork: true };
  } catch (err) {
    // A concurrent install created it first (twenty installs in one cluster start together): it must match too.
    if (!(err instanceof StoreConstraintError && err.constraint === StoreConstraint.NETWORK_NAME_UNIQUE)) throw err;
    const winner = await store.networks.getByName(wanted.name);
    if (!winner) throw err;
    const refusal = definitionRefusal(winner, wanted);
    if (refusal) throw refusal;
    return { networkId: winner.id, createdNetwork: false };
  }
}

/**
 * The host: a new one under its name, in the cluster when the store knows it, with the agent endpoint the
 * install reached it at. A known host gets the cluster and the endpoint only where it has none: an
 * operator's endpoint (a relay, another address) stays, and a name only where the store named it after
 * its id. The active NIC is a fact of this install: always the device it found carrying the manager's traffic.
 */
async function registerHost(
  store: HostNetworkingStore,
  hostId: string,
  found: Host | null,
  wanted: InstallRegistration['host'],
  cluster: Cluster | null,
) {
  const clusterId = cluster?.id ?? null;
  const { agentEndpoint, activeNic } = wanted;
  if (!found) {
    try {
      await store.hosts.create({ id: hostId, name: wanted.name, clusterId, agentEndpoint, activeNic });
      return;
    } catch (err) {
      if (isNameTaken(err)) throw nameTaken(wanted.name, err);
      // A retry of this install or a concurrent one created it: take that row, and put it in the cluster below.
      if (!(err instanceof StoreConstraintError && err.constraint === StoreConstraint.PRIMARY_KEY)) throw err;
    }
  }
  const host = found ?? (await store.hosts.get(hostId));
  if (!host) return;
  const patch = {
    ...(namedByPlaceholder(host) && host.name !== wanted.name ? { name: wanted.name } : {}),
    ...(host.clusterId === null && clusterId !== null ? { clusterId } : {}),
    ...(host.agentEndpoint === null ? { agentEndpoint } : {}),
    ...(host.activeNic !== activeNic ? { activeNic } : {}),
  };
  if (Object.keys(patch).length === 0) return;
  try {
    await store.hosts.update(hostId, patch);
  } catch (err) {
    if (isNameTaken(err)) throw nameTaken(wanted.name, err);
    throw err;
  }
}

/**
 * Checks the registration against the store, then writes what is missing: the host (its cluster, its agent
 * endpoint), the network. Repeating it (a retried activity) changes nothing more.
 */
export async function registerInstall(store: HostNetworkingStore, hostId: string, wanted: InstallRegistration): Promise<Registered> {
  const [network, cluster, host] = await Promise.all([
    store.networks.getByName(wanted.network.name),
    store.clusters.get(wanted.host.clusterId),
    store.hosts.get(hostId),
  ]);
  const [first, ...more] = await refusals(store, hostId, wanted, { network, cluster, host });
  if (first)
    throw more.length === 0 ? first : new StoreConstraintError(first.constraint, [first, ...more].map((p) => p.message).join('; '));
  // The host first: a name another host has is refused before the network is written.
  await registerHost(store, hostId, host, wanted.host, cluster);
  return registerNetwork(store, network, wanted.network);
}

/**
 * Takes back a network an install created, once its compensation has restored the attachments: a failed
 * install leaves no definition behind to refuse the next one. A network some cluster or host uses by now
 * (another install registered it meanwhile) stays.
 */
export async function unregisterNetwork(store: HostNetworkingStore, networkId: string): Promise<boolean> {
  try {
    await store.networks.remove(networkId);
    return true;
  } catch (err) {
    if (err instanceof StoreNotFoundError) return false;
    if (err instanceof StoreConstraintError && err.constraint === StoreConstraint.NETWORK_IN_USE) return false;
    throw err;
  }
}
