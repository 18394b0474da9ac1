/**
 * Migrations run forward on open, on SQLite and PostgreSQL: from an empty database, and from the attachment
 * table hostprov kept before the host networking model (its rows come over without loss, or nothing
 * changes at all).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../lib/paths';
import { stopChild } from '../../lib/process';
import { StoreOpenError } from '../../store/errors';
import { openStore } from '../../store/open';
import { uniqueToken } from '../../testbed/netns';
import { skipBecause } from '../helpers/skip';
import { useStoreDialects } from '../helpers/store-dialects';
import { temporalTarget, unavailableReason } from '../helpers/temporal';

const dialects = useStoreDialects();

/** The table as hostprov's earlier SQLite attachment store created it, verbatim. */
const LEGACY_SCHEMA = [
  `CREATE TABLE IF NOT EXISTS network_attachments (
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
)`,
  'CREATE INDEX IF NOT EXISTS network_attachments_nic ON network_attachments (host_id, nic_name)',
];

const COLUMNS =
  'id, host_id, network_name, nic_name, boot_protocol, address, netmask, gateway, ipv6_boot_protocol, ipv6_address, ipv6_prefix, ipv6_gateway, custom_properties, requested_by, created_at, updated_at';
const LEGACY_ROWS = [
  `('6f1c1a52-6a53-4b8e-9a57-0c4a3c1d0001', 'host-1', 'ovirtmgmt', 'eth0', 'STATIC_IP', '192.0.2.10', '255.255.255.0', '192.0.2.1', 'STATIC_IP', '2001:db8::10', 64, '2001:db8::1', '{"bridge_opts":"forward_delay=1500"}', 'install-host', '2025-01-02T03:04:05.006Z', '2025-01-02T03:04:06.007Z')`,
  `('6f1c1a52-6a53-4b8e-9a57-0c4a3c1d0002', 'host-1', 'storage', 'bond0', 'DHCP', NULL, NULL, NULL, 'AUTOCONF', NULL, NULL, NULL, '{}', NULL, '2025-01-03T00:00:00.000Z', '2025-01-04T00:00:00.000Z')`,
  `('6f1c1a52-6a53-4b8e-9a57-0c4a3c1d0003', 'host 2 (lab)', 'ovirtmgmt', 'enp1s0', 'DHCP', NULL, NULL, NULL, 'NONE', NULL, NULL, NULL, '{}', 'install-host', '2025-02-01T00:00:00.000Z', '2025-02-01T00:00:00.000Z')`,
];

const MIGRATIONS = ['0001_legacy_attachments', '0002_host_networking', '0003_intent_records'];

describe.each(dialects)('migrations on $dialect', (fixture) => {
  it('builds the schema from an empty database, and reopening applies nothing twice', async () => {
    const location = await fixture.freshLocation();
    const store = await openStore(location);
    expect(await store.migrations()).toEqual(MIGRATIONS);
    const network = await store.networks.create({ name: 'ovirtmgmt' });
    await store.close();

    const again = await openStore(location);
    try {
      expect(await again.migrations()).toEqual(MIGRATIONS);
      expect(await again.networks.list()).toEqual([network]);
    } finally {
      await again.close();
    }
  });

  it('upgrades the legacy attachment table without loss: same ids, fields and timestamps', async () => {
    const location = await fixture.freshLocation();
    for (const statement of LEGACY_SCHEMA) await fixture.sql(location, statement);
    await fixture.sql(location, `INSERT INTO network_attachments (${COLUMNS}) VALUES ${LEGACY_ROWS.join(', ')}`);

    const store = await openStore(location);
    try {
      expect(await store.migrations()).toEqual(MIGRATIONS);
      expect((await store.hosts.list()).map((h) => [h.id, h.name, h.clusterId])).toEqual([
        ['host 2 (lab)', 'host 2 (lab)', null],
        ['host-1', 'host-1', null],
      ]);
      const networks = await store.networks.list();
      expect(networks.map((n) => [n.name, n.vlan, n.mtu, n.vmNetwork])).toEqual([
        ['ovirtmgmt', null, 0, true],
        ['storage', null, 0, true],
      ]);
      expect(networks.find((n) => n.name === 'ovirtmgmt')).toMatchObject({
        createdAt: '2025-01-02T03:04:05.006Z',
        updatedAt: '2025-02-01T00:00:00.000Z',
      });

      const host1 = await store.attachments.listByHost('host-1');
      expect(host1).toEqual([
        {
          id: '6f1c1a52-6a53-4b8e-9a57-0c4a3c1d0001',
          hostId: 'host-1',
          networkId: networks.find((n) => n.name === 'ovirtmgmt')?.id,
          networkName: 'ovirtmgmt',
          nicName: 'eth0',
          ipConfiguration: {
            ipv4: { bootProtocol: 'STATIC_IP', address: '192.0.2.10', netmask: '255.255.255.0', gateway: '192.0.2.1' },
            ipv6: { bootProtocol: 'STATIC_IP', address: '2001:db8::10', prefix: 64, gateway: '2001:db8::1' },
          },
          properties: { bridge_opts: 'forward_delay=1500' },
          qos: null,
          dns: null,
          requestedBy: 'install-host',
          createdAt: '2025-01-02T03:04:05.006Z',
          updatedAt: '2025-01-02T03:04:06.007Z',
        },
        {
          id: '6f1c1a52-6a53-4b8e-9a57-0c4a3c1d0002',
          hostId: 'host-1',
          networkId: networks.find((n) => n.name === 'storage')?.id,
          networkName: 'storage',
          nicName: 'bond0',
          ipConfiguration: { ipv4: { bootProtocol: 'DHCP' }, ipv6: { bootProtocol: 'AUTOCONF' } },
          properties: {},
          qos: null,
          dns: null,
          requestedBy: null,
          createdAt: '2025-01-03T00:00:00.000Z',
          updatedAt: '2025-01-04T00:00:00.000Z',
        },
      ]);
      expect(await store.attachments.listByNic('host 2 (lab)', 'enp1s0')).toEqual([
        expect.objectContaining({
          id: '6f1c1a52-6a53-4b8e-9a57-0c4a3c1d0003',
          networkName: 'ovirtmgmt',
          ipConfiguration: { ipv4: { bootProtocol: 'DHCP' }, ipv6: { bootProtocol: 'NONE' } },
        }),
      ]);
      // The upgraded rows live under the new rules: the same network cannot be added twice.
      await expect(store.attachments.add('host-1', { networkId: networks[0]?.id ?? '', nicName: 'eth9' })).rejects.toMatchObject({
        constraint: 'network_attachments_host_network_key',
      });
    } finally {
      await store.close();
    }
    const columns = Object.keys((await fixture.sql(location, 'SELECT * FROM network_attachments'))[0] ?? {});
    expect(columns).toContain('network_id');
    expect(columns).not.toContain('network_name');
  });

  it('leaves the legacy table untouched when the upgrade cannot take a row', async () => {
    const location = await fixture.freshLocation();
    for (const statement of LEGACY_SCHEMA) await fixture.sql(location, statement);
    // An IPv6 prefix the old table allowed and the new one refuses.
    const bad = LEGACY_ROWS[1]?.replace("'AUTOCONF', NULL, NULL", "'AUTOCONF', NULL, 999") ?? '';
    await fixture.sql(location, `INSERT INTO network_attachments (${COLUMNS}) VALUES ${LEGACY_ROWS[0]}, ${bad}`);

    const err = await openStore(location).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreOpenError);
    expect((err as Error).message).toContain('0002_host_networking');
    const rows = await fixture.sql(location, 'SELECT id, network_name, ipv6_prefix FROM network_attachments ORDER BY id');
    expect(rows).toEqual([
      { id: '6f1c1a52-6a53-4b8e-9a57-0c4a3c1d0001', network_name: 'ovirtmgmt', ipv6_prefix: 64 },
      { id: '6f1c1a52-6a53-4b8e-9a57-0c4a3c1d0002', network_name: 'storage', ipv6_prefix: 999 },
    ]);
    // One transaction for the whole run: not even version 1 is recorded.
    expect(await fixture.sql(location, 'SELECT name FROM kysely_migration')).toEqual([]);

    // Once the row is mended, the same database upgrades.
    await fixture.sql(location, `UPDATE network_attachments SET ipv6_prefix = NULL WHERE ipv6_prefix = 999`);
    const store = await openStore(location);
    try {
      expect((await store.attachments.listByHost('host-1')).map((a) => a.id)).toEqual([
        '6f1c1a52-6a53-4b8e-9a57-0c4a3c1d0001',
        '6f1c1a52-6a53-4b8e-9a57-0c4a3c1d0002',
      ]);
    } finally {
      await store.close();
    }
  });

  it('refuses a database migrated by a newer hostprov', async () => {
    const location = await fixture.freshLocation();
    await (await openStore(location)).close();
    await fixture.sql(
      location,
      `INSERT INTO kysely_migration (name, timestamp) VALUES ('9999_from_the_future', '2030-01-01T00:00:00.000Z')`,
    );
    const err = await openStore(location).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreOpenError);
    expect((err as Error).message).toMatch(/9999_from_the_future/);
  });
});

const postgres = dialects.find((d) => d.dialect === 'postgres');

describe.skipIf(skipBecause(postgres ? unavailableReason() : 'PostgreSQL is off', 'the worker-on-PostgreSQL test'))(
  'hostprov worker --database',
  () => {
    it('opens and migrates the PostgreSQL database it is given, and keeps no SQLite file', async () => {
      const target = temporalTarget();
      if ('unavailable' in target || !postgres) throw new Error('unreachable: skipped above');
      const url = await postgres.freshLocation();
      const dataDir = mkdtempSync(join(tmpdir(), 'hostprov-worker-'));
      const worker = spawn(
        join(PROJECT_ROOT, 'bin', 'hostprov'),
        [
          'worker',
          '--address',
          target.address,
          '--namespace',
          target.namespace,
          '--task-queue',
          `store-${uniqueToken()}`,
          '--data-dir',
          dataDir,
          '--database',
          url,
          '--workflow-bundle',
          target.workflowBundlePath,
          '--no-payload-encryption',
        ],
        { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, HOSTPROV_LOG_LEVEL: 'warn' } },
      );
      try {
        const deadline = Date.now() + 60_000;
        const applied = async () =>
          (await postgres.sql(url, 'SELECT name FROM kysely_migration ORDER BY name').catch(() => [])).map((r) => r.name);
        while ((await applied()).length < MIGRATIONS.length) {
          if (worker.exitCode !== null) throw new Error(`the worker exited (${worker.exitCode}) before migrating`);
          if (Date.now() > deadline) throw new Error('the worker did not migrate the database within 60 s');
          await new Promise((r) => setTimeout(r, 200));
        }
        expect(await applied()).toEqual(MIGRATIONS);
        expect(existsSync(join(dataDir, 'attachments.sqlite'))).toBe(false);
      } finally {
        await stopChild(worker, { signal: 'SIGTERM', timeoutMs: 20_000 });
        rmSync(dataDir, { recursive: true, force: true });
      }
    });
  },
);
