/**
 * Our extension to VDSM's connectivity check (docs/vdsm-wire-protocol.md#the-confirmation-signal). VDSM's caller
 * cannot know when a change is in the kernel, so it polls `Host.confirmConnectivity` on a timer and the change
 * waits for the next poll. Our agent says when: the moment a `Host.setupNetworks` under a connectivity check
 * starts to wait, it publishes an event, and a caller that subscribed confirms at once. The CONNECTED frame's
 * `server` header tells a caller whether the agent does this; stock VDSM sends no such header and no event.
 */

/** The `server` header of our agent's STOMP CONNECTED (STOMP 1.2 `name/version`). */
export const HOSTPROV_AGENT_SERVER = 'hostprov-agent/1';

/** Whether an agent whose CONNECTED carried `server` publishes {@link awaitingConfirmationEvent}. */
export function announcesAwaitingConfirmation(server: string | undefined): boolean {
  return server?.split('/')[0] === HOSTPROV_AGENT_SERVER.split('/')[0];
}

/** The event our agent publishes when the change of request `requestId` is applied and awaits confirmation. */
export function awaitingConfirmationEvent(requestId: string | number): string {
  return `|hostprov|awaiting_confirmation|${requestId}`;
}
