/** Well-known STOMP destinations of VDSM's wire protocol, used by client and server (docs/vdsm-wire-protocol.md#destinations-and-reply-to). */
export const Destination = {
  REQUESTS: 'jms.topic.vdsm_requests',
  IRS_REQUESTS: 'jms.topic.vdsm_irs_requests',
  RESPONSES: 'jms.topic.vdsm_responses',
  EVENTS: 'jms.queue.events',
} as const;
