/**
 * How an agent call fails, one class per condition, so activities can map them to retryable or final
 * Temporal failures by `name` or `instanceof`.
 */
import { JsonRpcCode } from '../../model/vdsm/error-codes';

/** The agent answered with a JSON-RPC error: a protocol code (-326xx) or a VDSM status code (e.g. 10, 99). */
export class AgentRpcError extends Error {
  override readonly name = 'AgentRpcError';
  constructor(
    readonly code: number,
    /** The agent's own message, without the method and code this error's `message` adds. */
    readonly rpcMessage: string,
    readonly method: string,
  ) {
    super(`${method} failed with code ${code}: ${rpcMessage}`);
  }
}

/** No response within the call's timeout. The request may still run (or have run) on the agent. */
export class AgentTimeoutError extends Error {
  override readonly name = 'AgentTimeoutError';
  constructor(
    readonly method: string,
    readonly timeoutMs: number,
  ) {
    super(`${method} got no response within ${timeoutMs} ms`);
  }
}

/**
 * The connection could not be made or was lost: refused, reset, TLS failure, STOMP handshake refused, missed
 * heart-beats. A call that was in flight may or may not have run on the agent.
 */
export class AgentConnectionError extends Error {
  override readonly name = 'AgentConnectionError';
  constructor(
    /** `host:port (tls|insecure)` */
    readonly endpoint: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`agent at ${endpoint}: ${reason}`, options);
  }
}

/** The agent sent something that is not a valid JSON-RPC response or STOMP frame. */
export class AgentProtocolError extends Error {
  override readonly name = 'AgentProtocolError';
  constructor(
    readonly endpoint: string,
    readonly detail: string,
  ) {
    super(`agent at ${endpoint} broke the protocol: ${detail}`);
  }
}

/** A call reused the id of a call that is still waiting on the same client. */
export class DuplicateCallIdError extends Error {
  override readonly name = 'DuplicateCallIdError';
  constructor(
    readonly id: string,
    readonly method: string,
  ) {
    super(`${method}: request id ${id} is already waiting for a response on this connection`);
  }
}

/** True for "the agent does not know this verb" (e.g. an older VDSM), which callers often treat as a capability probe. */
export function isMethodNotFound(err: unknown): err is AgentRpcError {
  return err instanceof AgentRpcError && err.code === JsonRpcCode.METHOD_NOT_FOUND;
}
