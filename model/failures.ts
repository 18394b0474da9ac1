/**
 * hostprov's failure vocabulary: every typed failure, defined once, with whether retrying can help and what it
 * means. Activities raise the `raised` ones as Temporal `ApplicationFailure`s whose `type` is the name here
 * (names survive the workflow sandbox and land in history; classes do not), the retry policies match them by
 * name, and an install result's `failure.type` carries one of them. The `reported` ones are never thrown: the
 * workflow decides them and returns them in a result.
 *
 * Pure and deterministic: workflows import it.
 */
import { JsonRpcCode, VdsmCode } from './vdsm/error-codes';

export const FailureType = {
  INVALID_INPUT: 'InvalidInput',
  AGENT_REJECTED: 'AgentRejected',
  AGENT_ERROR: 'AgentError',
  AGENT_UNREACHABLE: 'AgentUnreachable',
  /** Same spelling as the client's error class, whose `name` it was before this vocabulary existed. */
  AGENT_CONNECTION_LOST: 'AgentConnectionError',
  AGENT_TIMEOUT: 'AgentTimeoutError',
  SECRET_UNAVAILABLE: 'SecretUnavailable',
  SECRET_REFUSED: 'SecretRefused',
  INSECURE_AGENT_REFUSED: 'InsecureAgentRefused',
  FENCE_FAILED: 'FenceFailed',
  /** The store's failures keep the spelling of its error classes (store/errors.ts), as they did before this vocabulary. */
  STORE_CONSTRAINT: 'StoreConstraintError',
  STORE_NOT_FOUND: 'StoreNotFoundError',
  STORE_INPUT: 'StoreInputError',
  STORE_BUSY: 'StoreBusyError',
  DEVICE_NOT_FOUND: 'DeviceNotFound',
  IP_ON_FOREIGN_BRIDGE: 'IpOnForeignBridge',
  VLAN_MISMATCH: 'VlanMismatch',
  DEGENERATE_BOND: 'DegenerateBond',
  BOND_MODE_FORBIDS_VM_NETWORK: 'BondModeForbidsVmNetwork',
  NO_BOOT_PROTOCOL: 'NoBootProtocol',
  DEFAULT_ROUTE_ROLE: 'DefaultRouteRole',
  CONNECTIVITY_CHECK_FAILED: 'ConnectivityCheckFailed',
  VERIFICATION_FAILED: 'VerificationFailed',
  CLUSTER_LEVEL_UNSUPPORTED: 'ClusterLevelUnsupported',
} as const;
export type FailureType = (typeof FailureType)[keyof typeof FailureType];

export interface FailureInfo {
  /** Whether asking again (same request, later) can succeed. */
  retryable: boolean;
  /** `raised` as an ApplicationFailure by an activity or the workflow; `reported` only in a result. */
  how: 'raised' | 'reported';
  meaning: string;
}

export const FAILURES: Readonly<Record<FailureType, FailureInfo>> = {
  [FailureType.INVALID_INPUT]: { retryable: false, how: 'raised', meaning: 'the input broke the contract; nothing was done' },
  [FailureType.AGENT_REJECTED]: {
    retryable: false,
    how: 'raised',
    meaning: 'the agent refused the request (bad params, unknown verb): it will refuse it again',
  },
  [FailureType.AGENT_ERROR]: {
    retryable: true,
    how: 'raised',
    meaning: 'the agent failed the request for a reason that may pass (busy, recovering, internal error)',
  },
  [FailureType.AGENT_UNREACHABLE]: {
    retryable: false,
    how: 'raised',
    meaning: 'the agent did not answer within the whole wait the policy allows',
  },
  [FailureType.AGENT_CONNECTION_LOST]: {
    retryable: true,
    how: 'raised',
    meaning: 'the connection to the agent could not be made or was lost',
  },
  [FailureType.AGENT_TIMEOUT]: { retryable: true, how: 'raised', meaning: 'the agent sent no response within the call timeout' },
  [FailureType.SECRET_UNAVAILABLE]: { retryable: false, how: 'raised', meaning: 'a secret reference does not resolve on this worker' },
  [FailureType.SECRET_REFUSED]: {
    retryable: false,
    how: 'raised',
    meaning: "a secret reference points outside the worker's secrets directory or environment prefix",
  },
  [FailureType.INSECURE_AGENT_REFUSED]: {
    retryable: false,
    how: 'raised',
    meaning: 'an agent endpoint without TLS, on a worker not started to allow them',
  },
  [FailureType.FENCE_FAILED]: { retryable: false, how: 'raised', meaning: 'the fence agent on the proxy host reported a failure' },
  [FailureType.STORE_CONSTRAINT]: {
    retryable: false,
    how: 'raised',
    meaning: 'the store write would break one of its rules; nothing was changed',
  },
  [FailureType.STORE_NOT_FOUND]: {
    retryable: false,
    how: 'raised',
    meaning: 'a row the store operation names or references does not exist',
  },
  [FailureType.STORE_INPUT]: { retryable: false, how: 'raised', meaning: 'the store refused the input as invalid; nothing was changed' },
  [FailureType.STORE_BUSY]: {
    retryable: true,
    how: 'raised',
    meaning: 'the database was busy or the transaction lost a conflict; nothing was changed',
  },
  [FailureType.DEVICE_NOT_FOUND]: {
    retryable: false,
    how: 'reported',
    meaning: "the device that reaches the manager is not in the host's capabilities",
  },
  [FailureType.IP_ON_FOREIGN_BRIDGE]: {
    retryable: false,
    how: 'reported',
    meaning: 'the host address sits on a bridge that is not the management network',
  },
  [FailureType.VLAN_MISMATCH]: {
    retryable: false,
    how: 'reported',
    meaning: "the device reaching the manager carries a VLAN other than the management network's",
  },
  [FailureType.DEGENERATE_BOND]: {
    retryable: false,
    how: 'reported',
    meaning: 'the management network would sit on a bond with fewer than two slaves',
  },
  [FailureType.BOND_MODE_FORBIDS_VM_NETWORK]: {
    retryable: false,
    how: 'reported',
    meaning: 'the management network is a VM network but would sit on a bond in mode 0, 5 or 6 (docs/engine-host-networking.md#bond-modes)',
  },
  [FailureType.NO_BOOT_PROTOCOL]: {
    retryable: false,
    how: 'reported',
    meaning: 'the device has no address and no DHCP, so the default-route network would get no boot protocol',
  },
  [FailureType.DEFAULT_ROUTE_ROLE]: {
    retryable: false,
    how: 'reported',
    meaning: 'the request would break the default-route role (two holders, or an IPv6 gateway or nameservers off the holder)',
  },
  [FailureType.CONNECTIVITY_CHECK_FAILED]: {
    retryable: false,
    how: 'reported',
    meaning: 'the host lost the manager after the change and rolled it back',
  },
  [FailureType.VERIFICATION_FAILED]: {
    retryable: false,
    how: 'reported',
    meaning: 'after the change (and reboot) the host does not report the network as devised',
  },
  [FailureType.CLUSTER_LEVEL_UNSUPPORTED]: {
    retryable: false,
    how: 'reported',
    meaning: "the host does not support the cluster's compatibility level, so the engine could not use it; nothing was changed",
  },
};

export function isRetryable(type: FailureType): boolean {
  return FAILURES[type].retryable;
}

/** What retry policies list as `nonRetryableErrorTypes`: every raised failure a retry cannot fix. */
export const NON_RETRYABLE_FAILURE_TYPES: readonly FailureType[] = Object.values(FailureType).filter(
  (t) => FAILURES[t].how === 'raised' && !FAILURES[t].retryable,
);

/** Agent answers a retry cannot change: validation refusals and protocol errors about the request itself. */
const REFUSAL_CODES: ReadonlySet<number> = new Set<number>([
  VdsmCode.BAD_PARAMS,
  VdsmCode.BAD_ADDR,
  VdsmCode.BAD_NIC,
  VdsmCode.USED_NIC,
  VdsmCode.BAD_BONDING,
  VdsmCode.BAD_VLAN,
  VdsmCode.BAD_BRIDGE,
  VdsmCode.USED_BOND,
  VdsmCode.FENCE_AGENT_MISSING,
  JsonRpcCode.METHOD_NOT_FOUND,
  JsonRpcCode.INVALID_PARAMS,
  JsonRpcCode.INVALID_REQUEST,
]);

/** Agent answers that only say "not now": another network verb runs, or the agent still restores its config. */
const NOT_NOW_CODES: ReadonlySet<number> = new Set<number>([VdsmCode.RESOURCE_UNAVAILABLE, VdsmCode.RECOVERING]);

/** The failure type of an agent's error answer (a JSON-RPC error code or a VDSM status code). */
export function agentFailureType(code: number): typeof FailureType.AGENT_REJECTED | typeof FailureType.AGENT_ERROR {
  return REFUSAL_CODES.has(code) ? FailureType.AGENT_REJECTED : FailureType.AGENT_ERROR;
}

/**
 * The failure type of `Host.fenceNode`'s error answer: any VDSM status code other than "not now" is the fence
 * agent's verdict (VDSM passes the agent's exit status on), so asking again would fence again for nothing.
 */
export function fenceFailureType(code: number): typeof FailureType.FENCE_FAILED | ReturnType<typeof agentFailureType> {
  return code > 0 && !NOT_NOW_CODES.has(code) ? FailureType.FENCE_FAILED : agentFailureType(code);
}
