/** VDSM's management port, where lab agents listen (vdsm-protocol.md §1.1). */
export const AGENT_PORT_DEFAULT = 54321;
