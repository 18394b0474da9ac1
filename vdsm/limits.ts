/**
 * The bounds the agent's transport puts on its peers (docs/vdsm-wire-protocol.md#limits). VDSM has none of
 * these; they exist so that one peer, even one with a valid certificate, cannot make the agent (which runs as
 * root on the host it keeps manageable) buffer, spin or run without bound.
 */
import { z } from 'zod';
import { DEFAULT_MAX_FRAME_BYTES } from './stomp/frame';

export interface TransportLimits {
  /**
   * Open STOMP connections. One more is answered with ERROR `Too many connections` and closed; the listener
   * also closes, without a word, TCP connections beyond twice this number (sockets still in their TLS
   * handshake count). @default 64
   */
  readonly maxConnections: number;
  /** JSON-RPC requests running at once on one connection; one more is answered with -32000. @default 32 */
  readonly maxRequestsInFlight: number;
  /** Requests in one JSON-RPC batch; a larger batch runs nothing and each member is answered with -32001. @default 32 */
  readonly maxBatchSize: number;
  /** Largest STOMP frame accepted from a peer (command, headers and body). @default 4 MiB */
  readonly maxFrameBytes: number;
  /**
   * Bytes written to one peer and not yet taken by it. A frame due while more than this waits is not
   * queued: the peer is not reading, and its connection is dropped. @default 16 MiB
   */
  readonly maxOutgoingBytes: number;
}

export const DEFAULT_TRANSPORT_LIMITS: TransportLimits = {
  maxConnections: 64,
  maxRequestsInFlight: 32,
  maxBatchSize: 32,
  maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
  maxOutgoingBytes: 16 * 1024 * 1024,
};

const MiB = 1024 * 1024;
const count = (max: number) => z.number().int().min(1).max(max);

/** Each limit's legal range. */
export const TransportLimitFields = z.object({
  maxConnections: count(65_536),
  maxRequestsInFlight: count(65_536),
  maxBatchSize: count(65_536),
  // At least 4 KiB: below that not even a CONNECT with a few headers fits.
  maxFrameBytes: z
    .number()
    .int()
    .min(4096)
    .max(1024 * MiB),
  maxOutgoingBytes: z
    .number()
    .int()
    .min(4096)
    .max(1024 * MiB),
});

/** The limits as configuration gives them (options, CLI flags); each one optional, each one bounded. */
export const TransportLimitsSchema = TransportLimitFields.partial().strict();
export type TransportLimitsInput = z.input<typeof TransportLimitsSchema>;

/** The limits to use: the given ones over the defaults. Throws a ZodError naming the field for a bad value. */
export function resolveTransportLimits(input: TransportLimitsInput = {}): TransportLimits {
  const given = Object.entries(TransportLimitsSchema.parse(input)).filter(([, value]) => value !== undefined);
  return { ...DEFAULT_TRANSPORT_LIMITS, ...Object.fromEntries(given) };
}
