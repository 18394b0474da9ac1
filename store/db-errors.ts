/**
 * Database errors → typed store errors. PostgreSQL names the violated constraint (the migrations name
 * every one); SQLite names the columns of a unique index and the name of a CHECK, so its messages map
 * through the column lists below. Anything unrecognised passes through unchanged.
 */
import { StoreBusyError, StoreConstraint, StoreConstraintError } from './errors';

const PG_NAMED: Record<string, StoreConstraint> = {
  networks_name_key: StoreConstraint.NETWORK_NAME_UNIQUE,
  clusters_name_key: StoreConstraint.CLUSTER_NAME_UNIQUE,
  hosts_name_key: StoreConstraint.HOST_NAME_UNIQUE,
  network_attachments_host_network_key: StoreConstraint.ATTACHMENT_HOST_NETWORK_UNIQUE,
  cluster_networks_pkey: StoreConstraint.CLUSTER_NETWORK_UNIQUE,
  cluster_networks_one_management: StoreConstraint.CLUSTER_ONE_MANAGEMENT,
  cluster_networks_one_default_route: StoreConstraint.CLUSTER_ONE_DEFAULT_ROUTE,
};

const SQLITE_UNIQUE_COLUMNS: Record<string, StoreConstraint> = {
  'networks.name': StoreConstraint.NETWORK_NAME_UNIQUE,
  'clusters.name': StoreConstraint.CLUSTER_NAME_UNIQUE,
  'hosts.name': StoreConstraint.HOST_NAME_UNIQUE,
  'network_attachments.host_id, network_attachments.network_id': StoreConstraint.ATTACHMENT_HOST_NETWORK_UNIQUE,
  'cluster_networks.cluster_id, cluster_networks.network_id': StoreConstraint.CLUSTER_NETWORK_UNIQUE,
  'cluster_networks.cluster_id, cluster_networks.management': StoreConstraint.CLUSTER_ONE_MANAGEMENT,
  'cluster_networks.cluster_id, cluster_networks.default_route': StoreConstraint.CLUSTER_ONE_DEFAULT_ROUTE,
};

const DESCRIPTIONS: Record<StoreConstraint, string> = {
  [StoreConstraint.NETWORK_NAME_UNIQUE]: 'a network of that name exists',
  [StoreConstraint.CLUSTER_NAME_UNIQUE]: 'a cluster of that name exists',
  [StoreConstraint.HOST_NAME_UNIQUE]: 'a host of that name exists',
  [StoreConstraint.ATTACHMENT_HOST_NETWORK_UNIQUE]: 'the network is already attached to the host',
  [StoreConstraint.ATTACHMENT_NIC_NOT_VLAN]: 'an attachment names a VLAN device as its NIC',
  [StoreConstraint.ATTACHMENT_NETWORK_FIXED]: "an attachment's network cannot change",
  [StoreConstraint.CLUSTER_NETWORK_UNIQUE]: 'the network is already attached to the cluster',
  [StoreConstraint.CLUSTER_ONE_MANAGEMENT]: 'the cluster already has a management network',
  [StoreConstraint.CLUSTER_ONE_DEFAULT_ROUTE]: 'the cluster already has a default-route network',
  [StoreConstraint.CLUSTER_MANAGEMENT_REQUIRED]: 'the cluster needs its management network',
  [StoreConstraint.NETWORK_IN_USE]: 'the network is in use',
  [StoreConstraint.CLUSTER_IN_USE]: 'the cluster has hosts',
  [StoreConstraint.INSTALL_NETWORK_DEFINITION]: 'the store defines the network otherwise',
  [StoreConstraint.INSTALL_CLUSTER_MANAGEMENT]: "the cluster's management network is another",
  [StoreConstraint.INSTALL_DEFAULT_ROUTE]: "the cluster's default-route role is elsewhere",
  [StoreConstraint.INSTALL_HOST_CLUSTER]: 'the host is in another cluster',
  [StoreConstraint.INSTALL_HOST_NAME]: 'the host has another name',
  [StoreConstraint.INSTALL_CLUSTER_LEVEL]: "the cluster's compatibility level is another",
  [StoreConstraint.UNIQUE]: 'a unique value is taken',
  [StoreConstraint.PRIMARY_KEY]: 'a row with that id exists',
  [StoreConstraint.FOREIGN_KEY]: 'a referenced row does not exist, or the row is still referenced',
  [StoreConstraint.CHECK]: 'a value is out of range',
};

export function describeConstraint(constraint: StoreConstraint): string {
  return DESCRIPTIONS[constraint];
}

interface CodedError {
  code: string;
  message: string;
  constraint?: string;
}

function isCoded(err: unknown): err is CodedError {
  return err instanceof Error && typeof (err as { code?: unknown }).code === 'string';
}

function constraintError(constraint: StoreConstraint, cause: unknown): StoreConstraintError {
  return new StoreConstraintError(constraint, describeConstraint(constraint), { cause });
}

function fromPostgres(err: CodedError): Error | null {
  switch (err.code) {
    case '23505': {
      const named = err.constraint ? PG_NAMED[err.constraint] : undefined;
      if (named) return constraintError(named, err);
      return constraintError(err.constraint?.endsWith('_pkey') ? StoreConstraint.PRIMARY_KEY : StoreConstraint.UNIQUE, err);
    }
    case '23503':
      return constraintError(StoreConstraint.FOREIGN_KEY, err);
    case '23514':
    case '23502':
      return constraintError(StoreConstraint.CHECK, err);
    case '40001': // serialization_failure
    case '40P01': // deadlock_detected
    case '55P03': // lock_not_available
      return new StoreBusyError('the database reported a conflicting transaction; nothing was changed, retry', { cause: err });
    default:
      return null;
  }
}

function fromSqlite(err: CodedError): Error | null {
  if (err.code === 'SQLITE_CONSTRAINT_UNIQUE' || err.code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
    const columns = /constraint failed: (.*)$/.exec(err.message)?.[1] ?? '';
    const named = SQLITE_UNIQUE_COLUMNS[columns];
    if (named) return constraintError(named, err);
    return constraintError(/^\w+\.id$/.test(columns) ? StoreConstraint.PRIMARY_KEY : StoreConstraint.UNIQUE, err);
  }
  if (err.code === 'SQLITE_CONSTRAINT_FOREIGNKEY') return constraintError(StoreConstraint.FOREIGN_KEY, err);
  if (err.code === 'SQLITE_CONSTRAINT_CHECK' || err.code === 'SQLITE_CONSTRAINT_NOTNULL')
    return constraintError(StoreConstraint.CHECK, err);
  if (err.code.startsWith('SQLITE_BUSY') || err.code.startsWith('SQLITE_LOCKED')) {
    return new StoreBusyError('the SQLite file stayed locked by another writer; nothing was changed, retry', { cause: err });
  }
  return null;
}

/** The typed store error for a database error, or the error itself when it is not one the store knows. */
export function translateDbError(err: unknown): unknown {
  if (!isCoded(err)) return err;
  return (err.code.startsWith('SQLITE_') ? fromSqlite(err) : fromPostgres(err)) ?? err;
}
