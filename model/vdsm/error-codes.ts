/**
 * Error codes on VDSM's wire (docs/vdsm-wire-protocol.md#error-codes). A VDSM verb failure is a JSON-RPC error whose
 * `code` is the VDSM status code, so clients branch on these numbers.
 */
export const JsonRpcCode = {
  PARSE_ERROR: -32700,
  INVALID_REQUEST: -32600,
  METHOD_NOT_FOUND: -32601,
  INVALID_PARAMS: -32602,
  INTERNAL_ERROR: -32603,
  // Implementation-defined server errors (JSON-RPC reserves -32000..-32099; VDSM uses none of them). VDSM
  // itself answers -32603 when its worker queue is full; codes of our own let a client tell "send it again
  // later" from a bug (docs/vdsm-wire-protocol.md#limits).
  /** The connection already has the most requests running that the agent allows; nothing was run. */
  TOO_MANY_REQUESTS: -32000,
  /** The batch has more requests than the agent allows; none of them was run. */
  BATCH_TOO_LARGE: -32001,
} as const;
export type JsonRpcCode = (typeof JsonRpcCode)[keyof typeof JsonRpcCode];

export const VdsmCode = {
  /** Generic failure of a fence agent or other exit-code based result. */
  GENERAL_FAILURE: 1,
  /** Connectivity check failed; the agent rolled back (also engine `noConPeer`). */
  LOST_CONNECTION: 10,
  BAD_PARAMS: 21,
  BAD_ADDR: 22,
  BAD_NIC: 23,
  USED_NIC: 24,
  BAD_BONDING: 25,
  BAD_VLAN: 26,
  BAD_BRIDGE: 27,
  /** A device did not come up; VDSM's ifup code, also for a DHCP lease that a blocking request did not get. */
  FAILED_IFUP: 29,
  USED_BOND: 31,
  /** Another network verb is running (non-blocking semaphore). */
  RESOURCE_UNAVAILABLE: 40,
  /** The requested fence agent is not installed. */
  FENCE_AGENT_MISSING: 43,
  /** The agent is still restoring its configuration after boot. */
  RECOVERING: 99,
} as const;
export type VdsmCode = (typeof VdsmCode)[keyof typeof VdsmCode];

/**
 * A failure a verb reports to its caller as a JSON-RPC error with a VDSM code. Thrown by model validators
 * and agent verbs; the transport turns it into `{"error":{"code":…,"message":…}}`.
 */
export class VdsmError extends Error {
  override readonly name = 'VdsmError';
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}
