/** Errors of the refresh model: programming errors of the caller, never the host's report. */

/** `refreshHost` was given a context whose parts do not belong together (parse it with `RefreshContext` first). */
export class RefreshPreconditionError extends Error {
  override readonly name = 'RefreshPreconditionError';
}
