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
import { factoryDeviceName, readDescription } from '../../testbed/description';
import { testbedUnavailableReason } from '../../testbed/requirements';
import { startWorker } from '../../worker/main';
import { UsageError } from '../usage-error';
import { installStopHandling } from '../signals';
import { DEFAULT_LAB_SCENARIO, LAB_SCENARIOS } from './demo-lab-scenarios';
import { runTwoGatewaysDemo, type DemoScenarioContext } from './demo-two-gateways';
import { EXIT_CODES, formatResult, formatStep } from './install-host';

/** Scenarios besides the lab installs (demo-lab-scenarios.ts), each building, showing and cleaning up on its own. */
const SCENARIOS: Readonly<Record<string, (context: DemoScenarioContext) => Promise<void>>> = {
  'two-gateways': runTwoGatewaysDemo,
};
const SCENARIO_NAMES = [...Object.keys(LAB_SCENARIOS), ...Object.keys(SCENARIOS)] as [string, ...string[]];

const Flags = z.object({
  dataDir: z.string().min(1),
  keep: z.boolean().default(false),
  dhcp: z.boolean().default(false),
  scenario: z.enum(SCENARIO_NAMES).default(DEFAULT_LAB_SCENARIO),
});

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
    .option('--scenario <name>', `what to show: ${SCENARIO_NAMES.join(', ')}`, DEFAULT_LAB_SCENARIO)
    .action(async (raw: Record<string, unknown>) => {
      const { resources, requested } = installStopHandling('demo');
      const parsed = Flags.safeParse(raw);
      if (!parsed.success)
        throw new UsageError(`demo: ${parsed.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('; ')}`);
      const flags = parsed.data;
      const scenario = SCENARIOS[flags.scenario];
      if (scenario) {
        try {
          await scenario({ dataDir: resolve(flags.dataDir), resources, say });
        } finally {
          await resources.unwind();
        }
        return;
      }
      const labScenario = LAB_SCENARIOS[flags.scenario];
      if (!labScenario) throw new UsageError(`demo: unknown scenario ${flags.scenario}`);
      const reason = (await testbedUnavailableReason()) ?? (await labScenario.unavailable());
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
        say(`hostprov demo: building the testbed (${labScenario.building})...`);
        const building = createAgentLab({ stateDir: labDir, hosts: labScenario.hosts({ dhcp: flags.dhcp }), signal: resources.stopping });
        // A stop while it builds: the build stops at its next step and tears down what it built.
        resources.push('testbed', async () => {
          const built = await building.catch(() => null);
          await built?.destroy();
        });
        const lab = await building;
        await lab.waitForAgents(240_000);
        for (const h of lab.testbed.hosts) {
          const kind = h.kind === 'uml' ? 'full-kernel guest' : 'namespace';
          say(
            `  ${h.name}: ${h.address} on ${factoryDeviceName(h.factory.device)} (${h.factory.boot}; ${kind} ${h.namespace}), BMC ${h.bmc.address}:${h.bmc.port}`,
          );
        }
        const router = lab.testbed.description.router;
        if (router)
          say(`  top-of-rack router: ${router.address}, VLAN ${router.vlan} ${router.vlanSubnet} via ${router.vlanGateway} (DHCP)`);
        say(`  manager address: ${lab.testbed.manager.address}`);

        say('starting Temporal (dev server, SQLite, Web UI), the codec server and a worker...');
        const [port, httpPort, metricsPort, uiPort, codecPort] = (await freePorts(5)) as [number, number, number, number, number];
        // History is encrypted as in production, with a key of the lab's own; the Web UI decodes it through
        // the codec server.
        createPayloadKey(labDir);
        const payloadKeys = loadPayloadKeys(labDir);
        const codec = await startCodecServer({
          keys: payloadKeys,
          port: codecPort,
          allowedOrigins: [`http://127.0.0.1:${uiPort}`, `http://localhost:${uiPort}`],
          log: getLogger('codec-server'),
        });
        resources.push('codec server', () => codec.close());
        const server = await startDevServer(
          { dataDir: join(dataDir, 'temporal'), port, httpPort, metricsPort, uiPort, uiCodecEndpoint: codec.url, resources },
          log,
        );
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
        const request = lab.installRequest(labScenario.target, labScenario.request);
        const mgmt = request.managementNetwork;
        const definition = mgmt
          ? ` (VLAN ${mgmt.vlan ?? 'none'}, MTU ${mgmt.mtu}, ${mgmt.vmNetwork ? 'VM network' : 'non-VM network'})`
          : '';
        say(`installing ovirtmgmt${definition} on ${labScenario.target} (fence-reboot through the next host's agent)...`);
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
