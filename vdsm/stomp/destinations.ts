/** Well-known STOMP destinations of VDSM's wire protocol, used by client and server (vdsm-protocol.md §1.2). */
export const Destination = {
  REQUESTS: 'jms.topic.vdsm_requests',
  IRS_REQUESTS: 'jms.topic.vdsm_irs_requests',
  RESPONSES: 'jms.topic.vdsm_responses',
  EVENTS: 'jms.queue.events',
} as const;
