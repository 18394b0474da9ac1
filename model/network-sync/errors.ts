/** Errors of the out-of-sync model: programming errors of the caller (inputs that do not belong together), never drift. */

/** A function was given pieces of different networks or hosts, e.g. an attachment with another network's definition. */
export class NetworkSyncPreconditionError extends Error {
  override readonly name = 'NetworkSyncPreconditionError';
}
