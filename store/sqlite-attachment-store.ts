/**
 * SQLite (WAL) implementation of the attachment store: the default, a file next to the dev stack's data.
 * Columns follow the engine's `network_attachments` table (docs/engine-host-networking.md#networkattachment),
 * keyed per host by network name.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { NetworkAttachmentSpec } from '../model/attachments/attachment';
import type { AttachmentStore, NetworkAttachment } from './attachment-store';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS network_attachments (
  id                 TEXT PRIMARY KEY,
  host_id            TEXT NOT NULL,
  network_name       TEXT NOT NULL,
  nic_name           TEXT NOT NULL,
  boot_protocol      TEXT NOT NULL DEFAULT 'NONE' CHECK (boot_protocol IN ('NONE','DHCP','STATIC_IP')),
  address            TEXT,
  netmask            TEXT,
  gateway            TEXT,
  ipv6_boot_protocol TEXT NOT NULL DEFAULT 'NONE' CHECK (ipv6_boot_protocol IN ('NONE','DHCP','AUTOCONF','POLY_DHCP_AUTOCONF','STATIC_IP')),
  ipv6_address       TEXT,
  ipv6_prefix        INTEGER,
  ipv6_gateway       TEXT,
  custom_properties  TEXT NOT NULL DEFAULT '{}',
  requested_by       TEXT,
  created_at         TEXT NOT NULL,
  updated_at         TEXT NOT NULL,
  UNIQUE (host_id, network_name)
);
CREATE INDEX IF NOT EXISTS network_attachments_nic ON network_attachments (host_id, nic_name);
`;

interface Row {
  id: string;
  host_id: string;
  network_name: string;
  nic_name: string;
  boot_protocol: NetworkAttachment['ipConfiguration']['ipv4']['bootProtocol'];
  address: string | null;
  netmask: string | null;
  gateway: string | null;
  ipv6_boot_protocol: NetworkAttachment['ipConfiguration']['ipv6']['bootProtocol'];
  ipv6_address: string | null;
  ipv6_prefix: number | null;
  ipv6_gateway: string | null;
  custom_properties: string;
  requested_by: string | null;
  created_at: string;
  updated_at: string;
}

function fromRow(r: Row): NetworkAttachment {
  const opt = <K extends string, V>(key: K, value: V | null): Partial<Record<K, V>> => (value === null ? {} : ({ [key]: value } as Record<K, V>));
  return {
    id: r.id,
    hostId: r.host_id,
    networkName: r.network_name,
    nicName: r.nic_name,
    ipConfiguration: {
      ipv4: { bootProtocol: r.boot_protocol, ...opt('address', r.address), ...opt('netmask', r.netmask), ...opt('gateway', r.gateway) },
      ipv6: { bootProtocol: r.ipv6_boot_protocol, ...opt('address', r.ipv6_address), ...opt('prefix', r.ipv6_prefix), ...opt('gateway', r.ipv6_gateway) },
    },
    properties: JSON.parse(r.custom_properties) as Record<string, string>,
    requestedBy: r.requested_by,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function toRow(a: NetworkAttachment): Row {
  const { ipv4, ipv6 } = a.ipConfiguration;
  return {
    id: a.id,
    host_id: a.hostId,
    network_name: a.networkName,
    nic_name: a.nicName,
    boot_protocol: ipv4.bootProtocol,
    address: ipv4.address ?? null,
    netmask: ipv4.netmask ?? null,
    gateway: ipv4.gateway ?? null,
    ipv6_boot_protocol: ipv6.bootProtocol,
    ipv6_address: ipv6.address ?? null,
    ipv6_prefix: ipv6.prefix ?? null,
    ipv6_gateway: ipv6.gateway ?? null,
    custom_properties: JSON.stringify(a.properties ?? {}),
    requested_by: a.requestedBy,
    created_at: a.createdAt,
    updated_at: a.updatedAt,
  };
}

const COLUMNS = 'id, host_id, network_name, nic_name, boot_protocol, address, netmask, gateway, ipv6_boot_protocol, ipv6_address, ipv6_prefix, ipv6_gateway, custom_properties, requested_by, created_at, updated_at';
const PLACEHOLDERS = COLUMNS.split(', ').map((c) => `@${c}`).join(', ');

export function openSqliteAttachmentStore(file: string): AttachmentStore {
  mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 5000');
  db.exec(SCHEMA);

  const byId = db.prepare<[string], Row>('SELECT * FROM network_attachments WHERE id = ?');
  const byHost = db.prepare<[string], Row>('SELECT * FROM network_attachments WHERE host_id = ? ORDER BY network_name');
  const byNic = db.prepare<[string, string], Row>('SELECT * FROM network_attachments WHERE host_id = ? AND nic_name = ? ORDER BY network_name');
  const byNetwork = db.prepare<[string, string], Row>('SELECT * FROM network_attachments WHERE host_id = ? AND network_name = ?');
  const upsert = db.prepare<Row>(
    `INSERT INTO network_attachments (${COLUMNS}) VALUES (${PLACEHOLDERS})
     ON CONFLICT (host_id, network_name) DO UPDATE SET id = excluded.id, nic_name = excluded.nic_name, boot_protocol = excluded.boot_protocol,
       address = excluded.address, netmask = excluded.netmask, gateway = excluded.gateway, ipv6_boot_protocol = excluded.ipv6_boot_protocol,
       ipv6_address = excluded.ipv6_address, ipv6_prefix = excluded.ipv6_prefix, ipv6_gateway = excluded.ipv6_gateway,
       custom_properties = excluded.custom_properties, requested_by = excluded.requested_by, created_at = excluded.created_at, updated_at = excluded.updated_at`,
  );
  const deleteNetwork = db.prepare<[string, string]>('DELETE FROM network_attachments WHERE host_id = ? AND network_name = ?');

  const record = db.transaction((hostId: string, attachments: NetworkAttachmentSpec[], requestedBy: string) => {
    const now = new Date().toISOString();
    const previous: NetworkAttachment[] = [];
    for (const spec of attachments) {
      const existing = byNetwork.get(hostId, spec.networkName);
      if (existing) previous.push(fromRow(existing));
      upsert.run(
        toRow({
          ...spec,
          properties: spec.properties ?? {},
          id: existing?.id ?? randomUUID(),
          hostId,
          requestedBy,
          createdAt: existing?.created_at ?? now,
          updatedAt: now,
        }),
      );
    }
    return { previous };
  });

  const restore = db.transaction((hostId: string, networkNames: string[], previous: NetworkAttachment[]) => {
    let restored = 0;
    let removed = 0;
    for (const name of networkNames) {
      const before = previous.find((p) => p.networkName === name && p.hostId === hostId);
      if (before) {
        upsert.run(toRow(before));
        restored += 1;
      } else {
        removed += deleteNetwork.run(hostId, name).changes;
      }
    }
    return { restored, removed };
  });

  return {
    getById: async (id) => {
      const row = byId.get(id);
      return row ? fromRow(row) : null;
    },
    listByHost: async (hostId) => byHost.all(hostId).map(fromRow),
    listByNic: async (hostId, nicName) => byNic.all(hostId, nicName).map(fromRow),
    record: async (hostId, attachments, requestedBy) => record(hostId, attachments, requestedBy),
    restore: async (hostId, networkNames, previous) => restore(hostId, networkNames, previous),
    close: async () => {
      db.close();
    },
  };
}
