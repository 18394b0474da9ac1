/**
 * `hostprov demo`: the main job on the embedded default. Builds a testbed (manager side, two namespaced
 * hosts running the agent over mutual TLS, an ipmi_sim BMC each), starts the Temporal dev server, the codec
 * server its Web UI decodes the encrypted history with, and a worker, installs ovirtmgmt on host1 with the fence-reboot through host2, prints every step, the result
 * and the Web UI link, and cleans up (unless --keep). Ctrl-C or SIGTERM at any moment — while the testbed
 * builds, Temporal starts or the install runs — cleans up too (cli/signals.ts). Safe to run again; leftovers
 * of a run that could not clean up (killed with SIGKILL) are removed first.
 */
import { existsSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { followInstall, startOrAttachInstall, webUiLink } from '../../workflow-client/install-host';
import { getLogger } from '../../lib/logger';
import { DEFAULT_DATA_DIR } from '../../lib/paths';
import { freePorts } from '../../lib/ports';
import { startCodecServer } from '../../lib/temporal/codec-server';
import { connectClient, plainConnection } from '../../lib/temporal/connection';
import { startDevServer } from '../../lib/temporal/dev-server';
import { createPayloadKey, loadPayloadKeys } from '../../lib/temporal/payload-keys';
import { createAgentLab } from '../../testbed/agent-lab';
import { destroyTestbed } from '../../testbed/teardown';
import { readDescription } from '../../testbed/description';
import { testbedUnavailableReason } from '../../testbed/requirements';
import { startWorker } from '../../worker/main';
import { UsageError } from '../usage-error';
import { installStopHandling } from '../signals';
import { EXIT_CODES, formatResult, formatStep } from './install-host';

const Flags = z.object({ dataDir: z.string().min(1), keep: z.boolean().default(false), dhcp: z.boolean().default(false) });

const say = (line: string): void => void process.stdout.write(`${line}\n`);

/** After a stop, how long in-flight activities may finish before they are cancelled. */
const WORKER_SHUTDOWN_GRACE_MS = 2_000;

export function register(program: Command): void {
  program
    .command('demo')
    .description('Build a namespaced testbed, start Temporal + a worker, install ovirtmgmt on a host end to end, clean up')
    .option('--data-dir <dir>', 'where the demo keeps its testbed and Temporal data', join(DEFAULT_DATA_DIR, 'demo'))
    .option('--keep', 'leave the stack and testbed running until Ctrl-C (to browse the Web UI)')
    .option('--dhcp', 'give host1 a DHCP factory configuration instead of a static one')
    .action(async (raw: Record<string, unknown>) => {
      const { resources, requested } = installStopHandling('demo');
      const flags = Flags.parse(raw);
      const reason = await testbedUnavailableReason();
      if (reason) throw new UsageError(`the demo builds network namespaces and cannot run here: ${reason}`);
      const log = getLogger('demo');
      const dataDir = resolve(flags.dataDir);
      const labDir = join(dataDir, 'lab');
      await removeLeftovers(labDir);

      // Released last: the demo's Temporal and worker data.
      resources.push('demo data', async () => {
        for (const sub of ['temporal', 'worker']) rmSync(join(dataDir, sub), { recursive: true, force: true });
        say('done.');
      });
      void requested.then((signal) => say(`\n${signal}: stopping and cleaning up...`));
      try {
        say('hostprov demo: building the testbed (switch, manager side, 2 hosts with agents over mutual TLS, ipmi_sim BMCs)...');
        const building = createAgentLab({
          stateDir: labDir,
          hosts: [{ name: 'host1', ...(flags.dhcp ? { factory: 'dhcp' as const } : {}) }, { name: 'host2' }],
          signal: resources.stopping,
        });
        // A stop while it builds: the build stops at its next step and tears down what it built.
        resources.push('testbed', async () => {
          const built = await building.catch(() => null);
          await built?.destroy();
        });
        const lab = await building;
        await lab.waitForAgents();
        for (const h of lab.testbed.hosts) say(`  ${h.name}: ${h.address} (namespace ${h.namespace}), BMC ${h.bmc.address}:${h.bmc.port}`);
        say(`  manager address: ${lab.testbed.manager.address}`);

        say('starting Temporal (dev server, SQLite, Web UI), the codec server and a worker...');
        const [port, httpPort, metricsPort, uiPort, codecPort] = (await freePorts(5)) as [number, number, number, number, number];
        // History is encrypted as in production, with a key of the lab's own; the Web UI decodes it through
        // the codec server.
        createPayloadKey(labDir);
        const payloadKeys = loadPayloadKeys(labDir);
        const codec = await startCodecServer({ keys: payloadKeys, port: codecPort, allowedOrigins: [`http://127.0.0.1:${uiPort}`, `http://localhost:${uiPort}`], log: getLogger('codec-server') });
        resources.push('codec server', () => codec.close());
        const server = await startDevServer({ dataDir: join(dataDir, 'temporal'), port, httpPort, metricsPort, uiPort, uiCodecEndpoint: codec.url, resources }, log);
        const temporal = plainConnection(server.address, server.namespace);
        // The lab's references (PKI, BMC passwords) and the payload key live under its directory.
        await startWorker({
          temporal,
          dataDir: join(dataDir, 'worker'),
          secrets: { secretsDir: labDir },
          allowInsecureAgents: true,
          shutdownGraceMs: WORKER_SHUTDOWN_GRACE_MS,
          resources,
          log: getLogger('worker'),
        });
        say(`  Temporal ${server.address}, Web UI ${server.uiUrl}, codec server ${codec.url} (payload key ${payloadKeys.primaryId})`);

        // Not on the resource stack: a stop must not cut the start of the install short (it stays in
        // history, and the demo says where); the process exit closes the connection.
        const { client, close } = await connectClient(temporal, { payloadKeys });
        const request = lab.installRequest('host1');
        say(`installing ovirtmgmt on host1 (fence-reboot through host2's agent)...`);
        const started = await startOrAttachInstall(client, request);
        const link = webUiLink(server.uiUrl ?? '', server.namespace, started.workflowId, started.runId);
        const outcome = await Promise.race([followInstall(started.handle, (step) => say(formatStep(step))), requested]);
        if (typeof outcome === 'string') {
          say(`the install stays in history: ${link}`);
          return;
        }
        say('');
        say(formatResult(outcome, link));
        process.exitCode = EXIT_CODES[outcome.outcome];
        await close();

        if (flags.keep) {
          say(`\nkeeping everything up: Web UI ${server.uiUrl} — press Ctrl-C to stop and clean up`);
          await requested;
        }
      } finally {
        if (!resources.stopping.aborted) say('cleaning up...');
        await resources.unwind();
      }
    });
}

/** A demo that could not clean up (killed with SIGKILL) leaves a testbed (namespaces, processes, one root veth): take it down first. */
async function removeLeftovers(labDir: string): Promise<void> {
  const stateDir = join(labDir, 'testbed');
  const leftover = existsSync(join(stateDir, 'testbed.json')) ? await readDescription(stateDir) : null;
  if (leftover) {
    say(`removing the testbed an earlier demo left in ${stateDir}...`);
    await destroyTestbed(leftover);
  }
  rmSync(labDir, { recursive: true, force: true });
}
