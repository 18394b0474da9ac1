/**
 * Failures of the Linux backend, one class per condition, each carrying what a caller needs to act on it
 * (which op failed, what the kernel said) rather than only a message.
 */
import type { Family, PlanOp } from '../../model/net-state';

/**
 * An op of a plan failed while applying. Ops before `opIndex` stay applied (the agent rolls back itself);
 * ops after it were not attempted.
 */
export class PlanApplyError extends Error {
  override readonly name = 'PlanApplyError';
  constructor(
    readonly opIndex: number,
    readonly op: PlanOp,
    /** What the failing tool reported (iproute2's stderr, or the DHCP manager's error message). */
    readonly stderr: string,
  ) {
    super(`plan op #${opIndex} (${op.kind}) failed: ${stderr.trim() || 'no error output'}`);
  }
}

/** A value in a plan op cannot be rendered into an `ip -batch` line safely (bad name, address, number, option). */
export class UnsafeBatchArgumentError extends Error {
  override readonly name = 'UnsafeBatchArgumentError';
  constructor(
    readonly field: string,
    readonly value: unknown,
    readonly reason: string,
  ) {
    super(`${field}: ${reason} (got ${describeValue(value)})`);
  }
}

/**
 * A refused value for a message: JSON where JSON can say it, never an exception of its own (a BigInt or a
 * cycle would make JSON.stringify throw), and short (a hostile value may be megabytes).
 */
function describeValue(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = typeof value === 'bigint' ? `${value}n` : `a ${typeof value}`;
  }
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}

/**
 * A plan was rejected before anything ran because op `opIndex` cannot be rendered safely. Nothing of the
 * plan was applied.
 */
export class InvalidPlanOpError extends Error {
  override readonly name = 'InvalidPlanOpError';
  constructor(
    readonly opIndex: number,
    readonly op: PlanOp,
    override readonly cause: UnsafeBatchArgumentError,
  ) {
    super(`plan op #${opIndex} (${op.kind}) is invalid, nothing applied: ${cause.message}`);
  }
}

/** `ip -j` printed something that does not have the shape we rely on (a different iproute2, or a bug). */
export class IpJsonShapeError extends Error {
  override readonly name = 'IpJsonShapeError';
  constructor(
    readonly what: string,
    readonly issues: string,
  ) {
    super(`unexpected ip -j output for ${what}: ${issues}`);
  }
}

/** A caller passed something that is not an IP address where one is required (e.g. `routeTo`). */
export class InvalidAddressError extends Error {
  override readonly name = 'InvalidAddressError';
  constructor(readonly value: string) {
    super(`not an IP address: ${JSON.stringify(value)}`);
  }
}

/** Starting or stopping a DHCP client failed. */
export class DhcpClientError extends Error {
  override readonly name = 'DhcpClientError';
  constructor(
    readonly dev: string,
    readonly family: Family,
    message: string,
  ) {
    super(`DHCPv${family} client on ${dev}: ${message}`);
  }
}

/** No lease arrived in time (`waitForLease`). */
export class DhcpLeaseTimeoutError extends Error {
  override readonly name = 'DhcpLeaseTimeoutError';
  constructor(
    readonly dev: string,
    readonly family: Family,
    readonly timeoutMs: number,
  ) {
    super(`no DHCPv${family} lease on ${dev} within ${timeoutMs} ms`);
  }
}

/** A lease file does not hold what our dhclient script writes. */
export class InvalidLeaseFileError extends Error {
  override readonly name = 'InvalidLeaseFileError';
  constructor(
    readonly path: string,
    readonly issues: string,
  ) {
    super(`invalid lease file ${path}: ${issues}`);
  }
}

/** A link-type probe could not run at all (as opposed to the kernel refusing the type). */
export class LinkTypeProbeError extends Error {
  override readonly name = 'LinkTypeProbeError';
  constructor(
    readonly type: string,
    readonly stderr: string,
  ) {
    super(`could not probe link type ${type}: ${stderr}`);
  }
}

/** The long-lived `ip -batch` read session (iproute2/ip-session.ts) failed a read: it is restarted on the next one. */
export class IpSessionError extends Error {
  override readonly name = 'IpSessionError';
  constructor(
    readonly what: string,
    readonly detail: string,
    /** What ip wrote to stderr (its last 4 KiB), trimmed; empty when it said nothing. */
    readonly stderr = '',
  ) {
    super(`ip read session (${what}) failed: ${detail}`);
  }
}

/** tc refused to read or change a device's queueing (agent/backend/tc/qos.ts); the message says which line. */
export class TcApplyError extends Error {
  override readonly name = 'TcApplyError';
}
