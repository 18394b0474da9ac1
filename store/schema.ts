/**
 * The tables as Kysely sees them (after the latest migration). Column values differ by dialect where the
 * databases differ: PostgreSQL has booleans, timestamptz and jsonb; SQLite stores 0/1, ISO text and JSON
 * text. `codec.ts` converts both ways, so nothing above it sees the difference.
 */
import type { ColumnType } from 'kysely';

/** PostgreSQL `boolean` / SQLite 0|1. */
export type DbBool = ColumnType<boolean | number, boolean | number, boolean | number>;
/** PostgreSQL `timestamptz` (read as Date) / SQLite ISO text. Always written as ISO text. */
export type DbTime = ColumnType<Date | string, string, string>;
/** PostgreSQL `jsonb` (read parsed) / SQLite JSON text. Always written as JSON text. */
export type DbJson = ColumnType<unknown, string, string>;

export interface NetworksTable {
  id: string;
  name: string;
  vlan: number | null;
  mtu: number;
  vm_network: DbBool;
  stp: DbBool;
  dns_servers: DbJson;
  qos: ColumnType<unknown, string | null, string | null>;
  custom_properties: DbJson;
  created_at: DbTime;
  updated_at: DbTime;
}

export interface ClustersTable {
  id: string;
  name: string;
  compatibility_version: string;
  created_at: DbTime;
  updated_at: DbTime;
}

export interface ClusterNetworksTable {
  cluster_id: string;
  network_id: string;
  management: DbBool;
  default_route: DbBool;
  display: DbBool;
  migration: DbBool;
  required: DbBool;
  created_at: DbTime;
  updated_at: DbTime;
}

export interface HostsTable {
  id: string;
  name: string;
  cluster_id: string | null;
  agent_endpoint: ColumnType<unknown, string | null, string | null>;
  active_nic: string | null;
  reported_interfaces: ColumnType<unknown, string | null, string | null>;
  interfaces_reported_at: ColumnType<Date | string | null, string | null, string | null>;
  created_at: DbTime;
  updated_at: DbTime;
}

export interface NetworkAttachmentsTable {
  id: string;
  host_id: string;
  network_id: string;
  nic_name: string | null;
  boot_protocol: string;
  address: string | null;
  netmask: string | null;
  gateway: string | null;
  ipv6_boot_protocol: string;
  ipv6_address: string | null;
  ipv6_prefix: number | null;
  ipv6_gateway: string | null;
  custom_properties: DbJson;
  qos: ColumnType<unknown, string | null, string | null>;
  dns_name_servers: ColumnType<unknown, string | null, string | null>;
  requested_by: string | null;
  created_at: DbTime;
  updated_at: DbTime;
}

export interface IntentRecordsTable {
  key: string;
  host_id: string;
  /** The {@link IntentSnapshot} the first recording returned. */
  snapshot: DbJson;
  recorded_at: DbTime;
}

export interface Database {
  networks: NetworksTable;
  clusters: ClustersTable;
  cluster_networks: ClusterNetworksTable;
  hosts: HostsTable;
  network_attachments: NetworkAttachmentsTable;
  intent_records: IntentRecordsTable;
}
