/**
 * Every recorded history under test/histories/** replays against today's workflow code. A change that
 * breaks determinism for any of them fails here, and every failing history is reported, not only the first.
 * Histories are recorded by the integration tests (HOSTPROV_RECORD_HISTORIES=1, see README).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { temporalTarget, unavailableReason } from '../helpers/temporal';
import { skipBecause } from '../helpers/skip';
import { discardedInstallMetrics } from '../../worker/metrics';

const HISTORIES = fileURLToPath(new URL('../histories', import.meta.url));
const WORKFLOWS = fileURLToPath(new URL('../../workflows', import.meta.url));

function historyFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? historyFiles(path) : name.endsWith('.json') ? [path] : [];
  });
}

describe.skipIf(skipBecause(unavailableReason(), 'history replay (needs the workflow bundle)'))('recorded workflow histories', () => {
  const files = historyFiles(HISTORIES).sort();

  it('exist for every install-host outcome and compensation path', () => {
    const outcomes = files.map((f) => relative(HISTORIES, f));
    // failed-after-apply: a step after setupNetworks fails and the saga compensates. compensation-failed: that
    // compensation fails too (before v3 it failed the execution; since, it is recorded beside the outcome).
    for (const outcome of [
      'configured',
      'already-configured',
      'skipped-no-route',
      'rolled-back',
      'failed',
      'failed-after-apply',
      'compensation-failed',
    ]) {
      expect(
        outcomes.some((f) => f.startsWith('install-host/') && f.endsWith(`/${outcome}.json`)),
        `a history for outcome ${outcome}`,
      ).toBe(true);
    }
  });

  it('exist for every hostSetupNetworks outcome, and for the per-host entity workflow', () => {
    const outcomes = files.map((f) => relative(HISTORIES, f));
    for (const outcome of ['configured', 'no-op', 'invalid', 'rolled-back', 'failed']) {
      expect(
        outcomes.some((f) => f.startsWith('host-setup-networks/') && f.endsWith(`/${outcome}.json`)),
        `a hostSetupNetworks history for outcome ${outcome}`,
      ).toBe(true);
    }
    expect(
      outcomes.some((f) => f.startsWith('host-networks/') && f.endsWith('/serialized.json')),
      'a hostNetworks history serializing changes',
    ).toBe(true);
    // The refresh after a configured change (patch `refresh-after-apply`): a refreshHostNetworks child.
    expect(
      files.some(
        (f) => relative(HISTORIES, f).startsWith('host-networks/') && /"name": "refreshHostNetworks"/.test(readFileSync(f, 'utf8')),
      ),
      'a hostNetworks history that refreshes its host after a configured change',
    ).toBe(true);
  });

  it('exist for refreshHostNetworks: attachments created, moved and dropped, drift, unmanaged networks', () => {
    const recorded = files.map((f) => relative(HISTORIES, f));
    for (const name of ['created-and-unmanaged', 'drift', 'moved', 'bridge-removed', 'nic-vanished']) {
      expect(
        recorded.some((f) => f.startsWith('refresh-host-networks/') && f.endsWith(`/${name}.json`)),
        `a refresh history ${name}`,
      ).toBe(true);
    }
  });

  it('exist for the host event watch: an event that queues a refresh, then cancelled; a watch moved after an upgrade; resubscriptions', () => {
    const recorded = files.map((f) => relative(HISTORIES, f));
    expect(
      recorded.some((f) => f.startsWith('host-event-watch/') && f.endsWith('/dhcp-lease-event.json')),
      'a watch history of a DHCP lease event',
    ).toBe(true);
    expect(
      recorded.some((f) => f.startsWith('host-event-watch/') && f.endsWith('/moved-after-upgrade.json')),
      'a watch history that moves from the worker queue to its own',
    ).toBe(true);
    expect(
      recorded.some((f) => f.startsWith('host-event-watch/') && f.endsWith('/resubscribed-after-gaps.json')),
      'a watch history that refreshes after a lost worker and after a reboot',
    ).toBe(true);
  });

  it('exist with every patch a workflow asks: each patched() id is a marker in some recorded history', () => {
    // A new execution of a patch asked only behind a later one never records it: those are listed, with the
    // history that covers the path before them.
    const neverRecordedByNewExecutions: Record<string, string> = {
      // Asked only when `probe-asks-first-one-marker` is absent; its path before the rule is recorded as
      // install-host/v7-agent-asked-first/vm-network-on-balance-rr-before-the-rule.
      'devise-refuses-vm-network-on-forbidden-bond-mode': 'vm-network-on-balance-rr-before-the-rule.json',
    };
    const asked = new Set<string>();
    for (const name of readdirSync(WORKFLOWS).filter((n) => n.endsWith('.ts'))) {
      const source = readFileSync(join(WORKFLOWS, name), 'utf8');
      const constants = new Map([...source.matchAll(/const ([A-Z_]+) = '([a-z0-9-]+)'/g)].map((m) => [m[1]!, m[2]!]));
      for (const [, id] of source.matchAll(/patched\(([A-Z_]+)\)/g)) {
        expect(constants.has(id!), `${name}: patched(${id}) names a string constant of the same file`).toBe(true);
        asked.add(constants.get(id!)!);
      }
    }
    expect(asked.size).toBeGreaterThanOrEqual(12);
    const recorded = new Set<string>();
    for (const file of files) {
      const history = JSON.parse(readFileSync(file, 'utf8')) as {
        events: Array<{
          markerRecordedEventAttributes?: { markerName?: string; details?: Record<string, { payloads?: Array<{ data?: string }> }> };
        }>;
      };
      for (const event of history.events) {
        const marker = event.markerRecordedEventAttributes;
        const data = marker?.markerName === 'core_patch' ? marker.details?.['patch-data']?.payloads?.[0]?.data : undefined;
        if (data) recorded.add((JSON.parse(Buffer.from(data, 'base64').toString('utf8')) as { id: string }).id);
      }
    }
    const missing = [...asked].filter((id) => !recorded.has(id) && !(id in neverRecordedByNewExecutions)).sort();
    expect(missing, 'patch ids without a recorded history').toEqual([]);
    for (const covering of Object.values(neverRecordedByNewExecutions)) {
      expect(
        files.some((f) => f.endsWith(`/${covering}`)),
        covering,
      ).toBe(true);
    }
  });

  it('all replay without nondeterminism', async () => {
    const target = temporalTarget();
    if ('unavailable' in target) throw new Error(target.unavailable);
    const histories = files.map((file) => ({
      workflowId: relative(HISTORIES, file),
      history: JSON.parse(readFileSync(file, 'utf8')) as unknown,
    }));
    const failures: string[] = [];
    let replayed = 0;
    for await (const result of Worker.runReplayHistories(
      { workflowBundle: { codePath: target.workflowBundlePath }, sinks: discardedInstallMetrics() },
      histories,
    )) {
      replayed += 1;
      if (result.error) failures.push(`${result.workflowId}: ${result.error.name}: ${result.error.message}`);
    }
    expect(replayed).toBe(files.length);
    expect(failures).toEqual([]);
  });

  it('catch a history the code no longer matches, and name it', async () => {
    // The guard above is only worth something if it can fail: the recorded configured install, with its
    // first activity renamed as if the workflow had once called something else.
    const target = temporalTarget();
    if ('unavailable' in target) throw new Error(target.unavailable);
    const file = files.find((f) => f.endsWith('/v2-activity-summaries/configured.json'));
    expect(file).toBeDefined();
    const history = JSON.parse(readFileSync(file!, 'utf8')) as {
      events: Array<{ activityTaskScheduledEventAttributes?: { activityType: { name: string } } }>;
    };
    const scheduled = history.events.find((e) => e.activityTaskScheduledEventAttributes);
    scheduled!.activityTaskScheduledEventAttributes!.activityType.name = 'someActivityThatNeverExisted';
    const results = [];
    for await (const result of Worker.runReplayHistories(
      { workflowBundle: { codePath: target.workflowBundlePath }, sinks: discardedInstallMetrics() },
      [{ workflowId: 'tampered', history }],
    ))
      results.push(result);
    expect(results).toHaveLength(1);
    expect(results[0]?.workflowId).toBe('tampered');
    expect(results[0]?.error?.name).toBe('DeterminismViolationError');
  });
});
