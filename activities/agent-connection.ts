/**
 * How activities reach a host agent: through a factory that opens one connection. The worker uses the VDSM
 * client (JSON-RPC over STOMP over TLS); a workflow test may pass its own factory to answer for the host.
 */
import { AgentClient, type AgentClientOptions, type CallOptions, type CallParams } from '../vdsm/client/client';
import type { AgentEndpoint } from '../vdsm/client/endpoint';

/** One open connection to an agent, as much of it as activities use. */
export interface AgentConnection {
  call<T = unknown>(method: string, params?: CallParams, options?: CallOptions): Promise<T>;
  /** The `server` header of the agent's STOMP CONNECTED, if it sent one (vdsm/confirmation-signal.ts). */
  readonly server?: string | undefined;
  close(): Promise<void>;
}

/** Per-connection settings an activity chooses (see {@link AgentClientOptions}). */
export type AgentConnectOptions = Pick<AgentClientOptions, 'connectTimeoutMs' | 'heartBeatMs' | 'onEvent'>;

/**
 * Opens a connection to the agent at `endpoint`. Failures are the VDSM client's errors (AgentConnectionError,
 * AgentRpcError, AgentTimeoutError), also from a stand-in, so the activities' failure mapping holds for both.
 */
export type ConnectAgent = (endpoint: AgentEndpoint, options?: AgentConnectOptions) => Promise<AgentConnection>;

/** The real host side: a VDSM client session to the agent (ours or a stock VDSM). */
export const connectVdsmAgent: ConnectAgent = (endpoint, options) => AgentClient.connect(endpoint, options);

/**
 * Opens a connection, runs `fn` with it and always closes it: for polling where each attempt must prove that
 * a new connection works (the confirm-connectivity loop after `Host.setupNetworks`).
 */
export async function withFreshAgentConnection<T>(
  connect: ConnectAgent,
  endpoint: AgentEndpoint,
  fn: (connection: AgentConnection) => Promise<T>,
  options?: AgentConnectOptions,
): Promise<T> {
  const connection = await connect(endpoint, options);
  try {
    return await fn(connection);
  } finally {
    await connection.close();
  }
}
