/**
 * `hostprov demo`: the main job on the embedded default. Builds a testbed (manager side, two namespaced
 * hosts running the agent over mutual TLS, an ipmi_sim BMC each), starts the Temporal dev server and a
 * worker, installs ovirtmgmt on host1 with the fence-reboot through host2, prints every step, the result
 * and the Web UI link, and cleans up (unless --keep). Safe to run again; leftovers of an interrupted run
 * are removed first.
 */
import { existsSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { Command } from 'commander';
import { z } from 'zod';
import { followInstall, startOrAttachInstall, webUiLink } from '../../client/install-host';
import { getLogger } from '../../lib/logger';
import { DEFAULT_DATA_DIR } from '../../lib/paths';
import { freePort } from '../../lib/ports';
import { startDevServer } from '../../lib/temporal/dev-server';
import { createAgentLab } from '../../testbed/agent-lab';
import { destroyTestbed } from '../../testbed/teardown';
import { readDescription } from '../../testbed/description';
import { testbedUnavailableReason } from '../../testbed/requirements';
import { startWorker } from '../../worker/main';
import { UsageError } from '../usage-error';
import { waitForStopSignal } from '../signals';
import { EXIT_CODES, formatResult, formatStep } from './install-host';

const Flags = z.object({ dataDir: z.string().min(1), keep: z.boolean().default(false), dhcp: z.boolean().default(false) });

const say = (line: string): void => void process.stdout.write(`${line}\n`);

export function register(program: Command): void {
  program
    .command('demo')
    .description('Build a namespaced testbed, start Temporal + a worker, install ovirtmgmt on a host end to end, clean up')
    .option('--data-dir <dir>', 'where the demo keeps its testbed and Temporal data', join(DEFAULT_DATA_DIR, 'demo'))
    .option('--keep', 'leave the stack and testbed running until Ctrl-C (to browse the Web UI)')
    .option('--dhcp', 'give host1 a DHCP factory configuration instead of a static one')
    .action(async (raw: Record<string, unknown>) => {
      const flags = Flags.parse(raw);
      const reason = await testbedUnavailableReason();
      if (reason) throw new UsageError(`the demo builds network namespaces and cannot run here: ${reason}`);
      const log = getLogger('demo');
      const dataDir = resolve(flags.dataDir);
      const labDir = join(dataDir, 'lab');
      await removeLeftovers(labDir);

      say('hostprov demo: building the testbed (switch, manager side, 2 hosts with agents over mutual TLS, ipmi_sim BMCs)...');
      const lab = await createAgentLab({ stateDir: labDir, hosts: [{ name: 'host1', ...(flags.dhcp ? { factory: 'dhcp' as const } : {}) }, { name: 'host2' }] });
      let server: Awaited<ReturnType<typeof startDevServer>> | undefined;
      let worker: Awaited<ReturnType<typeof startWorker>> | undefined;
      try {
        await lab.waitForAgents();
        for (const h of lab.testbed.hosts) say(`  ${h.name}: ${h.address} (namespace ${h.namespace}), BMC ${h.bmc.address}:${h.bmc.port}`);
        say(`  manager address: ${lab.testbed.manager.address}`);

        say('starting Temporal (dev server, SQLite, Web UI) and a worker...');
        const port = await freePort();
        server = await startDevServer({ dataDir: join(dataDir, 'temporal'), port, httpPort: await freePort(), metricsPort: await freePort(), uiPort: await freePort() }, log);
        // The lab's references (PKI, BMC passwords) live under its directory.
        worker = await startWorker({ address: server.address, namespace: server.namespace, dataDir: join(dataDir, 'worker'), secrets: { secretsDir: labDir }, allowInsecureAgents: true, log: getLogger('worker') });
        say(`  Temporal ${server.address}, Web UI ${server.uiUrl}`);

        const client = new Client({ namespace: server.namespace, connection: await Connection.connect({ address: server.address }) });
        const request = lab.installRequest('host1');
        say(`installing ovirtmgmt on host1 (fence-reboot through host2's agent)...`);
        const started = await startOrAttachInstall(client, request);
        const outcome = await Promise.race([followInstall(started.handle, (step) => say(formatStep(step))), waitForStopSignal()]);
        if (typeof outcome === 'string') {
          say(`\n${outcome}: stopping (the install stays in history: ${webUiLink(server.uiUrl ?? '', server.namespace, started.workflowId, started.runId)})`);
          process.exitCode = 130;
          return;
        }
        const result = outcome;
        say('');
        say(formatResult(result, webUiLink(server.uiUrl ?? '', server.namespace, started.workflowId, started.runId)));
        process.exitCode = EXIT_CODES[result.outcome];
        await client.connection.close();

        if (flags.keep) {
          say(`\nkeeping everything up: Web UI ${server.uiUrl} — press Ctrl-C to stop and clean up`);
          await waitForStopSignal();
        }
      } finally {
        say('cleaning up...');
        await worker?.shutdown().catch((err: unknown) => log.warn({ err }, 'worker shutdown'));
        await server?.stop();
        await lab.destroy();
        for (const sub of ['temporal', 'worker']) rmSync(join(dataDir, sub), { recursive: true, force: true });
        say('done.');
      }
    });
}

/** An interrupted demo leaves a testbed (namespaces, processes, one root veth): take it down first. */
async function removeLeftovers(labDir: string): Promise<void> {
  const stateDir = join(labDir, 'testbed');
  const leftover = existsSync(join(stateDir, 'testbed.json')) ? await readDescription(stateDir) : null;
  if (leftover) {
    say(`removing the testbed an earlier demo left in ${stateDir}...`);
    await destroyTestbed(leftover);
  }
  rmSync(labDir, { recursive: true, force: true });
}
