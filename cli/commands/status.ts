/**
 * `hostprov status`: recent installs with their phase (from the search attributes), or one host's install
 * with every step — what an operator checks before opening the Web UI.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Command } from 'commander';
import { z } from 'zod';
import { installWorkflowId, webUiLink } from '../../workflow-client/install-host';
import { connectClient } from '../../lib/temporal/connection';
import { INSTALL_HOST_WORKFLOW, type InstallHostResult } from '../../model/install-host/contract';
import { installStatusQuery } from '../../workflows/messages';
import { HostNameKey, InstallPhaseKey } from '../../model/search-attributes';
import { payloadKeysFromFlags, temporalConfigFromFlags, withPayloadKeyOptions, withTemporalOptions } from '../temporal-flags';
import { UsageError } from '../usage-error';
import { formatResult, formatStep } from './install-host';

const Flags = z.object({
  uiUrl: z.string().url(),
  limit: z.coerce.number().int().min(1).max(1000),
  phase: z.string().optional(),
});

export function register(program: Command): void {
  const command = program
    .command('status')
    .argument('[host-id]', "show this host's install in detail")
    .description("List recent installs and their phase, or show one host's install step by step");
  withPayloadKeyOptions(withTemporalOptions(command))
    .option('--ui-url <url>', 'Web UI base URL, for links', 'http://127.0.0.1:8233')
    .option('--limit <n>', 'how many installs to list', '20')
    .option('--phase <phase>', 'only installs in this phase, e.g. rolled-back')
    .action(async (hostId: string | undefined, raw: Record<string, unknown>) => {
      const flags = Flags.parse(raw);
      const temporal = temporalConfigFromFlags(raw);
      // The list shows search attributes only; one install's steps and result are payloads.
      const payloadKeys = hostId ? payloadKeysFromFlags(raw) : null;
      const { client, close } = await connectClient(temporal, { payloadKeys });
      try {
        if (hostId) await showInstall(client, hostId, temporal.namespace, flags.uiUrl);
        else await listInstalls(client, flags.limit, flags.phase);
      } finally {
        await close();
      }
    });
}

async function listInstalls(client: Client, limit: number, phase: string | undefined): Promise<void> {
  if (phase !== undefined && !/^[a-z-]+$/.test(phase)) throw new UsageError(`--phase ${phase}: expected a phase name such as rolled-back`);
  const query = `WorkflowType = '${INSTALL_HOST_WORKFLOW}'${phase ? ` AND ${InstallPhaseKey.name} = '${phase}'` : ''}`;
  const rows: string[][] = [['HOST', 'PHASE', 'STATUS', 'STARTED', 'WORKFLOW ID']];
  for await (const wf of client.workflow.list({ query, pageSize: limit })) {
    rows.push([
      String(wf.typedSearchAttributes.get(HostNameKey) ?? '?'),
      String(wf.typedSearchAttributes.get(InstallPhaseKey) ?? '?'),
      wf.status.name,
      wf.startTime.toISOString(),
      wf.workflowId,
    ]);
    if (rows.length > limit) break;
  }
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  for (const row of rows)
    process.stdout.write(
      `${row
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd()}\n`,
    );
  if (rows.length === 1) process.stdout.write('(no installs)\n');
}

async function showInstall(client: Client, hostId: string, namespace: string, uiUrl: string): Promise<void> {
  const handle = client.workflow.getHandle(installWorkflowId(hostId));
  let description;
  try {
    description = await handle.describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new UsageError(`no install of host ${hostId} (workflow ${installWorkflowId(hostId)})`);
    throw err;
  }
  process.stdout.write(
    `${description.workflowId} (run ${description.runId}): ${description.status.name}, phase ${String(description.typedSearchAttributes.get(InstallPhaseKey) ?? '?')}\n`,
  );
  const link = webUiLink(uiUrl, namespace, description.workflowId, description.runId);
  if (description.status.name === 'RUNNING') {
    const status = await handle.query(installStatusQuery);
    for (const step of status.steps) process.stdout.write(`${formatStep(step)}\n`);
    process.stdout.write(`history: ${link}\n`);
  } else if (description.status.name === 'COMPLETED') {
    const result = (await handle.result()) as InstallHostResult;
    for (const step of result.steps) process.stdout.write(`${formatStep(step)}\n`);
    process.stdout.write(`${formatResult(result, link)}\n`);
  } else {
    process.stdout.write(`history: ${link}\n`);
  }
}
