/**
 * A small PKI for development, demos and tests, made with the `openssl` CLI: one CA, server certificates
 * with IP/DNS SANs, client certificates. Mutual TLS between hostprov and its agents (docs/vdsm-wire-protocol.md#tls-and-the-port)
 * needs exactly this, and real certificates keep tests honest.
 *
 * `ensurePki` is idempotent: files that exist, match the request and are signed by the current CA are
 * reused; anything else is (re)generated. A lock file serialises concurrent callers on the same directory.
 */
import { randomBytes, X509Certificate } from 'node:crypto';
import { chmod, mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { z } from 'zod';
import { run } from './process';

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const DNS_NAME = /^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/;

const serverSpecSchema = z
  .object({
    name: z.string().regex(NAME, 'letters, digits, ".", "_" and "-" only'),
    ips: z.array(z.string().refine((ip) => isIP(ip) !== 0, 'must be an IPv4 or IPv6 address')).default([]),
    dnsNames: z.array(z.string().regex(DNS_NAME, 'must be a DNS name')).default([]),
  })
  .refine((s) => s.ips.length + s.dnsNames.length > 0, 'a server certificate needs at least one IP or DNS name');

const pkiSpecSchema = z.object({
  servers: z.array(serverSpecSchema).default([]),
  clients: z.array(z.object({ name: z.string().regex(NAME, 'letters, digits, ".", "_" and "-" only') })).default([]),
  /** Common name of the CA. */
  caName: z.string().min(1).default('hostprov development CA'),
  /** Validity of newly issued leaf certificates. */
  leafValidDays: z.number().int().positive().default(825),
});

/** What to issue; `ips` and `dnsNames` become subjectAltNames of a server certificate. */
export type PkiSpec = z.input<typeof pkiSpecSchema>;

/** One leaf certificate, its key, and the CA that verifies peers: the shape TLS options take. */
export interface LeafFiles {
  readonly certFile: string;
  readonly keyFile: string;
  readonly caFile: string;
}

export interface Pki {
  readonly dir: string;
  readonly caFile: string;
  readonly caKeyFile: string;
  readonly servers: Readonly<Record<string, LeafFiles>>;
  readonly clients: Readonly<Record<string, LeafFiles>>;
  /** Files of server certificate `name`; throws UnknownCertificateError if it was not requested. */
  server(name: string): LeafFiles;
  /** Files of client certificate `name`; throws UnknownCertificateError if it was not requested. */
  client(name: string): LeafFiles;
}

export class UnknownCertificateError extends Error {
  override readonly name = 'UnknownCertificateError';
  constructor(
    readonly kind: 'server' | 'client',
    readonly certificate: string,
    readonly dir: string,
  ) {
    super(`no ${kind} certificate named ${certificate} was requested from the PKI in ${dir}`);
  }
}

export class PkiLockTimeoutError extends Error {
  override readonly name = 'PkiLockTimeoutError';
  constructor(readonly lockFile: string) {
    super(`timed out waiting for ${lockFile}; remove it if no hostprov process is generating certificates`);
  }
}

const CA_VALID_DAYS = 3650;
/** Certificates that expire sooner than this are reissued. */
const RENEW_BEFORE_MS = 7 * 24 * 3600 * 1000;
const LOCK_WAIT_MS = 60_000;

type LeafKind = 'server' | 'client';
interface LeafRequest {
  kind: LeafKind;
  name: string;
  ips: string[];
  dnsNames: string[];
}

/** Creates (or reuses) the CA and the requested certificates under `dir`. */
export async function ensurePki(dir: string, spec: PkiSpec): Promise<Pki> {
  const request = pkiSpecSchema.parse(spec);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const caFile = join(dir, 'ca.pem');
  const caKeyFile = join(dir, 'ca-key.pem');
  const leaves: LeafRequest[] = [
    ...request.servers.map((s) => ({ kind: 'server' as const, name: s.name, ips: s.ips, dnsNames: s.dnsNames })),
    ...request.clients.map((c) => ({ kind: 'client' as const, name: c.name, ips: [], dnsNames: [] })),
  ];

  await withLock(join(dir, '.pki.lock'), async () => {
    const ca = (await usableCertificate(caFile, caKeyFile)) ?? (await createCa(dir, caFile, caKeyFile, request.caName));
    for (const leaf of leaves) {
      const files = leafFiles(dir, leaf.kind, leaf.name, caFile);
      if (await leafIsCurrent(files, leaf, ca)) continue;
      await issueLeaf(dir, files, leaf, { caFile, caKeyFile, validDays: request.leafValidDays });
    }
  });

  const publicFiles = (kind: LeafKind, name: string): LeafFiles => {
    const { certFile, keyFile } = leafFiles(dir, kind, name, caFile);
    return { certFile, keyFile, caFile };
  };
  const servers = Object.fromEntries(request.servers.map((s) => [s.name, publicFiles('server', s.name)]));
  const clients = Object.fromEntries(request.clients.map((c) => [c.name, publicFiles('client', c.name)]));
  return {
    dir,
    caFile,
    caKeyFile,
    servers,
    clients,
    server: (name) => servers[name] ?? raise(new UnknownCertificateError('server', name, dir)),
    client: (name) => clients[name] ?? raise(new UnknownCertificateError('client', name, dir)),
  };
}

function leafFiles(dir: string, kind: LeafKind, name: string, caFile: string): LeafFiles & { specFile: string } {
  return {
    certFile: join(dir, `${kind}-${name}.pem`),
    keyFile: join(dir, `${kind}-${name}-key.pem`),
    specFile: join(dir, `${kind}-${name}.json`),
    caFile,
  };
}

/** The certificate at `certFile` if it and its key exist and it is not about to expire. */
async function usableCertificate(certFile: string, keyFile: string): Promise<X509Certificate | undefined> {
  try {
    await stat(keyFile);
    const cert = new X509Certificate(await readFile(certFile));
    return Date.parse(cert.validTo) - Date.now() > RENEW_BEFORE_MS ? cert : undefined;
  } catch {
    return undefined;
  }
}

async function leafIsCurrent(files: ReturnType<typeof leafFiles>, leaf: LeafRequest, ca: X509Certificate): Promise<boolean> {
  const cert = await usableCertificate(files.certFile, files.keyFile);
  if (!cert || !cert.checkIssued(ca) || !cert.verify(ca.publicKey)) return false;
  try {
    return (await readFile(files.specFile, 'utf8')) === specRecord(leaf);
  } catch {
    return false;
  }
}

/** What a leaf was issued for, stored beside it so a changed request (new SANs) reissues it. */
function specRecord(leaf: LeafRequest): string {
  return `${JSON.stringify({ kind: leaf.kind, name: leaf.name, ips: [...leaf.ips].sort(), dnsNames: [...leaf.dnsNames].sort() })}\n`;
}

async function createCa(dir: string, caFile: string, caKeyFile: string, caName: string): Promise<X509Certificate> {
  const config = [
    '[req]',
    'distinguished_name = dn',
    'prompt = no',
    '[dn]',
    `CN = ${caName.replace(/[^A-Za-z0-9 ._-]/g, '_')}`,
    '[ca]',
    'basicConstraints = critical,CA:TRUE',
    'keyUsage = critical,keyCertSign,cRLSign',
    'subjectKeyIdentifier = hash',
  ].join('\n');
  await withScratch(dir, async (scratch) => {
    await writeFile(scratch.config, config);
    // EC P-256 keys: generated in milliseconds, accepted by Node, OpenSSL and Java alike.
    await openssl([
      'req',
      '-x509',
      '-new',
      '-config',
      scratch.config,
      '-extensions',
      'ca',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-sha256',
      '-days',
      String(CA_VALID_DAYS),
      '-keyout',
      scratch.key,
      '-out',
      scratch.cert,
    ]);
    await installPair(scratch, caFile, caKeyFile);
  });
  return new X509Certificate(await readFile(caFile));
}

async function issueLeaf(
  dir: string,
  files: ReturnType<typeof leafFiles>,
  leaf: LeafRequest,
  ca: { caFile: string; caKeyFile: string; validDays: number },
): Promise<void> {
  const sans = [...leaf.ips.map((ip, i) => `IP.${i + 1} = ${ip}`), ...leaf.dnsNames.map((dns, i) => `DNS.${i + 1} = ${dns}`)];
  const config = [
    '[req]',
    'distinguished_name = dn',
    'prompt = no',
    '[dn]',
    `CN = ${leaf.name}`,
    '[leaf]',
    'basicConstraints = critical,CA:FALSE',
    'keyUsage = critical,digitalSignature',
    // Server certificates also authenticate as clients, as VDSM's host certificate does.
    `extendedKeyUsage = ${leaf.kind === 'server' ? 'serverAuth,clientAuth' : 'clientAuth'}`,
    'subjectKeyIdentifier = hash',
    'authorityKeyIdentifier = keyid,issuer',
    ...(sans.length > 0 ? ['subjectAltName = @sans', '[sans]', ...sans] : []),
  ].join('\n');
  await withScratch(dir, async (scratch) => {
    await writeFile(scratch.config, config);
    await openssl([
      'req',
      '-new',
      '-config',
      scratch.config,
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      scratch.key,
      '-out',
      scratch.csr,
    ]);
    await openssl([
      'x509',
      '-req',
      '-in',
      scratch.csr,
      '-CA',
      ca.caFile,
      '-CAkey',
      ca.caKeyFile,
      '-set_serial',
      `0x${randomBytes(16).toString('hex')}`,
      '-days',
      String(ca.validDays),
      '-sha256',
      '-extfile',
      scratch.config,
      '-extensions',
      'leaf',
      '-out',
      scratch.cert,
    ]);
    await installPair(scratch, files.certFile, files.keyFile);
    await writeFile(files.specFile, specRecord(leaf));
  });
}

interface Scratch {
  config: string;
  key: string;
  csr: string;
  cert: string;
}

/** Temporary files for one openssl run, removed afterwards whatever happens. */
async function withScratch(dir: string, fn: (scratch: Scratch) => Promise<void>): Promise<void> {
  const prefix = join(dir, `.tmp-${randomBytes(6).toString('hex')}`);
  const scratch = { config: `${prefix}.cnf`, key: `${prefix}-key.pem`, csr: `${prefix}.csr`, cert: `${prefix}.pem` };
  try {
    await fn(scratch);
  } finally {
    await Promise.all(Object.values(scratch).map((path) => rm(path, { force: true })));
  }
}

/** Renames key then certificate into place, so a certificate on disk always has its key beside it. */
async function installPair(scratch: Scratch, certFile: string, keyFile: string): Promise<void> {
  await chmod(scratch.key, 0o600);
  await rename(scratch.key, keyFile);
  await rename(scratch.cert, certFile);
}

async function openssl(args: string[]): Promise<void> {
  await run(['openssl', ...args], { timeoutMs: 60_000 });
}

async function withLock(lockFile: string, fn: () => Promise<void>): Promise<void> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      const handle = await open(lockFile, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (await isStale(lockFile)) {
        await rm(lockFile, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new PkiLockTimeoutError(lockFile);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  try {
    await fn();
  } finally {
    await rm(lockFile, { force: true });
  }
}

/** A lock whose owner process is gone is stale. */
async function isStale(lockFile: string): Promise<boolean> {
  try {
    const pid = Number((await readFile(lockFile, 'utf8')).trim());
    if (!Number.isInteger(pid) || pid <= 0) return (await stat(lockFile)).mtimeMs < Date.now() - LOCK_WAIT_MS;
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

function raise(err: Error): never {
  throw err;
}
