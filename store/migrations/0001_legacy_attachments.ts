/**
 * Version 1: the attachment table hostprov kept before the host networking model, keyed by host id and
 * network *name*, NIC required. Existing SQLite files already have it (this is a no-op there); new
 * databases get it empty, so every database reaches version 2 by the same path.
 */
import { sql, type Kysely } from 'kysely';
import type { Migration } from 'kysely';

export const legacyAttachments: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await sql`
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
      )`.execute(db);
    await sql`CREATE INDEX IF NOT EXISTS network_attachments_nic ON network_attachments (host_id, nic_name)`.execute(db);
  },
};
