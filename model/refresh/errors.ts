/** Errors of the refresh model: a context whose parts do not belong together, and a host report hostprov will not store. */

/** `refreshHost` was given a context whose parts do not belong together (parse it with `RefreshContext` first). */
export class RefreshPreconditionError extends Error {
  override readonly name = 'RefreshPreconditionError';
}

/**
 * The host's capabilities give a report the store would refuse (an interface name the kernel cannot have,
 * a network or interface reported twice, ...). Nothing is decided from such a report. In workflow code,
 * turn it into a failure of the refresh rather than let it fail the workflow task.
 */
export class HostReportError extends Error {
  override readonly name = 'HostReportError';
  constructor(
    readonly hostId: string,
    /** One sentence per problem, with where it is in the report. */
    readonly issues: string[],
  ) {
    super(`host ${hostId} reports interfaces hostprov cannot record: ${issues.join('; ')}`);
  }
}
