/**
 * A host as the store knows it: its cluster, how to reach its agent (TLS material by reference only), the
 * device install-host found carrying the manager's traffic, and the interfaces it last reported.
 */
import { z } from 'zod';
import { AgentEndpointRefInput } from '../install-host/contract';
import { InterfaceName, ReportedInterfaces } from './reported-interfaces';
import { EntityName, ExternalId, Timestamp } from './values';

/** Where the host's agent listens. TLS files and keys are `file:`/`env:` references, never the secrets. */
export const AgentEndpoint = z.strictObject({ ...AgentEndpointRefInput.shape, host: z.string().min(1).max(255) });
export type AgentEndpoint = z.infer<typeof AgentEndpoint>;

export const Host = z
  .object({
    id: ExternalId,
    name: EntityName,
    /** `null` until the host is assigned (install-host registers hosts it has not seen before without one). */
    clusterId: ExternalId.nullable(),
    agentEndpoint: AgentEndpoint.nullable(),
    /** The device that carries the manager's traffic (may be a VLAN device), as install-host chose it. */
    activeNic: InterfaceName.nullable(),
    reportedInterfaces: ReportedInterfaces.nullable(),
    interfacesReportedAt: Timestamp.nullable(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .strict();
export type Host = z.infer<typeof Host>;

export const HostDraft = z
  .object({
    id: ExternalId,
    name: EntityName,
    /** @default null */
    clusterId: ExternalId.nullable().default(null),
    /** @default null */
    agentEndpoint: AgentEndpoint.nullable().default(null),
    /** @default null */
    activeNic: InterfaceName.nullable().default(null),
  })
  .strict();
export type HostDraft = z.input<typeof HostDraft>;

export const HostPatch = z
  .object({
    name: EntityName,
    clusterId: ExternalId.nullable(),
    agentEndpoint: AgentEndpoint.nullable(),
    activeNic: InterfaceName.nullable(),
  })
  .partial()
  .strict();
export type HostPatch = z.input<typeof HostPatch>;
