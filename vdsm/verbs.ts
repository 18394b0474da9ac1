/**
 * The contract between the VDSM transport (STOMP, JSON-RPC) and the verbs a server serves. Transport code
 * knows nothing about networking; verbs know nothing about frames.
 */

/** What a verb may know about the request that invoked it. */
export interface RpcContext {
  /** The host-side address of the socket the request arrived on (VDSM's `lastClientIface` source). */
  readonly localAddress: string;
  readonly remoteAddress: string;
  /** Unique per STOMP connection. */
  readonly connectionId: string;
  /** JSON-RPC `id` of the request (`null` for notifications). */
  readonly requestId: string | number | null;
  /** Value of the `ovirtCorrelationId` STOMP header, if any (VDSM logs it as flow_id). */
  readonly flowId?: string;
}

/** A verb receives params already mapped to names (positional params are mapped by `params` order). */
export type VerbHandler = (params: Record<string, unknown>, ctx: RpcContext) => Promise<unknown>;

export interface VerbDefinition {
  /** `<Namespace>.<verb>`, e.g. `Host.getCapabilities`. */
  readonly method: string;
  /** Parameter names in schema order, used to map positional (array) params onto names. */
  readonly params: readonly string[];
  readonly handler: VerbHandler;
}

/** JSON-RPC notification published to `jms.queue.events` subscribers, e.g. `|net|host_conn|no_id`. */
export interface AgentEvent {
  readonly method: string;
  readonly params: Record<string, unknown>;
}
