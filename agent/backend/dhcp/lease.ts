/**
 * Leases as our dhclient script records them: `<leaseDir>/<dev>.<4|6>.json`, written atomically (temp file
 * + rename) on every bind/renewal and removed when the lease ends.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { Family } from '../../../model/net-state';
import { InvalidLeaseFileError } from '../errors';
import { readJsonFile } from '../../../lib/json-file';

export const DhcpLease = z.object({
  dev: z.string(),
  family: z.union([z.literal(4), z.literal(6)]),
  address: z.string().transform((a) => a.toLowerCase()),
  prefixLen: z.number().int().min(0).max(128),
  /** IPv4 routers offered (the first one is installed); always empty for DHCPv6. */
  routers: z.array(z.string()),
  nameservers: z.array(z.string()),
  /** Search domains offered, in the order resolv.conf lists them; absent from leases older agents recorded. */
  searchDomains: z.array(z.string()).default([]),
  /** Seconds the lease is valid for, when the server said. */
  leaseTime: z.number().int().nullable(),
  /** When it was bound or last renewed, Unix seconds. */
  time: z.number().int(),
  /** dhclient's reason for the last write: BOUND, RENEW, REBIND, REBOOT (or the *6 forms). */
  reason: z.string(),
  /** How the client was started (`dhcp-start`), so a stop can undo exactly what was installed. */
  table: z.number().int(),
  defaultRoute: z.boolean(),
  sourceRouting: z.boolean(),
});
export type DhcpLease = z.infer<typeof DhcpLease>;

const LEASE_FILE_RE = /^([A-Za-z0-9_.:-]{1,15})\.([46])\.json$/;

export function leaseFileName(dev: string, family: Family): string {
  return `${dev}.${family}.json`;
}

/** `{dev, family}` of a lease file name, or null for anything else in the directory (temp files, pid files). */
export function leaseKeyFromFileName(name: string): { dev: string; family: Family } | null {
  const match = LEASE_FILE_RE.exec(name);
  if (!match?.[1] || !match[2]) return null;
  return { dev: match[1], family: match[2] === '4' ? 4 : 6 };
}

/** The lease in `path`, or null if there is none (no file). */
export async function readLeaseFile(path: string): Promise<DhcpLease | null> {
  return readJsonFile(path, DhcpLease, (detail) => new InvalidLeaseFileError(path, detail));
}

/** Every valid lease in `dir`; invalid files are reported to `onInvalid` and skipped. */
export async function readLeaseDir(dir: string, onInvalid: (err: InvalidLeaseFileError) => void): Promise<DhcpLease[]> {
  // Listed synchronously: the directory is small and local, and a change asks beside its kernel read, where an
  // awaited listing waits behind the read's parsing (docs/setup-networks.md#what-a-change-costs).
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    names = [];
  }
  const leases: DhcpLease[] = [];
  for (const name of names.filter((n) => leaseKeyFromFileName(n) !== null).sort()) {
    try {
      const lease = await readLeaseFile(join(dir, name));
      if (lease) leases.push(lease);
    } catch (err) {
      if (err instanceof InvalidLeaseFileError) onInvalid(err);
      else throw err;
    }
  }
  return leases;
}
