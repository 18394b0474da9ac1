/**
 * `hostprov install-host --input host.json`: starts the install (or attaches to the one running for that
 * host), prints each step as it happens, and ends with the result and the link to the execution in the
 * Web UI. Exit code 0 for configured / already-configured, 3 for skipped-no-route, 4 for rolled-back,
 * 1 for failed.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { z } from 'zod';
import { followInstall, startOrAttachInstall, webUiLink } from '../../workflow-client/install-host';
import { connectClient } from '../../lib/temporal/connection';
import { TASK_QUEUE } from '../../lib/temporal/constants';
import { InstallHostInput, type InstallHostResult, type StepRecord } from '../../model/install-host/contract';
import { payloadKeysFromFlags, temporalConfigFromFlags, withPayloadKeyOptions, withTemporalOptions } from '../temporal-flags';
import { UsageError } from '../usage-error';

const Flags = z.object({
  input: z.string().min(1),
  taskQueue: z.string().min(1),
  uiUrl: z.string().url(),
  json: z.boolean().default(false),
  wait: z.boolean().default(true),
});

export const EXIT_CODES: Record<InstallHostResult['outcome'], number> = {
  configured: 0,
  'already-configured': 0,
  'skipped-no-route': 3,
  'rolled-back': 4,
  failed: 1,
};

const MARK: Record<StepRecord['status'], string> = { running: '…', ok: '✓', skipped: '–', failed: '✗' };

export function formatStep(step: StepRecord): string {
  const ms = step.durationMs !== undefined && step.status !== 'running' ? ` (${step.durationMs} ms)` : '';
  return `  ${MARK[step.status]} ${step.name}${ms}  ${step.summary}`;
}

export function formatResult(result: InstallHostResult, link: string): string {
  return [
    `outcome: ${result.outcome}`,
    ...(result.device ? [`device:  ${result.device} (rule: ${result.rule})`] : []),
    `why:     ${result.ruleDetail}`,
    ...(result.failure ? [`failure: ${result.failure.type}: ${result.failure.message}`] : []),
    ...(result.compensation?.failure
      ? [`undo:    compensation failed: ${result.compensation.failure.type}: ${result.compensation.failure.message}`]
      : []),
    ...(result.setupNetworksRequest ? [`request: ${JSON.stringify(result.setupNetworksRequest)}`] : []),
    `history: ${link}`,
  ].join('\n');
}

function readInput(path: string): unknown {
  try {
    return JSON.parse(path === '-' ? readFileSync(0, 'utf8') : readFileSync(path, 'utf8'));
  } catch (err) {
    throw new UsageError(`--input ${path}: ${(err as Error).message}`);
  }
}

export function register(program: Command): void {
  const command = program
    .command('install-host')
    .description("Install a host's management network (start, or attach to the running install of that host)")
    .requiredOption('--input <file>', 'install-host input (JSON, see schemas/install-host-input.v1.json); - for stdin');
  withPayloadKeyOptions(withTemporalOptions(command))
    .option('--task-queue <name>', 'task queue the workers poll', TASK_QUEUE)
    .option('--ui-url <url>', 'Web UI base URL, for the link to the execution', 'http://127.0.0.1:8233')
    .option('--json', 'print only the result as JSON')
    .option('--no-wait', 'start (or attach) and print the workflow id without following it')
    .action(async (raw: Record<string, unknown>) => {
      const flags = Flags.parse(raw);
      const temporal = temporalConfigFromFlags(raw);
      const payloadKeys = payloadKeysFromFlags(raw);
      const parsed = InstallHostInput.safeParse(readInput(flags.input));
      if (!parsed.success) throw parsed.error;
      const { client, close } = await connectClient(temporal, { payloadKeys });
      try {
        const started = await startOrAttachInstall(client, parsed.data, { taskQueue: flags.taskQueue });
        const link = webUiLink(flags.uiUrl, temporal.namespace, started.workflowId, started.runId);
        if (!flags.json)
          process.stdout.write(
            `${started.started ? 'started' : 'attached to running'} install ${started.workflowId} (run ${started.runId})\n`,
          );
        if (!flags.wait) {
          process.stdout.write(`${link}\n`);
          return;
        }
        const result = await followInstall(started.handle, (step) => {
          if (!flags.json) process.stdout.write(`${formatStep(step)}\n`);
        });
        process.stdout.write(flags.json ? `${JSON.stringify(result, null, 2)}\n` : `${formatResult(result, link)}\n`);
        process.exitCode = EXIT_CODES[result.outcome];
      } finally {
        await close();
      }
    });
}
