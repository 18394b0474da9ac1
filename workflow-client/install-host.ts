/**
 * Starting and following install-host executions (the CLI, the demo and the benchmark use this; the Java
 * engine does the equivalent with its own Temporal client and the JSON Schema in schemas/). The `Client`
 * comes from lib/temporal/connection.ts (`connectClient`), which gives it the connection settings and the
 * payload codec every hostprov process shares.
 *
 * One install per host at a time: the workflow id is derived from the host id, and a start while one runs
 * attaches to it (`startOrAttachInstall`). A finished install may be run again (reuse policy
 * ALLOW_DUPLICATE): on a configured host it ends `already-configured` within seconds.
 */
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowIdConflictPolicy,
  WorkflowIdReusePolicy,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import {
  INSTALL_HOST_WORKFLOW,
  InstallHostInput,
  type InstallHostRequest,
  type InstallHostResult,
  type StepRecord,
} from '../model/install-host/contract';
import { TASK_QUEUE } from '../lib/temporal/constants';
import { installStatusQuery, type InstallStatus } from '../workflows/messages';
import type { installHost } from '../workflows/install-host';

export function installWorkflowId(hostId: string): string {
  return `install-host-${hostId}`;
}

export function webUiLink(uiUrl: string, namespace: string, workflowId: string, runId: string): string {
  return `${uiUrl.replace(/\/$/, '')}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}/${encodeURIComponent(runId)}/history`;
}

function staticDetails(input: InstallHostInput): string {
  const m = input.managementNetwork;
  const pm = input.powerManagement;
  return [
    `### Install host ${input.host.name}`,
    `- **host**: ${input.host.id} at ${input.host.address} (cluster ${input.host.clusterId}, level ${input.clusterLevel})`,
    `- **agent**: ${input.agent.host ?? input.host.address}:${input.agent.port} (${'insecure' in input.agent.tls ? 'INSECURE' : 'mutual TLS'})`,
    `- **manager address**: ${input.managerAddress}`,
    `- **network**: ${m.name}, ${m.vmNetwork ? 'bridged' : 'bridgeless'}, VLAN ${m.vlan ?? 'none'}, MTU ${m.mtu}, STP ${m.stp ? 'on' : 'off'}${m.defaultRoute ? ', default route' : ''}`,
    `- **policy**: confirm within ${input.policy.connectivityTimeoutSeconds}s, commit ${input.policy.commitMode}, reboot ${input.policy.reboot ? (pm ? `via ${pm.proxy.name} (${pm.agent})` : 'requested but no power management') : 'off'}`,
  ].join('\n');
}

export interface StartedInstall {
  handle: WorkflowHandle<typeof installHost>;
  workflowId: string;
  runId: string;
  /** false when a running install of this host was attached to. */
  started: boolean;
}

/**
 * Validates the request (same zod contract as the workflow) and starts the install, or attaches to the running
 * one. One round trip when nothing runs (the usual case): the start refuses a running execution of this host
 * (conflict policy FAIL), and only then is the running one looked up. That also covers another caller
 * starting this host's install at the same moment.
 */
export async function startOrAttachInstall(
  client: Client,
  request: InstallHostRequest,
  { taskQueue = TASK_QUEUE }: { taskQueue?: string } = {},
): Promise<StartedInstall> {
  const input = InstallHostInput.parse(request);
  const workflowId = installWorkflowId(input.host.id);
  try {
    const handle = await client.workflow.start<typeof installHost>(INSTALL_HOST_WORKFLOW, {
      taskQueue,
      workflowId,
      args: [request],
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
      staticSummary: `install ${input.host.name} → ${input.managementNetwork.name}`.slice(0, 200),
      staticDetails: staticDetails(input),
    });
    return { handle, workflowId, runId: handle.firstExecutionRunId, started: true };
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    const { runId } = await client.workflow.getHandle(workflowId).describe();
    return { handle: client.workflow.getHandle<typeof installHost>(workflowId, runId), workflowId, runId, started: false };
  }
}

/** Polls the status query and reports every step whose status changed, until the workflow ends. */
export async function followInstall(
  handle: WorkflowHandle<typeof installHost>,
  onStep: (step: StepRecord, status: InstallStatus) => void,
  { intervalMs = 500 }: { intervalMs?: number } = {},
): Promise<InstallHostResult> {
  const seen = new Map<string, string>();
  const report = (status: InstallStatus): void => {
    status.steps.forEach((step, i) => {
      const key = `${i}:${step.name}`;
      const state = `${step.status}`;
      if (seen.get(key) !== state) {
        seen.set(key, state);
        onStep(step, status);
      }
    });
  };
  const result = handle.result();
  let finished = false;
  void result.finally(() => (finished = true)).catch(() => undefined);
  while (!finished) {
    try {
      report(await handle.query(installStatusQuery));
    } catch {
      // the first workflow task may not have run yet
    }
    await Promise.race([result.catch(() => undefined), new Promise((r) => setTimeout(r, intervalMs))]);
  }
  const final = await result;
  report({ phase: final.outcome, steps: final.steps, result: final });
  return final;
}
