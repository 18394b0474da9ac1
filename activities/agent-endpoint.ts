/**
 * Turns a workflow's endpoint reference into the transport's endpoint: TLS references resolved to files
 * inside the worker's secrets root, and endpoints without TLS refused unless the worker allows them.
 */
import { ApplicationFailure } from '@temporalio/common';
import { FailureType, isRetryable } from '../model/failures';
import { parseAgentEndpoint, type AgentEndpoint } from '../vdsm/client/endpoint';
import type { SecretResolver } from './secrets';
import type { AgentEndpointRef } from './types';

/** What an activity may use to reach agents. */
export interface AgentAccess {
  secrets: SecretResolver;
  /**
   * Accept `tls: {insecure: true}` endpoints: anyone on the path could then read or change what the worker
   * says to the agent. For the dev stack, the demo and tests. @default false
   */
  allowInsecureAgents?: boolean;
}

export class InsecureAgentRefusedError extends ApplicationFailure {
  constructor(readonly endpoint: string) {
    super(
      `agent endpoint ${endpoint} has no TLS (tls: {insecure: true}), and this worker was not started to allow that (hostprov worker --allow-insecure-agents)`,
      FailureType.INSECURE_AGENT_REFUSED,
      !isRetryable(FailureType.INSECURE_AGENT_REFUSED),
    );
  }
}

export function clientEndpoint(ref: AgentEndpointRef, access: AgentAccess): AgentEndpoint {
  if ('insecure' in ref.tls) {
    if (!access.allowInsecureAgents) throw new InsecureAgentRefusedError(`${ref.host}:${ref.port}`);
    return parseAgentEndpoint({ host: ref.host, port: ref.port, tls: { insecure: true as const } });
  }
  const tls = {
    certFile: access.secrets.resolveFile(ref.tls.certRef),
    keyFile: access.secrets.resolveFile(ref.tls.keyRef),
    caFile: access.secrets.resolveFile(ref.tls.caRef),
    ...(ref.tls.serverName ? { serverName: ref.tls.serverName } : {}),
  };
  return parseAgentEndpoint({ host: ref.host, port: ref.port, tls });
}
