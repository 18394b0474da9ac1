/**
 * The client's TLS cache (vdsm/client/tls-cache.ts) with real openssl-made files: connections that start
 * together share one context, and files that cannot be read are reported to every caller and not remembered.
 */
import { copyFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TlsMaterialError } from '../../../vdsm/tls';
import { ClientTlsCache } from '../../../vdsm/client/tls-cache';
import { createTestPki, type TestPki } from '../../helpers/pki-fixture';

describe('the client TLS cache', () => {
  let pki: TestPki;

  beforeAll(async () => {
    pki = await createTestPki();
  });
  afterAll(async () => {
    await pki?.cleanup();
  });

  it('builds one context for connections that ask for it at the same time', async () => {
    const cache = new ClientTlsCache();
    const burst = await Promise.all(Array.from({ length: 20 }, () => cache.context(pki.engine)));
    expect(new Set(burst.map((c) => c.context)).size).toBe(1);
    expect(new Set(burst.map((c) => c.key)).size).toBe(1);
    expect((await cache.context(pki.engine)).context).toBe(burst[0]?.context);
  });

  it('reports unreadable files to every caller of a burst, and reads them again on the next call', async () => {
    const cache = new ClientTlsCache();
    const files = { ...pki.engine, keyFile: join(pki.dir, 'cache-key.pem') };
    const burst = await Promise.allSettled(Array.from({ length: 5 }, () => cache.context(files)));
    for (const outcome of burst) {
      expect(outcome.status).toBe('rejected');
      expect((outcome as PromiseRejectedResult).reason).toBeInstanceOf(TlsMaterialError);
    }
    copyFileSync(pki.engine.keyFile, files.keyFile);
    try {
      expect((await cache.context(files)).context).toBeDefined();
    } finally {
      rmSync(files.keyFile);
    }
  });
});
