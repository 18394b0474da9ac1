/** Lease files as the agent reads them (agent/backend/dhcp/lease.ts), including those an older script wrote. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readLeaseFile } from '../../../agent/backend/dhcp/lease';
import { InvalidLeaseFileError } from '../../../agent/backend/errors';

const dir = mkdtempSync(join(tmpdir(), 'hostprov-lease-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const WRITTEN_BEFORE_SEARCH_DOMAINS = {
  dev: 'ovirtmgmt',
  family: 4,
  address: '192.0.2.10',
  prefixLen: 24,
  routers: ['192.0.2.1'],
  nameservers: ['192.0.2.53'],
  leaseTime: 3600,
  time: 1_796_000_000,
  reason: 'BOUND',
  table: 254,
  defaultRoute: true,
  sourceRouting: false,
};

describe('readLeaseFile', () => {
  it('reads a lease an agent before search domains recorded as offering none', async () => {
    const path = join(dir, 'ovirtmgmt.4.json');
    writeFileSync(path, JSON.stringify(WRITTEN_BEFORE_SEARCH_DOMAINS));
    expect(await readLeaseFile(path)).toEqual({ ...WRITTEN_BEFORE_SEARCH_DOMAINS, searchDomains: [] });
  });

  it('refuses a file that is not a lease with a typed error, and reads a missing one as none', async () => {
    const path = join(dir, 'eth0.4.json');
    writeFileSync(path, JSON.stringify({ ...WRITTEN_BEFORE_SEARCH_DOMAINS, searchDomains: 'example.org' }));
    await expect(readLeaseFile(path)).rejects.toBeInstanceOf(InvalidLeaseFileError);
    expect(await readLeaseFile(join(dir, 'eth9.4.json'))).toBeNull();
  });
});
