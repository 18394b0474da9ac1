/**
 * How a client reaches an agent (or a real VDSM): host, port and TLS files. Parsed with zod because it
 * comes from workflow inputs and configuration files.
 */
import { z } from 'zod';
import { VDSM_PORT } from '../../model/vdsm/port';

const pathSchema = z.string().min(1, 'must be a file path');

export const AgentEndpointTlsSchema = z.union([
  z
    .object({
      certFile: pathSchema,
      keyFile: pathSchema,
      caFile: pathSchema,
      /** Name to verify in the agent's certificate (and send as SNI) when it differs from `host`. */
      serverName: z.string().min(1).optional(),
    })
    .strict(),
  z.object({ insecure: z.literal(true) }).strict(),
]);

export const AgentEndpointSchema = z
  .object({
    host: z.string().min(1, 'must name the agent host'),
    port: z.number().int().min(1).max(65_535).default(VDSM_PORT),
    tls: AgentEndpointTlsSchema,
  })
  .strict();

/** A validated endpoint (port filled in). */
export type AgentEndpoint = z.output<typeof AgentEndpointSchema>;
/** What callers may write before parsing: TLS material by file path, port optional. */
export type AgentEndpointInput = z.input<typeof AgentEndpointSchema>;

export function parseAgentEndpoint(input: unknown): AgentEndpoint {
  return AgentEndpointSchema.parse(input);
}

export function isInsecureEndpoint(endpoint: AgentEndpoint): endpoint is AgentEndpoint & { tls: { insecure: true } } {
  return 'insecure' in endpoint.tls;
}

/** `host:port (tls|insecure)`, for error messages and logs; IPv6 hosts are bracketed. */
export function describeEndpoint(endpoint: AgentEndpoint): string {
  const host = endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host;
  return `${host}:${endpoint.port} (${isInsecureEndpoint(endpoint) ? 'insecure' : 'tls'})`;
}
