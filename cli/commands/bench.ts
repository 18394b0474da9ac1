/**
 * `hostprov bench agent`, `install-host`, `install-scaling`, `host-setup-networks`, `host-event-watches`, `start` and `sync-report`: the benchmarks in
 * bench/, writing `<out>/<name>.json` (every figure with its unit, and the machine) and `<out>/<name>.md` (a
 * short table). All but `sync-report` build network namespaces, so they need root; `sync-report` is pure model
 * code. Progress goes to stdout, logs to stderr.
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { runAgentBench } from '../../bench/agent';
import { countList } from '../../bench/count-list';
import { runHostEventWatchesBench } from '../../bench/host-event-watches';
import { runHostSetupNetworksBench } from '../../bench/host-setup-networks';
import { runInstallHostBench } from '../../bench/install-host';
import { runInstallScalingBench } from '../../bench/install-scaling';
import { runStartBench } from '../../bench/start';
import { runSyncReportBench } from '../../bench/sync-report';
import { PROJECT_ROOT } from '../../lib/paths';
import { testbedUnavailableReason } from '../../testbed/requirements';
import { netnsUnavailableReason } from '../../testbed/netns';
import { waitForStopSignal } from '../signals';
import { UsageError } from '../usage-error';

const DEFAULT_OUT = resolve(PROJECT_ROOT, 'bench', 'results');

const count = (what: string, min: number, max: number) =>
  z.coerce
    .number({ message: `${what} must be a number` })
    .int(`${what} must be a whole number`)
    .min(min, `${what} must be at least ${min}`)
    .max(max, `${what} must be at most ${max}`);

const AgentFlags = z.object({
  out: z.string().min(1),
  repetitions: count('--repetitions', 2, 1000),
  sizes: z
    .string()
    .regex(/^\d+(,\d+)*$/, '--sizes must be network counts separated by commas, e.g. 1,10,100')
    .transform((list) => [...new Set(list.split(',').map(Number))])
    .pipe(z.array(z.number().int().min(1, '--sizes: at least 1 network').max(100, '--sizes: at most 100 networks'))),
});
const InstallHostFlags = z.object({ out: z.string().min(1), hosts: count('--hosts', 1, 39), repetitions: count('--repetitions', 1, 19) });
const InstallScalingFlags = z.object({
  out: z.string().min(1),
  hosts: countList('--hosts', 1, 100),
  workers: countList('--workers', 1, 4),
  reboot: z.boolean().default(false),
  note: z.string().max(1000, '--note is at most 1000 characters').optional(),
});
const HostEventWatchesFlags = z.object({
  out: z.string().min(1),
  watches: countList('--watches', 1, 10_000),
  quiet: count('--quiet', 5, 600),
  maxCachedWorkflows: count('--max-cached-workflows', 2, 100_000).optional(),
  note: z.string().max(1000, '--note is at most 1000 characters').optional(),
});
const HostSetupNetworksFlags = z.object({ out: z.string().min(1), repetitions: count('--repetitions', 1, 100) });
const StartFlags = z.object({
  out: z.string().min(1),
  repetitions: count('--repetitions', 2, 100),
  concurrent: count('--concurrent', 1, 50),
  note: z.string().max(1000, '--note is at most 1000 characters').optional(),
});
const SyncReportFlags = z.object({
  out: z.string().min(1),
  hosts: count('--hosts', 1, 50_000),
  attachments: count('--attachments', 1, 99),
  repetitions: count('--repetitions', 2, 1000),
  note: z.string().max(1000, '--note is at most 1000 characters').optional(),
});

/**
 * Ctrl-C / SIGTERM: the benchmark stops at its next check and tears everything down; a second Ctrl-C exits
 * at once (leaving namespaces behind).
 */
function stopOnSignal(): AbortSignal {
  const controller = new AbortController();
  void waitForStopSignal().then((signal) => {
    process.stdout.write(
      `\n${signal}: stopping after the current step and cleaning up (Ctrl-C again exits at once, leaving namespaces behind)...\n`,
    );
    controller.abort(new Error(`interrupted by ${signal}`));
  });
  return controller.signal;
}

function parse<T>(schema: z.ZodType<T>, raw: unknown): T {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new UsageError(parsed.error.issues.map((i) => i.message).join('; '));
  return parsed.data;
}

export function register(program: Command): void {
  const bench = program.command('bench').description('Benchmarks (root: they build network namespaces); results as JSON and Markdown');

  bench
    .command('agent')
    .description('Agent: setupNetworks of 1/10/100 bridged networks vs one ip -batch (the floor), apply→rollback, confirm round trips')
    .option('--out <dir>', 'where agent.json and agent.md go', DEFAULT_OUT)
    .option('--repetitions <n>', 'runs per measurement, the first discarded as warm-up', '21')
    .option('--sizes <list>', 'networks per setupNetworks, comma-separated (e.g. 1 for a quick look at the fixed cost)', '1,10,100')
    .action(async (raw: Record<string, unknown>) => {
      const flags = parse(AgentFlags, raw);
      const reason = await netnsUnavailableReason();
      if (reason) throw new UsageError(`bench agent builds network namespaces and cannot run here: ${reason}`);
      await runAgentBench({ outDir: resolve(flags.out), repetitions: flags.repetitions, sizes: flags.sizes, signal: stopOnSignal() });
    });

  bench
    .command('install-host')
    .description('install-host: per-install time by step with and without the reboot; N namespaced hosts installed concurrently')
    .option('--out <dir>', 'where install-host.json and install-host.md go', DEFAULT_OUT)
    .option('--hosts <n>', 'hosts installed concurrently (one more serves as fence proxy)', '20')
    .option('--repetitions <n>', 'sequential installs measured per variant (reboot off, reboot on)', '3')
    .action(async (raw: Record<string, unknown>) => {
      const flags = parse(InstallHostFlags, raw);
      const reason = await testbedUnavailableReason();
      if (reason) throw new UsageError(`bench install-host builds a namespaced testbed and cannot run here: ${reason}`);
      await runInstallHostBench({ outDir: resolve(flags.out), hosts: flags.hosts, repetitions: flags.repetitions, signal: stopOnSignal() });
    });

  bench
    .command('install-scaling')
    .description(
      'Scaling curve: N namespaced hosts installed at once with 1 and 2 worker processes; installs/minute, memory per agent and worker',
    )
    .option('--out <dir>', 'where install-scaling.json and its Markdown summary go', DEFAULT_OUT)
    .option('--hosts <list>', 'host counts, one case each, installed at once', '10,50,100')
    .option('--workers <list>', 'worker process counts, one case each per host count', '1,2')
    .option('--reboot', 'installs reboot their host (fenced through one extra host per lab)')
    .option('--note <text>', 'a sentence about the conditions of the run, written into the results')
    .action(async (raw: Record<string, unknown>) => {
      const flags = parse(InstallScalingFlags, raw);
      const reason = await testbedUnavailableReason();
      if (reason) throw new UsageError(`bench install-scaling builds namespaced testbeds and cannot run here: ${reason}`);
      await runInstallScalingBench({
        outDir: resolve(flags.out),
        hosts: flags.hosts,
        workers: flags.workers,
        reboot: flags.reboot,
        note: flags.note,
        signal: stopOnSignal(),
      });
    });

  bench
    .command('host-setup-networks')
    .description(
      'hostSetupNetworks: one request of 1/10/50 attachment changes by part (validation, store, apply, confirm) vs the agent-only apply',
    )
    .option('--out <dir>', 'where host-setup-networks.json and host-setup-networks.md go', DEFAULT_OUT)
    .option('--repetitions <n>', 'measured rounds per size, after one warm-up round', '5')
    .action(async (raw: Record<string, unknown>) => {
      const flags = parse(HostSetupNetworksFlags, raw);
      const reason = await testbedUnavailableReason();
      if (reason) throw new UsageError(`bench host-setup-networks builds a namespaced testbed and cannot run here: ${reason}`);
      await runHostSetupNetworksBench({ outDir: resolve(flags.out), repetitions: flags.repetitions, signal: stopOnSignal() });
    });

  bench
    .command('host-event-watches')
    .description("What activated hosts' event watches cost: one worker process running W watches, its memory, the agent's, and CPU")
    .option('--out <dir>', 'where host-event-watches.json and its Markdown summary go', DEFAULT_OUT)
    .option('--watches <list>', 'watch counts, ascending; each adds to the previous', '100,500,1000')
    .option('--quiet <seconds>', 'how long each count is watched quietly for its CPU figures', '60')
    .option('--max-cached-workflows <n>', "the worker's --max-cached-workflows (default: the SDK's)")
    .option('--note <text>', 'a sentence about the conditions of the run, written into the results')
    .action(async (raw: Record<string, unknown>) => {
      const flags = parse(HostEventWatchesFlags, raw);
      const reason = await testbedUnavailableReason();
      if (reason) throw new UsageError(`bench host-event-watches builds a namespaced testbed and cannot run here: ${reason}`);
      await runHostEventWatchesBench({
        outDir: resolve(flags.out),
        watches: flags.watches,
        quietSeconds: flags.quiet,
        ...(flags.maxCachedWorkflows === undefined ? {} : { maxCachedWorkflows: flags.maxCachedWorkflows }),
        note: flags.note,
        signal: stopOnSignal(),
      });
    });

  bench
    .command('start')
    .description('Start times: agent (single file, compiled CLI, tsx), hostprov --help, worker (prebuilt workflow bundle vs bundling)')
    .option('--out <dir>', 'where start.json and start.md go', DEFAULT_OUT)
    .option('--repetitions <n>', 'runs per measurement, the first discarded as warm-up', '6')
    .option('--concurrent <n>', 'agents started at once', '20')
    .option('--note <text>', 'a sentence about the conditions of the run, written into the results')
    .action(async (raw: Record<string, unknown>) => {
      const flags = parse(StartFlags, raw);
      const reason = await netnsUnavailableReason();
      if (reason) throw new UsageError(`bench start runs agents in network namespaces and cannot run here: ${reason}`);
      await runStartBench({
        outDir: resolve(flags.out),
        repetitions: flags.repetitions,
        concurrent: flags.concurrent,
        note: flags.note,
        signal: stopOnSignal(),
      });
    });

  bench
    .command('sync-report')
    .description('Out-of-sync report over N hosts × K attachments: pure model code, from stored reports and from raw capabilities')
    .option('--out <dir>', 'where sync-report.json and sync-report.md go', DEFAULT_OUT)
    .option('--hosts <n>', 'hosts in the synthetic fleet', '1000')
    .option('--attachments <n>', 'attachments per host', '10')
    .option('--repetitions <n>', 'passes over the fleet, the first discarded as warm-up', '21')
    .option('--note <text>', 'a sentence about the conditions of the run, written into the results')
    .action(async (raw: Record<string, unknown>) => {
      const flags = parse(SyncReportFlags, raw);
      await runSyncReportBench({
        outDir: resolve(flags.out),
        hosts: flags.hosts,
        attachments: flags.attachments,
        repetitions: flags.repetitions,
        note: flags.note,
        signal: stopOnSignal(),
      });
    });
}
