/**
 * Store errors as an operator reads them: what was refused, the rule by name and in a sentence, and an
 * exit code a script can branch on. Nothing was changed in any of these cases (every store write is one
 * transaction).
 */
import {
  StoreBusyError,
  StoreConstraint,
  StoreConstraintError,
  StoreInputError,
  StoreNotFoundError,
  StoreOpenError,
} from '../../store/errors';
import { UsageError } from '../usage-error';

/** Exit codes of the host networking commands. */
export const HostNetworkingExit = {
  OK: 0,
  /** The store could not be opened, was busy, or failed otherwise. */
  FAILED: 1,
  /** Bad input: a flag or a value the model refuses. */
  BAD_INPUT: 2,
  /** A rule of the store refused the change. */
  REFUSED: 3,
  /** The network, cluster, host or attachment named does not exist. */
  NOT_FOUND: 4,
} as const;
export type HostNetworkingExit = (typeof HostNetworkingExit)[keyof typeof HostNetworkingExit];

/** Each rule in one sentence, as the operator has to follow it. */
export const RULE_SENTENCES: Record<StoreConstraint, string> = {
  [StoreConstraint.NETWORK_NAME_UNIQUE]: 'network names are unique',
  [StoreConstraint.CLUSTER_NAME_UNIQUE]: 'cluster names are unique',
  [StoreConstraint.HOST_NAME_UNIQUE]: 'host names are unique',
  [StoreConstraint.ATTACHMENT_HOST_NETWORK_UNIQUE]: 'a host has at most one attachment of each network',
  [StoreConstraint.ATTACHMENT_NIC_NOT_VLAN]:
    'an attachment sits on a base NIC or a bond, never on a VLAN device (the VLAN comes from the network)',
  [StoreConstraint.ATTACHMENT_NETWORK_FIXED]: "an attachment's network never changes (remove it and add another)",
  [StoreConstraint.CLUSTER_NETWORK_UNIQUE]: 'a network is attached to a cluster at most once',
  [StoreConstraint.CLUSTER_ONE_MANAGEMENT]:
    'a cluster has exactly one management network; move the role with `hostprov clusters set-management`',
  [StoreConstraint.CLUSTER_ONE_DEFAULT_ROUTE]: 'a cluster has at most one default-route network',
  [StoreConstraint.CLUSTER_MANAGEMENT_REQUIRED]:
    'a cluster keeps its management network; move the role with `hostprov clusters set-management` first',
  [StoreConstraint.NETWORK_IN_USE]: 'a network attached to a cluster or a host cannot be removed',
  [StoreConstraint.CLUSTER_IN_USE]: 'a cluster that still has hosts cannot be removed',
  [StoreConstraint.INSTALL_NETWORK_DEFINITION]:
    'an install builds the network as the store defines it; change the definition with `hostprov networks update` first',
  [StoreConstraint.INSTALL_CLUSTER_MANAGEMENT]: "an install builds its cluster's management network",
  [StoreConstraint.INSTALL_DEFAULT_ROUTE]:
    "an install puts the host's default route where its cluster's default-route role is; move the role with `hostprov clusters update-network` first",
  [StoreConstraint.INSTALL_HOST_CLUSTER]:
    'an install keeps a host in the cluster the store has it in; move it with `hostprov hosts update` first',
  [StoreConstraint.INSTALL_HOST_NAME]: 'an install names a known host as the store does; rename it with `hostprov hosts update` first',
  [StoreConstraint.INSTALL_CLUSTER_LEVEL]:
    "an install's cluster level is its cluster's compatibility version; change it with `hostprov clusters update` first",
  [StoreConstraint.UNIQUE]: 'the value must be unique',
  [StoreConstraint.PRIMARY_KEY]: 'ids are unique',
  [StoreConstraint.FOREIGN_KEY]: 'references point at existing rows',
  [StoreConstraint.CHECK]: 'stored values stay within their ranges',
};

/** The operator's error for a store error; anything else passes through unchanged. */
export function cliErrorFromStore(err: unknown): unknown {
  if (err instanceof UsageError) return err;
  if (err instanceof StoreInputError)
    return new UsageError(`${err.message}; nothing was changed`, { exitCode: HostNetworkingExit.BAD_INPUT, cause: err });
  if (err instanceof StoreConstraintError) {
    return new UsageError(`refused by rule ${err.constraint} (${RULE_SENTENCES[err.constraint]}): ${err.message}; nothing was changed`, {
      exitCode: HostNetworkingExit.REFUSED,
      cause: err,
    });
  }
  if (err instanceof StoreNotFoundError)
    return new UsageError(`${err.message}; nothing was changed`, { exitCode: HostNetworkingExit.NOT_FOUND, cause: err });
  if (err instanceof StoreBusyError || err instanceof StoreOpenError)
    return new UsageError(err.message, { exitCode: HostNetworkingExit.FAILED, cause: err });
  return err;
}
