/**
 * Real certificates for TLS tests, made by lib/pki.ts with the openssl CLI in a temporary directory:
 * the hostprov CA (server `agent` for loopback, client `engine`) and a foreign CA (client `intruder`,
 * server `impostor`) whose certificates our side must refuse.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensurePki, type LeafFiles } from '../../lib/pki';

export interface TestPki {
  readonly dir: string;
  /** Server certificate for 127.0.0.1, ::1 and localhost, signed by the hostprov CA. */
  readonly agent: LeafFiles;
  /** Client certificate signed by the hostprov CA. */
  readonly engine: LeafFiles;
  /** Client certificate from another CA (its `caFile` is that other CA). */
  readonly intruder: LeafFiles;
  /** Server certificate for loopback from another CA. */
  readonly impostor: LeafFiles;
  cleanup(): Promise<void>;
}

const LOOPBACK = { ips: ['127.0.0.1', '::1'], dnsNames: ['localhost'] };

export async function createTestPki(): Promise<TestPki> {
  const dir = await mkdtemp(join(tmpdir(), 'hostprov-pki-'));
  const ours = await ensurePki(join(dir, 'hostprov'), { servers: [{ name: 'agent', ...LOOPBACK }], clients: [{ name: 'engine' }] });
  const foreign = await ensurePki(join(dir, 'foreign'), {
    caName: 'some other CA',
    servers: [{ name: 'impostor', ...LOOPBACK }],
    clients: [{ name: 'intruder' }],
  });
  return {
    dir,
    agent: ours.server('agent'),
    engine: ours.client('engine'),
    intruder: foreign.client('intruder'),
    impostor: foreign.server('impostor'),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}
