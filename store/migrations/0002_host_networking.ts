/**
 * Version 2: the host networking model. Data-center networks, clusters with their networks' roles, hosts,
 * and network attachments with every persisted field of the engine's entity (ovirt-engine
 * packaging/dbscripts create_tables.sql `network_attachments`, `network_cluster`).
 *
 * Rows of the version-1 table move over without loss: each distinct host id becomes a host (named by its
 * id, no cluster yet), each distinct network name a network with the engine's defaults, and each row an
 * attachment with the same id, addresses, properties, requester and timestamps.
 */
import { randomUUID } from 'node:crypto';
import { sql, type ColumnDataType, type Kysely } from 'kysely';
import type { Migration } from 'kysely';
import { StoreDialect } from '../dialect';

interface ColumnTypes {
  uuid: ColumnDataType;
  bool: ColumnDataType;
  time: ColumnDataType;
  json: ColumnDataType;
}

/** Native types on PostgreSQL; SQLite keeps text, 0/1 and JSON text (its own type affinities). */
function columnTypes(dialect: StoreDialect): ColumnTypes {
  return dialect === StoreDialect.POSTGRES
    ? { uuid: 'uuid', bool: 'boolean', time: 'timestamptz', json: 'jsonb' }
    : { uuid: 'text', bool: 'integer', time: 'text', json: 'text' };
}

interface LegacyRow {
  id: string;
  host_id: string;
  network_name: string;
  nic_name: string;
  boot_protocol: string;
  address: string | null;
  netmask: string | null;
  gateway: string | null;
  ipv6_boot_protocol: string;
  ipv6_address: string | null;
  ipv6_prefix: number | null;
  ipv6_gateway: string | null;
  custom_properties: string;
  requested_by: string | null;
  created_at: string;
  updated_at: string;
}

const IPV4_BOOT_PROTOCOLS = sql`('NONE', 'DHCP', 'STATIC_IP')`;
const IPV6_BOOT_PROTOCOLS = sql`('NONE', 'DHCP', 'AUTOCONF', 'POLY_DHCP_AUTOCONF', 'STATIC_IP')`;

// Kysely<any>: migrations see the schema as it was at their version, not the current `Database` type.
/* eslint-disable @typescript-eslint/no-explicit-any */
async function createTables(db: Kysely<any>, t: ColumnTypes): Promise<void> {
  await db.schema
    .createTable('networks')
    .addColumn('id', t.uuid, (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('vlan', 'integer')
    .addColumn('mtu', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('vm_network', t.bool, (c) => c.notNull().defaultTo(true))
    .addColumn('stp', t.bool, (c) => c.notNull().defaultTo(false))
    .addColumn('dns_servers', t.json, (c) => c.notNull().defaultTo('[]'))
    .addColumn('qos', t.json)
    .addColumn('custom_properties', t.json, (c) => c.notNull().defaultTo('{}'))
    .addColumn('created_at', t.time, (c) => c.notNull())
    .addColumn('updated_at', t.time, (c) => c.notNull())
    .addPrimaryKeyConstraint('networks_pkey', ['id'])
    .addUniqueConstraint('networks_name_key', ['name'])
    .addCheckConstraint('networks_vlan_check', sql`vlan IS NULL OR vlan BETWEEN 0 AND 4094`)
    .addCheckConstraint('networks_mtu_check', sql`mtu = 0 OR mtu BETWEEN 68 AND 65535`)
    .execute();

  await db.schema
    .createTable('clusters')
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('compatibility_version', 'text', (c) => c.notNull())
    .addColumn('created_at', t.time, (c) => c.notNull())
    .addColumn('updated_at', t.time, (c) => c.notNull())
    .addPrimaryKeyConstraint('clusters_pkey', ['id'])
    .addUniqueConstraint('clusters_name_key', ['name'])
    .execute();

  await db.schema
    .createTable('cluster_networks')
    .addColumn('cluster_id', 'text', (c) => c.notNull())
    .addColumn('network_id', t.uuid, (c) => c.notNull())
    .addColumn('management', t.bool, (c) => c.notNull().defaultTo(false))
    .addColumn('default_route', t.bool, (c) => c.notNull().defaultTo(false))
    .addColumn('display', t.bool, (c) => c.notNull().defaultTo(false))
    .addColumn('migration', t.bool, (c) => c.notNull().defaultTo(false))
    .addColumn('required', t.bool, (c) => c.notNull().defaultTo(false))
    .addColumn('created_at', t.time, (c) => c.notNull())
    .addColumn('updated_at', t.time, (c) => c.notNull())
    .addPrimaryKeyConstraint('cluster_networks_pkey', ['cluster_id', 'network_id'])
    .addForeignKeyConstraint('cluster_networks_cluster_fkey', ['cluster_id'], 'clusters', ['id'], (fk) => fk.onDelete('cascade'))
    .addForeignKeyConstraint('cluster_networks_network_fkey', ['network_id'], 'networks', ['id'], (fk) => fk.onDelete('restrict'))
    .execute();
  // At most one management and one default-route network per cluster. The flag is part of each index so
  // SQLite, which names the columns rather than the index in its error, tells the two apart.
  await db.schema
    .createIndex('cluster_networks_one_management')
    .unique()
    .on('cluster_networks')
    .columns(['cluster_id', 'management'])
    .where(sql.ref('management'), '=', sql`${sql.lit(true)}`)
    .execute();
  await db.schema
    .createIndex('cluster_networks_one_default_route')
    .unique()
    .on('cluster_networks')
    .columns(['cluster_id', 'default_route'])
    .where(sql.ref('default_route'), '=', sql`${sql.lit(true)}`)
    .execute();
  await db.schema.createIndex('cluster_networks_network_idx').on('cluster_networks').column('network_id').execute();

  await db.schema
    .createTable('hosts')
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('cluster_id', 'text')
    .addColumn('agent_endpoint', t.json)
    .addColumn('active_nic', 'text')
    .addColumn('reported_interfaces', t.json)
    .addColumn('interfaces_reported_at', t.time)
    .addColumn('created_at', t.time, (c) => c.notNull())
    .addColumn('updated_at', t.time, (c) => c.notNull())
    .addPrimaryKeyConstraint('hosts_pkey', ['id'])
    .addUniqueConstraint('hosts_name_key', ['name'])
    .addForeignKeyConstraint('hosts_cluster_fkey', ['cluster_id'], 'clusters', ['id'], (fk) => fk.onDelete('restrict'))
    .execute();
  await db.schema.createIndex('hosts_cluster_idx').on('hosts').column('cluster_id').execute();

  await db.schema
    .createTable('network_attachments')
    .addColumn('id', t.uuid, (c) => c.notNull())
    .addColumn('host_id', 'text', (c) => c.notNull())
    .addColumn('network_id', t.uuid, (c) => c.notNull())
    .addColumn('nic_name', 'text')
    .addColumn('boot_protocol', 'text', (c) => c.notNull().defaultTo('NONE'))
    .addColumn('address', 'text')
    .addColumn('netmask', 'text')
    .addColumn('gateway', 'text')
    .addColumn('ipv6_boot_protocol', 'text', (c) => c.notNull().defaultTo('NONE'))
    .addColumn('ipv6_address', 'text')
    .addColumn('ipv6_prefix', 'integer')
    .addColumn('ipv6_gateway', 'text')
    .addColumn('custom_properties', t.json, (c) => c.notNull().defaultTo('{}'))
    .addColumn('qos', t.json)
    .addColumn('dns_name_servers', t.json)
    .addColumn('requested_by', 'text')
    .addColumn('created_at', t.time, (c) => c.notNull())
    .addColumn('updated_at', t.time, (c) => c.notNull())
    .addPrimaryKeyConstraint('network_attachments_pkey', ['id'])
    // Nic names are unique per host, so this one row per (host, network) implies the engine's
    // UNIQUE(network_id, nic_id) and also refuses the same network on two NICs of one host.
    .addUniqueConstraint('network_attachments_host_network_key', ['host_id', 'network_id'])
    .addForeignKeyConstraint('network_attachments_host_fkey', ['host_id'], 'hosts', ['id'], (fk) => fk.onDelete('cascade'))
    .addForeignKeyConstraint('network_attachments_network_fkey', ['network_id'], 'networks', ['id'], (fk) => fk.onDelete('restrict'))
    .addCheckConstraint('network_attachments_boot_protocol_check', sql`boot_protocol IN ${IPV4_BOOT_PROTOCOLS}`)
    .addCheckConstraint('network_attachments_ipv6_boot_protocol_check', sql`ipv6_boot_protocol IN ${IPV6_BOOT_PROTOCOLS}`)
    .addCheckConstraint('network_attachments_ipv6_prefix_check', sql`ipv6_prefix IS NULL OR ipv6_prefix BETWEEN 0 AND 128`)
    .execute();
  await db.schema.createIndex('network_attachments_host_nic_idx').on('network_attachments').columns(['host_id', 'nic_name']).execute();
  await db.schema.createIndex('network_attachments_network_idx').on('network_attachments').column('network_id').execute();
}

function earliest(values: string[]): string {
  return values.reduce((a, b) => (b < a ? b : a));
}
function latest(values: string[]): string {
  return values.reduce((a, b) => (b > a ? b : a));
}

export function hostNetworking(dialect: StoreDialect): Migration {
  const t = columnTypes(dialect);
  return {
    async up(db: Kysely<any>): Promise<void> {
      // Read the version-1 rows, then drop that table before creating its successor: PostgreSQL keeps a
      // renamed table's index names, which the new table needs. The migration is one transaction.
      const legacy = (await db.selectFrom('network_attachments').selectAll().orderBy('id').execute()) as LegacyRow[];
      await db.schema.dropTable('network_attachments').execute();
      await createTables(db, t);
      if (!legacy.length) return;

      const hostIds = [...new Set(legacy.map((r) => r.host_id))];
      for (const hostId of hostIds) {
        const rows = legacy.filter((r) => r.host_id === hostId);
        await db
          .insertInto('hosts')
          .values({
            id: hostId,
            name: hostId,
            created_at: earliest(rows.map((r) => r.created_at)),
            updated_at: latest(rows.map((r) => r.updated_at)),
          })
          .execute();
      }
      const networkIds = new Map<string, string>();
      for (const name of [...new Set(legacy.map((r) => r.network_name))]) {
        const rows = legacy.filter((r) => r.network_name === name);
        const id = randomUUID();
        networkIds.set(name, id);
        await db
          .insertInto('networks')
          .values({ id, name, created_at: earliest(rows.map((r) => r.created_at)), updated_at: latest(rows.map((r) => r.updated_at)) })
          .execute();
      }
      for (const row of legacy) {
        const { network_name: networkName, ...kept } = row;
        await db
          .insertInto('network_attachments')
          .values({ ...kept, network_id: networkIds.get(networkName) })
          .execute();
      }
    },
  };
}
