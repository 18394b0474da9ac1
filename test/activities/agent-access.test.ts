/**
 * The worker's gate on agent endpoints, end to end through install-host on the real dev server: an
 * endpoint without TLS is refused (before any connection) unless the worker was started with
 * allowInsecureAgents; a TLS reference outside the secrets directory is refused, naming the reference.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { followInstall, startOrAttachInstall } from '../../workflow-client/install-host';
import { getLogger } from '../../lib/logger';
import { connectClient, plainConnection } from '../../lib/temporal/connection';
import { createPayloadKey, loadPayloadKeys } from '../../lib/temporal/payload-keys';
import type { InstallHostRequest } from '../../model/install-host/contract';
import { uniqueToken } from '../../testbed/netns';
import { startWorker, type RunningWorker } from '../../worker/main';
import { skipBecause } from '../helpers/skip';
import { temporalTarget, unavailableReason } from '../helpers/temporal';

const reason = unavailableReason();

describe.skipIf(skipBecause(reason, 'worker agent-access tests'))('worker access to agents', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hostprov-access-'));
  const workers: RunningWorker[] = [];
  let client: Client;
  const queues = { strict: `strict-${uniqueToken()}`, lab: `lab-${uniqueToken()}` };

  beforeAll(async () => {
    const target = temporalTarget();
    if ('unavailable' in target) throw new Error(target.unavailable);
    // With payload encryption, as deployed: the workers and the client share the key in the secrets directory.
    createPayloadKey(dir);
    const temporal = plainConnection(target.address, target.namespace);
    const common = { temporal, workflowBundlePath: target.workflowBundlePath, secrets: { secretsDir: dir }, log: getLogger('access-test') };
    workers.push(await startWorker({ ...common, taskQueue: queues.strict, dataDir: mkdtempSync(join(dir, 'w-')) }));
    workers.push(await startWorker({ ...common, taskQueue: queues.lab, dataDir: mkdtempSync(join(dir, 'w-')), allowInsecureAgents: true }));
    client = (await connectClient(temporal, { payloadKeys: loadPayloadKeys(dir) })).client;
  });
  afterAll(async () => {
    await client?.connection.close();
    for (const worker of workers) await worker.shutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  /** An install against port 1 of loopback, where no agent listens. */
  const request = (tls: InstallHostRequest['agent']['tls']): InstallHostRequest => ({
    version: 1,
    host: { id: `access-${uniqueToken()}`, name: 'nowhere', address: '127.0.0.1', clusterId: 'test' },
    agent: { port: 1, tls },
    managerAddress: '127.0.0.1',
    clusterLevel: '4.8',
    policy: { connectivityTimeoutSeconds: 5, reboot: false, commitMode: 'auto', agentWaitSeconds: 1 },
  });
  const install = async (taskQueue: string, tls: InstallHostRequest['agent']['tls']) =>
    followInstall((await startOrAttachInstall(client, request(tls), { taskQueue })).handle, () => undefined, { intervalMs: 200 });

  it('refuses an endpoint without TLS on a worker not started to allow it', async () => {
    const result = await install(queues.strict, { insecure: true });
    expect(result).toMatchObject({ outcome: 'failed', failure: { type: 'InsecureAgentRefused' } });
    expect(result.failure?.message).toContain('127.0.0.1:1');
    expect(result.failure?.message).toContain('--allow-insecure-agents');
  });

  it('uses it on a worker started with allowInsecureAgents (it tries, and finds no agent)', async () => {
    const result = await install(queues.lab, { insecure: true });
    expect(result).toMatchObject({ outcome: 'failed', failure: { type: 'AgentUnreachable' } });
  });

  it('refuses TLS references outside the secrets directory, naming the reference', async () => {
    const result = await install(queues.lab, { certRef: 'file:/etc/passwd', keyRef: `file:${dir}/../key.pem`, caRef: 'env:PATH' });
    expect(result).toMatchObject({ outcome: 'failed', failure: { type: 'SecretRefused' } });
    expect(result.failure?.message).toContain('file:/etc/passwd');
    expect(result.failure?.message).not.toContain('root:');
  });
});
