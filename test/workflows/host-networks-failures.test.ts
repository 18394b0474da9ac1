/**
 * How the per-host entity workflow reports a change whose child failed outright: by the type and message of
 * the typed failure the child's activity raised, not by the wrappers around it. The real dev server, a
 * worker on the SQLite store, and changes for a host the store does not know: the refresh's (and the
 * sync's) first activity refuses with `StoreNotFoundError`, whose own cause, the store's error, reaches
 * the workflow as a bare `TemporalFailure`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FailureType } from '../../model/failures';
import { SYNC_CONTRACT_VERSION } from '../../model/refresh/sync';
import { uniqueToken } from '../../testbed/netns';
import { refreshHostNetworksNow, syncHostNetworksNow } from '../../workflow-client/refresh';
import { createInstallHarness, type InstallHarness } from '../helpers/install-harness';
import { skipBecause } from '../helpers/skip';
import { unavailableReason } from '../helpers/temporal';

const reason = unavailableReason();

/** The failure the caller of the entity's Update sees: its type and message. */
async function updateFailure(request: Promise<unknown>): Promise<{ type: string | undefined; message: string }> {
  const err = await request.then(
    () => {
      throw new Error('the change succeeded');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
  const cause = (err as WorkflowUpdateFailedError).cause;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  return { type: (cause as ApplicationFailure).type ?? undefined, message: (cause as ApplicationFailure).message };
}

describe.skipIf(skipBecause(reason, 'entity workflow failure tests'))(
  'the entity workflow reports a failed child by its typed failure',
  () => {
    let harness: InstallHarness;
    const dir = mkdtempSync(join(tmpdir(), 'hostprov-entity-failures-'));

    beforeAll(async () => {
      harness = await createInstallHarness({ secretsDir: dir });
    });
    afterAll(async () => {
      await harness?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('a refresh of a host the store does not know: StoreNotFoundError, with the store’s message', async () => {
      const hostId = `nobody-${uniqueToken()}`;
      const failure = await updateFailure(refreshHostNetworksNow(harness.client, hostId, { taskQueue: harness.taskQueue }));
      expect(failure.type).toBe(FailureType.STORE_NOT_FOUND);
      expect(failure.message).toMatch(
        new RegExp(`^refresh \\S+ on ${hostId} failed: loading the refresh context: host ${hostId} does not exist`),
      );
    });

    it('a sync of a host the store does not know: the same', async () => {
      const hostId = `nobody-${uniqueToken()}`;
      const failure = await updateFailure(
        syncHostNetworksNow(harness.client, { version: SYNC_CONTRACT_VERSION, hostId }, { taskQueue: harness.taskQueue }),
      );
      expect(failure.type).toBe(FailureType.STORE_NOT_FOUND);
      expect(failure.message).toMatch(new RegExp(`host ${hostId} does not exist`));
    });
  },
);
