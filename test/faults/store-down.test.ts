/**
 * The attachment database unavailable during compensation (see test/faults/README.md): the compensation is
 * retried until the database is back, never skipped, and then the store holds exactly the rows it held
 * before the install.
 *
 * A real outage: the store is a throwaway PostgreSQL server (testbed/postgres.ts), stopped once the install
 * has recorded its intent and applied, and started again on the same data while the compensation keeps
 * failing. The install fails after the apply because the BMC refuses the password, which makes it compensate.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgentLab, type AgentLab } from '../../testbed/agent-lab';
import { findPostgresBinDir, startThrowawayPostgres, type ThrowawayPostgres } from '../../testbed/postgres';
import { testbedUnavailableReason } from '../../testbed/requirements';
import { startOrAttachInstall } from '../../workflow-client/install-host';
import { pendingActivities, seedStaleAttachment, waitUntil } from '../helpers/fault-injection';
import { createInstallHarness, type InstallHarness } from '../helpers/install-harness';
import { skipBecause } from '../helpers/skip';
import { unavailableReason } from '../helpers/temporal';

const postgresReason =
  process.env.HOSTPROV_TEST_POSTGRES === 'off'
    ? 'HOSTPROV_TEST_POSTGRES=off'
    : findPostgresBinDir()
      ? null
      : 'no PostgreSQL server installed';
const reason = unavailableReason() ?? (await testbedUnavailableReason()) ?? postgresReason;

describe.skipIf(skipBecause(reason, 'store outage fault test'))('the attachment database unavailable during compensation', () => {
  let postgres: ThrowawayPostgres;
  let harness: InstallHarness;
  let lab: AgentLab;
  const dir = mkdtempSync(join(tmpdir(), 'hostprov-faults-store-'));

  beforeAll(async () => {
    postgres = await startThrowawayPostgres();
    harness = await createInstallHarness({ secretsDir: dir, database: await postgres.createDatabase('faults_store_down') });
    lab = await createAgentLab({ stateDir: join(dir, 'lab'), hosts: [{ name: 'db1' }, { name: 'db2' }] });
    await lab.waitForAgents();
  });
  afterAll(async () => {
    await lab?.destroy();
    await harness?.close();
    await postgres?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('retries the compensation until the database is back, then restores the rows exactly', async () => {
    const base = lab.installRequest('db1');
    const wrongPassword = join(dir, 'db1-wrong-password');
    writeFileSync(wrongPassword, 'not-the-bmc-password', { mode: 0o600 });
    const request = {
      ...base,
      powerManagement: { ...base.powerManagement!, passwordRef: `file:${wrongPassword}` },
      policy: { connectivityTimeoutSeconds: 30, reboot: true, commitMode: 'auto' as const, agentWaitSeconds: 30 },
    };
    const before = await seedStaleAttachment(harness.store, request.host.id);

    const { handle } = await startOrAttachInstall(harness.client, request, { taskQueue: harness.taskQueue });
    // The intent is recorded before the apply: from the apply on, the database may go.
    await waitUntil('the host to apply', () => lab.journal('db1').some((e) => e.kind === 'apply'));
    await postgres.halt();
    const failing = await waitUntil('the compensation to have failed twice on the missing database', async () => {
      const [pending] = await pendingActivities(handle);
      return pending?.type === 'compensateAttachments' && pending.attempt >= 3 ? pending : undefined;
    });
    expect(failing.lastFailure).not.toBe('');
    await postgres.resume();
    const result = await handle.result();

    expect(result.outcome, JSON.stringify(result, null, 2)).toBe('failed');
    expect(result.failure?.type).toBe('FenceFailed');
    expect(result.compensation).toEqual({ status: 'done', failure: null });
    expect(result.steps.at(-1)).toMatchObject({ name: 'compensate-attachments', status: 'ok' });
    expect(await harness.store.attachments.listByHost(request.host.id)).toEqual(before);
    const started = (await handle.fetchHistory()).events?.filter((e) => e.activityTaskStartedEventAttributes) ?? [];
    expect(started.at(-1)?.activityTaskStartedEventAttributes?.attempt).toBeGreaterThanOrEqual(3);
  });
});
