/**
 * A host's monitoring through the real bin/hostprov on the real Temporal dev server, with a worker on the
 * SQLite store and a host that is a network namespace running our agent: `hosts activate` and `hosts
 * maintenance` (the refresh Schedule and the event watch go with the host, each command repeatable), `hosts
 * remove` (which deletes the Schedule and stops the watch before it forgets the host),
 * `host-networks schedule` (show and change; bad flags exit 2 and change nothing), and `host-networks sync`
 * of a network made to drift with `ip` in the host's namespace, after which `host-networks status` says it is
 * in sync. The Schedule and the watch are read back with the Temporal client, not only from the CLI's answer.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { RefreshHostNetworksResult } from '../../model/refresh/contract';
import { refreshPhaseSeconds } from '../../model/refresh/schedule-phase';
import { SyncHostNetworksResult } from '../../model/refresh/sync';
import { DEFAULT_STORE_FILE } from '../../store/open';
import { createAgentLab, type AgentLab } from '../../testbed/agent-lab';
import { Netns, uniqueToken } from '../../testbed/netns';
import { testbedUnavailableReason } from '../../testbed/requirements';
import { AgentClient } from '../../vdsm/client/client';
import { activateHost, putHostInMaintenance, removeHostMonitoring } from '../../workflow-client/host-lifecycle';
import { eventWatchWorkflowId, refreshHostNetworksNow } from '../../workflow-client/refresh';
import { deleteHostRefreshSchedule, describeHostRefreshSchedule } from '../../workflow-client/schedules';
import { createInstallHarness, type InstallHarness } from '../helpers/install-harness';
import { jsonOutput, runHostprov, type HostprovExit } from '../helpers/hostprov-process';
import { skipBecause } from '../helpers/skip';
import { unavailableReason } from '../helpers/temporal';

const reason = unavailableReason() ?? (await testbedUnavailableReason());

/** Each bin/hostprov start costs seconds on a loaded machine. */
const TIMEOUT_MS = 600_000;

/** The commands that start workflows (and so take `--task-queue`). */
const STARTS_WORKFLOWS = new Set(['activate', 'maintenance', 'sync']);

const ScheduleState = z
  .object({
    scheduleId: z.string(),
    intervalSeconds: z.number().nullable(),
    offsetSeconds: z.number().nullable(),
    nextRunAt: z.string().datetime().nullable(),
    paused: z.boolean(),
    note: z.string().nullable(),
    actions: z.number(),
  })
  .strict();
const MonitoringState = z
  .object({
    hostId: z.string(),
    state: z.enum(['active', 'maintenance', 'unmonitored', 'partial']),
    schedule: ScheduleState.nullable(),
    watch: z.object({ workflowId: z.string(), running: z.boolean(), status: z.string().nullable() }).strict(),
  })
  .strict();

function expectExit(run: HostprovExit, code: number, stderr: RegExp): void {
  expect(run.code, `${run.stderr}\n${run.stdout}`).toBe(code);
  expect(run.stderr).toMatch(stderr);
  expect(run.stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace
}

describe.skipIf(skipBecause(reason, 'the host lifecycle commands'))(
  'hostprov hosts activate|maintenance, host-networks schedule|sync',
  () => {
    let harness: InstallHarness;
    let lab: AgentLab;
    let agent: AgentClient;
    let ns: Netns;
    let database = '';
    const dir = mkdtempSync(join(tmpdir(), 'hostprov-cli-lifecycle-'));
    const hostId = `lc-${uniqueToken()}`;
    const idleHostId = `lc-idle-${uniqueToken()}`;
    const removedHostId = `lc-rm-${uniqueToken()}`;

    const hostprov = (...args: string[]) =>
      runHostprov([
        ...args,
        '--database',
        database,
        '--address',
        harness.target.address,
        '--namespace',
        harness.target.namespace,
        ...(STARTS_WORKFLOWS.has(args[1]!) ? ['--task-queue', harness.taskQueue] : []),
        '--no-payload-encryption',
      ]);
    const schedule = () => describeHostRefreshSchedule(harness.client, hostId);
    const watch = () => harness.client.workflow.getHandle(eventWatchWorkflowId(hostId)).describe();

    beforeAll(async () => {
      harness = await createInstallHarness({ secretsDir: dir });
      database = join(harness.dir, DEFAULT_STORE_FILE);
      lab = await createAgentLab({ stateDir: dir, hosts: [{ name: 'lc', nics: 3 }], tls: false });
      // Setup, not an assertion: agents boot slowly on a loaded machine.
      await lab.waitForAgents(180_000);
      const host = lab.testbed.host('lc');
      ns = Netns.attach(host.namespace);
      agent = await AgentClient.connect({ host: host.address, tls: { insecure: true } });
      const { store } = harness;
      const mgmt = await store.networks.create({ name: `m-${hostId}`.slice(0, 15) });
      const data = await store.networks.create({ name: 'lcdata', mtu: 1500 });
      const cluster = await store.clusters.create({ name: `c-${hostId}`, compatibilityVersion: '4.8', managementNetworkId: mgmt.id });
      await store.clusters.attachNetwork(cluster.id, data.id, { required: false });
      const agentEndpoint = { host: host.address, port: 54321, tls: { insecure: true as const } };
      await store.hosts.create({ id: hostId, name: hostId, clusterId: cluster.id, agentEndpoint });
      await store.hosts.create({ id: idleHostId, name: idleHostId, clusterId: cluster.id, agentEndpoint });
      await store.hosts.create({ id: removedHostId, name: removedHostId, clusterId: cluster.id, agentEndpoint });
      // lcdata on eth1, put there as another manager would; a refresh records its attachment.
      const setup = await agent.call(
        'Host.setupNetworks',
        {
          networks: { lcdata: { nic: 'eth1', bridged: 'true', bootproto: 'none', ipaddr: '10.78.0.2', netmask: '255.255.255.0' } },
          bondings: {},
          options: { connectivityCheck: 'false' },
        },
        { timeoutMs: 60_000 },
      );
      expect(setup).toMatchObject({ code: 0 });
      const refreshed = await refreshHostNetworksNow(harness.client, hostId, { taskQueue: harness.taskQueue });
      expect(refreshed.actions).toEqual([expect.objectContaining({ kind: 'created', networkName: 'lcdata', toNic: 'eth1' })]);
    }, 240_000);

    afterAll(async () => {
      for (const id of [hostId, idleHostId, removedHostId]) {
        await deleteHostRefreshSchedule(harness.client, id).catch(() => undefined);
        await harness?.client.workflow
          .getHandle(eventWatchWorkflowId(id))
          .terminate('test done')
          .catch(() => undefined);
      }
      await agent?.close();
      await lab?.destroy();
      await harness?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it(
      'activate creates the schedule and the watch; maintenance pauses with the reason and stops the watch; each repeatable',
      async () => {
        // activate: a new schedule at the interval asked for, unpaused, and a running watch
        const activated = MonitoringState.parse(
          jsonOutput(await hostprov('hosts', 'activate', hostId, '--refresh-every', '3600', '--json'), z.unknown()),
        );
        expect(activated).toMatchObject({ state: 'active', schedule: { intervalSeconds: 3600, paused: false }, watch: { running: true } });
        expect(await schedule()).toMatchObject({ intervalSeconds: 3600, paused: false });
        const firstWatch = await watch();
        expect(firstWatch.status.name).toBe('RUNNING');

        // again, by name and without an interval: the interval is kept and the same watch run goes on
        const again = await hostprov('hosts', 'activate', hostId);
        expect(again.code, again.stderr).toBe(0);
        expect(again.stdout).toMatch(/monitoring: +active/);
        expect(again.stdout).toMatch(/refresh schedule: +every 3600s, running/);
        expect(await schedule()).toMatchObject({ intervalSeconds: 3600, paused: false });
        expect((await watch()).runId).toBe(firstWatch.runId);

        // maintenance: paused with the reason as the note; the watch ends cancelled, not failed
        const maintenance = MonitoringState.parse(
          jsonOutput(await hostprov('hosts', 'maintenance', hostId, '--reason', 'replacing a disk', '--json'), z.unknown()),
        );
        expect(maintenance).toMatchObject({
          state: 'maintenance',
          schedule: { paused: true, note: 'replacing a disk' },
          watch: { running: false, status: 'CANCELLED' },
        });
        expect(await schedule()).toMatchObject({ paused: true, note: 'replacing a disk', intervalSeconds: 3600 });
        const stopped = await watch();
        expect(stopped.runId).toBe(firstWatch.runId);
        expect(stopped.status.name).toBe('CANCELLED');

        // maintenance again: nothing changes, exit 0
        const twice = await hostprov('hosts', 'maintenance', hostId, '--reason', 'replacing a disk');
        expect(twice.code, twice.stderr).toBe(0);
        expect(twice.stdout).toMatch(/refresh schedule: +every 3600s, paused: replacing a disk/);
        expect((await watch()).runId).toBe(firstWatch.runId);

        // bad input and an unknown host change nothing
        const before = await schedule();
        const bad = await Promise.all([
          hostprov('hosts', 'activate', hostId, '--refresh-every', '5'),
          hostprov('hosts', 'activate', hostId, '--refresh-every', 'often'),
          hostprov('hosts', 'maintenance', hostId, '--reason', ' '),
          hostprov('hosts', 'activate', `nobody-${uniqueToken()}`),
        ]);
        expectExit(bad[0]!, 2, /--refresh-every: 10 to 604800 seconds/);
        expectExit(bad[1]!, 2, /--refresh-every: a whole number of seconds/);
        expectExit(bad[2]!, 2, /--reason: a reason says something/);
        expectExit(bad[3]!, 4, /host nobody-\S+ does not exist/);
        expect(await schedule()).toEqual(before);
        expect((await watch()).status.name).toBe('CANCELLED');

        // activate again: resumed, with the new interval, and a new watch run
        const resumed = MonitoringState.parse(
          jsonOutput(await hostprov('hosts', 'activate', hostId, '--refresh-every', '7200', '--json'), z.unknown()),
        );
        expect(resumed).toMatchObject({ state: 'active', schedule: { intervalSeconds: 7200, paused: false }, watch: { running: true } });
        expect(await schedule()).toMatchObject({ intervalSeconds: 7200, paused: false });
        const newWatch = await watch();
        expect(newWatch.status.name).toBe('RUNNING');
        expect(newWatch.runId).not.toBe(firstWatch.runId);

        // hosts get --monitoring shows it
        const got = jsonOutput(
          await hostprov('hosts', 'get', hostId, '--monitoring', '--json'),
          z.object({ id: z.string(), monitoring: MonitoringState }).passthrough(),
        );
        expect(got).toMatchObject({ id: hostId, monitoring: { state: 'active', schedule: { intervalSeconds: 7200 } } });
      },
      TIMEOUT_MS,
    );

    it(
      'host-networks schedule shows and changes the schedule; bad flags exit 2 and change nothing; a host without one is told so',
      async () => {
        const shown = await hostprov('host-networks', 'schedule', hostId);
        expect(shown.code, shown.stderr).toBe(0);
        const phase = refreshPhaseSeconds(hostId, 7200);
        expect(shown.stdout).toMatch(
          new RegExp(
            `refresh schedule: +every 7200s, running \\(${phase}s into each interval; next \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z; \\d+ run\\(s\\) so far\\)`,
          ),
        );
        expect(shown.stdout).toMatch(/event watch: +running/);

        const every = MonitoringState.parse(
          jsonOutput(await hostprov('host-networks', 'schedule', hostId, '--every', '900', '--json'), z.unknown()),
        );
        expect(every.schedule).toMatchObject({ intervalSeconds: 900, paused: false });
        const paused = MonitoringState.parse(
          jsonOutput(await hostprov('host-networks', 'schedule', hostId, '--pause', '--reason', 'quiet night', '--json'), z.unknown()),
        );
        // only the schedule pauses; the watch goes on (maintenance stops both)
        expect(paused).toMatchObject({
          state: 'partial',
          schedule: { intervalSeconds: 900, paused: true, note: 'quiet night' },
          watch: { running: true },
        });
        expect(await schedule()).toMatchObject({ intervalSeconds: 900, paused: true, note: 'quiet night' });

        const before = await schedule();
        const bad = await Promise.all([
          hostprov('host-networks', 'schedule', hostId, '--every', 'soon'),
          hostprov('host-networks', 'schedule', hostId, '--every', '1000000'),
          hostprov('host-networks', 'schedule', hostId, '--pause', '--resume'),
          hostprov('host-networks', 'schedule', hostId, '--reason', 'why not', '--every', '60'),
        ]);
        expectExit(bad[0]!, 2, /--every: a whole number of seconds/);
        expectExit(bad[1]!, 2, /--every: 10 to 604800 seconds/);
        expectExit(bad[2]!, 2, /--pause and --resume contradict each other/);
        expectExit(bad[3]!, 2, /--reason: a reason goes with --pause/);
        expect(await schedule()).toEqual(before);

        const resumed = MonitoringState.parse(
          jsonOutput(await hostprov('host-networks', 'schedule', hostId, '--resume', '--json'), z.unknown()),
        );
        expect(resumed).toMatchObject({ state: 'active', schedule: { intervalSeconds: 900, paused: false } });

        const [idle, idleChange] = await Promise.all([
          hostprov('host-networks', 'schedule', idleHostId),
          hostprov('host-networks', 'schedule', idleHostId, '--every', '60'),
        ]);
        expect(idle.code, idle.stderr).toBe(0);
        expect(idle.stdout).toMatch(/monitoring: +unmonitored/);
        expect(idle.stdout).toContain(`host ${idleHostId} has no refresh schedule: \`hostprov hosts activate ${idleHostId}\` creates one`);
        expectExit(idleChange, 4, /has no refresh schedule; `hostprov hosts activate \S+` creates one\. Nothing was changed/);
        expect(await describeHostRefreshSchedule(harness.client, idleHostId)).toBeNull();
      },
      TIMEOUT_MS,
    );

    it(
      'maintenance terminates a watch that no worker runs, after its cancellation went unanswered',
      async () => {
        // a task queue nobody polls: the watch is started but no worker ever runs it
        const nobody = `nobody-${uniqueToken()}`;
        const activated = await activateHost(harness.client, { hostId: idleHostId, intervalSeconds: 3600, taskQueue: nobody });
        expect(activated).toMatchObject({ state: 'active', watch: { running: true } });
        const stopped = await putHostInMaintenance(harness.client, { hostId: idleHostId, reason: 'no worker', watchStopTimeoutMs: 2000 });
        expect(stopped).toMatchObject({
          state: 'maintenance',
          schedule: { paused: true, note: 'no worker' },
          watch: { running: false, status: 'TERMINATED' },
        });
      },
      TIMEOUT_MS,
    );

    it(
      'remove deletes the schedule and stops the watch, then forgets the host; Temporal out of reach or no such host changes nothing',
      async () => {
        // The host shares the agent: its watch may queue a refresh on any event, so its lcdata attachment is
        // recorded first and the count the command prints does not depend on when one comes.
        const recorded = await refreshHostNetworksNow(harness.client, removedHostId, { taskQueue: harness.taskQueue });
        expect(recorded.actions).toEqual([expect.objectContaining({ kind: 'created', networkName: 'lcdata', toNic: 'eth1' })]);
        const activated = await activateHost(harness.client, {
          hostId: removedHostId,
          intervalSeconds: 3600,
          taskQueue: harness.taskQueue,
        });
        expect(activated).toMatchObject({ state: 'active', watch: { running: true } });
        const watchOf = () => harness.client.workflow.getHandle(eventWatchWorkflowId(removedHostId)).describe();
        const runId = (await watchOf()).runId;

        // Temporal out of reach: exit 1, the host, its schedule and its watch stay (a retry finds it again)
        const unreachable = await runHostprov([
          'hosts',
          'remove',
          removedHostId,
          '--database',
          database,
          '--address',
          '127.0.0.1:1',
          '--no-payload-encryption',
        ]);
        expect(unreachable.code, unreachable.stderr).toBe(1);
        expect(unreachable.stderr).toMatch(/Failed to connect before the deadline/);
        expect(await harness.store.hosts.get(removedHostId)).not.toBeNull();
        expect(await harness.store.attachments.listByHost(removedHostId)).toHaveLength(1);
        expect(await describeHostRefreshSchedule(harness.client, removedHostId)).toMatchObject({ paused: false });
        expect((await watchOf()).status.name).toBe('RUNNING');

        const removed = await hostprov('hosts', 'remove', removedHostId);
        expect(removed.code, removed.stderr).toBe(0);
        expect(removed.stdout).toBe(
          `removed host ${removedHostId} (${removedHostId}) and its 1 attachment(s)\nrefresh schedule: deleted, event watch: stopped\n`,
        );
        expect(await harness.store.hosts.get(removedHostId)).toBeNull();
        expect(await harness.store.attachments.listByHost(removedHostId)).toEqual([]);
        expect(await describeHostRefreshSchedule(harness.client, removedHostId)).toBeNull();
        const stopped = await watchOf();
        expect(stopped.runId).toBe(runId);
        expect(stopped.status.name).toBe('CANCELLED');

        // again: the store no longer knows the host (exit 4), and Temporal is not asked
        expectExit(await hostprov('hosts', 'remove', removedHostId), 4, new RegExp(`host ${removedHostId} does not exist`));

        // the Temporal side alone is idempotent, and ends a watch no worker runs by terminating it
        expect(await removeHostMonitoring(harness.client, { hostId: removedHostId })).toEqual({
          hostId: removedHostId,
          scheduleDeleted: false,
          watchStopped: false,
        });
        await activateHost(harness.client, { hostId: removedHostId, intervalSeconds: 3600, taskQueue: `nobody-${uniqueToken()}` });
        expect(await removeHostMonitoring(harness.client, { hostId: removedHostId, watchStopTimeoutMs: 2000 })).toEqual({
          hostId: removedHostId,
          scheduleDeleted: true,
          watchStopped: true,
        });
        expect(await describeHostRefreshSchedule(harness.client, removedHostId)).toBeNull();
        expect((await watchOf()).status.name).toBe('TERMINATED');
      },
      TIMEOUT_MS,
    );

    it(
      'host-networks sync re-sends a network made to drift with ip, and status then says it is in sync',
      async () => {
        await ns.ip(['link', 'set', 'eth1', 'mtu', '1400']);
        await ns.ip(['link', 'set', 'lcdata', 'mtu', '1400']);
        const [missing, synced] = [
          await hostprov('host-networks', 'sync', hostId, '--network', 'nowhere'),
          await hostprov('host-networks', 'sync', hostId, '--json'),
        ];
        expectExit(missing, 4, new RegExp(`host ${hostId} has no attachment of network nowhere; nothing was changed`));
        const result = jsonOutput(synced, SyncHostNetworksResult);
        expect(result.outcome, JSON.stringify(result, null, 2)).toBe('synced');
        const attachment = (await harness.store.attachments.listByHost(hostId)).find((a) => a.networkName === 'lcdata');
        expect(result.attachmentIds).toEqual([attachment?.id]);
        const drift = result.before.sync?.attachments.find((a) => a.networkName === 'lcdata');
        expect(drift?.differences.map(({ property, desired, reported }) => ({ property, desired, reported }))).toEqual([
          { property: 'MTU', desired: 1500, reported: 1400 },
        ]);
        expect(result.after?.sync?.state).toBe('in-sync');
        const links = await ns.ipJson<Array<{ mtu: number }>>(['link', 'show', 'lcdata']);
        expect(links[0]?.mtu).toBe(1500);

        const status = await runHostprov(['host-networks', 'status', hostId, '--database', database]);
        expect(status.code, status.stderr).toBe(0);
        expect(status.stdout).toContain('network sync: in-sync');

        // nothing drifts now: the text says so and exits 0; a named network is re-sent even in sync
        const [nothing, named] = [
          await hostprov('host-networks', 'sync', hostId),
          await hostprov('host-networks', 'sync', hostId, '--network', 'lcdata'),
        ];
        expect(nothing.code, nothing.stderr).toBe(0);
        expect(nothing.stdout).toMatch(new RegExp(`^host ${hostId}: nothing-to-sync\\n`));
        expect(nothing.stdout).toContain('network sync: in-sync');
        expect(named.code, named.stderr).toBe(0);
        expect(named.stdout).toMatch(new RegExp(`^host ${hostId}: synced\\nre-sent:\\n  lcdata \\(${attachment?.id}\\): was in-sync\\n`));
        expect(named.stdout).toContain('setup: configured');
        RefreshHostNetworksResult.parse(result.after);
      },
      TIMEOUT_MS,
    );
  },
);
