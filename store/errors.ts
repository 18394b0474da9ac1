/**
 * Typed store errors. Callers branch on the class and on `constraint`/`entity`; the database's own error
 * stays available as `cause` for logs, never as the only information.
 */

/** Names of the rules the store enforces, whether the database or the store code catches a breach. */
export const StoreConstraint = {
  NETWORK_NAME_UNIQUE: 'networks_name_key',
  CLUSTER_NAME_UNIQUE: 'clusters_name_key',
  HOST_NAME_UNIQUE: 'hosts_name_key',
  /** One attachment per (host, network); implies the engine's UNIQUE(network_id, nic_id) per host. */
  ATTACHMENT_HOST_NETWORK_UNIQUE: 'network_attachments_host_network_key',
  /** The attachment's NIC is a base NIC or bond, never a VLAN device. */
  ATTACHMENT_NIC_NOT_VLAN: 'network_attachments_nic_not_vlan',
  /** An update cannot move an attachment to another network (engine CANNOT_CHANGE_ATTACHED_NETWORK). */
  ATTACHMENT_NETWORK_FIXED: 'network_attachments_network_fixed',
  CLUSTER_NETWORK_UNIQUE: 'cluster_networks_pkey',
  CLUSTER_ONE_MANAGEMENT: 'cluster_networks_one_management',
  CLUSTER_ONE_DEFAULT_ROUTE: 'cluster_networks_one_default_route',
  /** A cluster's management network cannot be detached or lose the role (move it with setManagementNetwork). */
  CLUSTER_MANAGEMENT_REQUIRED: 'cluster_networks_management_required',
  /** A network still attached to a cluster or a host cannot be removed. */
  NETWORK_IN_USE: 'network_in_use',
  /** A cluster that still has hosts cannot be removed. */
  CLUSTER_IN_USE: 'cluster_in_use',
  /** An install builds a network the store defines otherwise (vlan, MTU, bridged, STP). */
  INSTALL_NETWORK_DEFINITION: 'install_network_definition',
  /** An install builds a management network other than its cluster's. */
  INSTALL_CLUSTER_MANAGEMENT: 'install_cluster_management',
  /** An install puts the default route where its cluster's role does not (or keeps it off where the role is). */
  INSTALL_DEFAULT_ROUTE: 'install_default_route',
  /** An install names a cluster other than the one the store has the host in. */
  INSTALL_HOST_CLUSTER: 'install_host_cluster',
  /** An install names a host the store knows by another name. */
  INSTALL_HOST_NAME: 'install_host_name',
  /** An install's cluster level is not the stored cluster's compatibility version. */
  INSTALL_CLUSTER_LEVEL: 'install_cluster_level',
  /** Another unique rule without a name of its own. */
  UNIQUE: 'unique',
  /** A row with that id exists already. */
  PRIMARY_KEY: 'primary_key',
  /** A referenced row does not exist (reported by the database without a name). */
  FOREIGN_KEY: 'foreign_key',
  /** A value the database refused (a CHECK constraint without a known name). */
  CHECK: 'check',
} as const;
export type StoreConstraint = (typeof StoreConstraint)[keyof typeof StoreConstraint];

export const StoreEntity = {
  NETWORK: 'network',
  CLUSTER: 'cluster',
  CLUSTER_NETWORK: 'cluster network',
  HOST: 'host',
  ATTACHMENT: 'attachment',
} as const;
export type StoreEntity = (typeof StoreEntity)[keyof typeof StoreEntity];

export class StoreError extends Error {
  override readonly name: string = 'StoreError';
}

/** A write would break a rule; nothing was changed. */
export class StoreConstraintError extends StoreError {
  override readonly name = 'StoreConstraintError';
  constructor(
    readonly constraint: StoreConstraint,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The row asked for (or referenced) does not exist. */
export class StoreNotFoundError extends StoreError {
  override readonly name = 'StoreNotFoundError';
  constructor(
    readonly entity: StoreEntity,
    readonly id: string,
  ) {
    super(`${entity} ${id} does not exist`);
  }
}

/** Input failed its schema; nothing was changed. */
export class StoreInputError extends StoreError {
  override readonly name = 'StoreInputError';
  constructor(
    readonly what: string,
    readonly issues: string[],
  ) {
    super(`invalid ${what}: ${issues.join('; ')}`);
  }
}

/** The database was busy or a transaction lost a conflict; the operation changed nothing and may be retried. */
export class StoreBusyError extends StoreError {
  override readonly name = 'StoreBusyError';
}

/** The database could not be opened or migrated (unreachable, newer than this code, corrupt). */
export class StoreOpenError extends StoreError {
  override readonly name = 'StoreOpenError';
}
