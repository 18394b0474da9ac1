/** Turns a workflow's endpoint reference into the transport's endpoint, resolving TLS references to files. */
import { parseAgentEndpoint, type AgentEndpoint } from '../vdsm/client/endpoint';
import { resolveSecretFile } from './secrets';
import type { AgentEndpointRef } from './types';

export function clientEndpoint(ref: AgentEndpointRef, runtimeDir?: string): AgentEndpoint {
  const tls =
    'insecure' in ref.tls
      ? { insecure: true as const }
      : {
          certFile: resolveSecretFile(ref.tls.certRef, runtimeDir),
          keyFile: resolveSecretFile(ref.tls.keyRef, runtimeDir),
          caFile: resolveSecretFile(ref.tls.caRef, runtimeDir),
          ...(ref.tls.serverName ? { serverName: ref.tls.serverName } : {}),
        };
  return parseAgentEndpoint({ host: ref.host, port: ref.port, tls });
}
