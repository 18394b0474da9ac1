/**
 * The hostSetupNetworks workflow's contract: its input is the versioned request (./request.ts), its result
 * is defined here. Versioned JSON, validated by zod and published as JSON Schema (schemas/, `hostprov
 * schema`). Outcomes are results, never workflow failures: `configured | no-op | invalid | rolled-back |
 * failed`. Pure: the workflow, the client and the CLI import it.
 */
import { z } from 'zod';
import { CompensationReport, SagaFailure } from '../saga';
import { StepRecord } from '../install-host/contract';
import { NetworkAttachment } from '../host-networking/network-attachment';
import { DriftWarningKind } from './drift';
import { HOST_SETUP_NETWORKS_REQUEST_VERSION } from './request';
import { Violation } from './violations';

/** The workflow type, as clients name it. */
export const HOST_SETUP_NETWORKS_WORKFLOW = 'hostSetupNetworks';
export const HOST_SETUP_NETWORKS_RESULT_VERSION = HOST_SETUP_NETWORKS_REQUEST_VERSION;

export const HostSetupNetworksOutcome = {
  /** Applied, confirmed and committed; the rows hold the new state. */
  CONFIGURED: 'configured',
  /** Nothing to change: answered without calling the host or writing the store. */
  NO_OP: 'no-op',
  /** Refused before anything was sent or stored; `violations` names every problem. */
  INVALID: 'invalid',
  /** The host rolled the change back (connectivity check); the rows were restored exactly. */
  ROLLED_BACK: 'rolled-back',
  /** Any other error; whatever had been recorded was restored (see `compensation`). */
  FAILED: 'failed',
} as const;
export type HostSetupNetworksOutcome = (typeof HostSetupNetworksOutcome)[keyof typeof HostSetupNetworksOutcome];

export const DriftWarningSchema = z.object({
  kind: z.enum(DriftWarningKind),
  attachmentId: z.string(),
  networkName: z.string(),
  nicName: z.string().nullable(),
  differences: z.array(z.string()),
  resent: z.boolean(),
  message: z.string(),
});

/** The exact `Host.setupNetworks` parameters sent. */
export const SentSetupNetworks = z.object({
  networks: z.record(z.string(), z.unknown()),
  bondings: z.record(z.string(), z.unknown()),
  options: z.record(z.string(), z.unknown()),
});

export const HostSetupNetworksResult = z.object({
  version: z.literal(HOST_SETUP_NETWORKS_RESULT_VERSION),
  hostId: z.string(),
  outcome: z.enum(HostSetupNetworksOutcome),
  /** Every violation of an `invalid` request (empty otherwise), with the engine's keys. */
  violations: z.array(Violation),
  /** Drifting attachments the request leaves alone (they never block). */
  warnings: z.array(DriftWarningSchema),
  /** What was dropped as already so: attachments by network name (or id), bonds by name. */
  dropped: z.object({ attachments: z.array(z.string()), bonds: z.array(z.string()) }),
  /** The exact call sent to the host, when one was sent. */
  setupNetworksRequest: SentSetupNetworks.nullable(),
  /** The host's stored attachments after a `configured` request; `null` otherwise. */
  attachments: z.array(NetworkAttachment).nullable(),
  steps: z.array(StepRecord),
  failure: z.nullable(SagaFailure),
  /** Whether the recorded intent was compensated; `null` when there was nothing to undo. */
  compensation: z.nullable(CompensationReport),
});
export type HostSetupNetworksResult = z.infer<typeof HostSetupNetworksResult>;
