/** Errors of the hostSetupNetworks model: programming errors of the caller, never the request's (those are violations). */

/**
 * A function was called on a request it cannot work from: a payload or an intent for a request that
 * `validateHostSetupNetworks` did not accept, or a request for another host than the context's.
 */
export class HostSetupNetworksPreconditionError extends Error {
  override readonly name = 'HostSetupNetworksPreconditionError';
}
