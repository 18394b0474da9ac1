/**
 * `bin/hostprov agent` runs Node with OpenSSL's CA store (`--use-openssl-ca`): Node 20 otherwise builds its
 * bundled root store at the agent's first TLS context, although `--tls-ca` replaces it
 * (docs/performance.md#starting-the-agent). The agent must still trust only `--tls-ca`: here OpenSSL's default
 * CA file (SSL_CERT_FILE) holds a foreign CA, and a client certificate from that CA is refused.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentClient } from '../../vdsm/client/client';
import { AgentConnectionError } from '../../vdsm/client/errors';
import { createAgentProcessHost, type AgentProcessHost } from '../helpers/agent-process';
import { createTestPki, type TestPki } from '../helpers/pki-fixture';
import { testLogger } from '../vdsm/test-verbs';

describe('the agent process and the CA store', () => {
  let pki: TestPki;
  let host: AgentProcessHost;

  beforeAll(async () => {
    pki = await createTestPki();
    host = await createAgentProcessHost({ tls: { agent: pki.agent, client: pki.engine, serverName: 'localhost' } });
    // OpenSSL's default store: the foreign CA only, and no directory of others.
    await host.start({ env: { SSL_CERT_FILE: pki.intruder.caFile, SSL_CERT_DIR: pki.dir } });
  }, 120_000);
  afterAll(async () => {
    await host?.close();
    await pki?.cleanup();
  });

  it('runs Node with OpenSSL’s CA store', () => {
    const argv = readFileSync(`/proc/${host.pid}/cmdline`, 'utf8').split('\0');
    expect(argv).toContain('--use-openssl-ca');
  });

  it('serves a client of its --tls-ca and refuses one whose CA is in OpenSSL’s default store', async () => {
    expect(await host.call('Host.ping2', {})).toBe(true);
    // The intruder verifies the agent against our CA, so only the agent's side can refuse.
    const intruder = { ...host.endpoint, tls: { ...host.endpoint.tls, certFile: pki.intruder.certFile, keyFile: pki.intruder.keyFile } };
    const err = await AgentClient.connect(intruder, { logger: testLogger(), connectTimeoutMs: 5_000 }).then(
      () => expect.unreachable('the agent should have refused the foreign client'),
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AgentConnectionError);
  });
});
