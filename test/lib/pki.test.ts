/** lib/pki.ts: real openssl-made certificates, reused when still right, reissued when not. */
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ZodError } from 'zod';
import { UnknownCertificateError, ensurePki, type PkiSpec } from '../../lib/pki';

const spec: PkiSpec = { servers: [{ name: 'agent', ips: ['127.0.0.1', '::1'], dnsNames: ['localhost'] }], clients: [{ name: 'engine' }] };
const cert = async (path: string) => new X509Certificate(await readFile(path));

describe('ensurePki', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hostprov-pki-test-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('issues a CA, a server certificate with SANs and a client certificate, keys private', async () => {
    const pki = await ensurePki(dir, spec);
    const ca = await cert(pki.caFile);
    const server = await cert(pki.server('agent').certFile);
    const client = await cert(pki.client('engine').certFile);
    expect(ca.ca).toBe(true);
    for (const leaf of [server, client]) {
      expect(leaf.ca).toBe(false);
      expect(leaf.checkIssued(ca) && leaf.verify(ca.publicKey)).toBe(true);
    }
    expect(server.subjectAltName).toContain('IP Address:127.0.0.1');
    expect(server.subjectAltName).toContain('DNS:localhost');
    expect(server.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(server.checkHost('localhost')).toBe('localhost');
    expect(client.subject).toContain('CN=engine');
    expect(pki.server('agent').caFile).toBe(pki.caFile);
    expect((await stat(pki.server('agent').keyFile)).mode & 0o077).toBe(0);
    expect((await stat(pki.caKeyFile)).mode & 0o077).toBe(0);
  });

  it('reuses existing files on a second call', async () => {
    const first = await ensurePki(dir, spec);
    const before = await Promise.all(
      [first.caFile, first.server('agent').certFile, first.client('engine').keyFile].map((p) => readFile(p, 'utf8')),
    );
    const second = await ensurePki(dir, spec);
    const after = await Promise.all(
      [second.caFile, second.server('agent').certFile, second.client('engine').keyFile].map((p) => readFile(p, 'utf8')),
    );
    expect(after).toEqual(before);
  });

  it('reissues a server certificate whose SANs changed, keeping the CA', async () => {
    const first = await ensurePki(dir, spec);
    const caBefore = await readFile(first.caFile, 'utf8');
    const second = await ensurePki(dir, { servers: [{ name: 'agent', ips: ['192.0.2.7'] }] });
    expect(await readFile(second.caFile, 'utf8')).toBe(caBefore);
    const server = await cert(second.server('agent').certFile);
    expect(server.checkIP('192.0.2.7')).toBe('192.0.2.7');
    expect(server.checkIP('127.0.0.1')).toBeUndefined();
  });

  it('reissues leaves when the CA had to be recreated', async () => {
    const first = await ensurePki(dir, spec);
    await rm(first.caKeyFile);
    const second = await ensurePki(dir, spec);
    const ca = await cert(second.caFile);
    expect((await cert(second.client('engine').certFile)).verify(ca.publicKey)).toBe(true);
  });

  it('serialises concurrent callers on one directory', async () => {
    const [a, b] = await Promise.all([ensurePki(dir, spec), ensurePki(dir, spec)]);
    const ca = await cert(a.caFile);
    expect(b.caFile).toBe(a.caFile);
    expect((await cert(b.server('agent').certFile)).verify(ca.publicKey)).toBe(true);
  });

  it('names what was not requested, and validates the request', async () => {
    const pki = await ensurePki(dir, { clients: [{ name: 'engine' }] });
    expect(() => pki.server('engine')).toThrow(UnknownCertificateError);
    await expect(ensurePki(dir, { servers: [{ name: 'agent', ips: ['999.1.1.1'] }] })).rejects.toBeInstanceOf(ZodError);
    await expect(ensurePki(dir, { servers: [{ name: 'agent' }] })).rejects.toBeInstanceOf(ZodError);
    await expect(ensurePki(dir, { clients: [{ name: '../escape' }] })).rejects.toBeInstanceOf(ZodError);
  });
});
