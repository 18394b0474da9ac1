/** VDSM's management port, where lab agents listen (docs/vdsm-wire-protocol.md#tls-and-the-port). */
export const AGENT_PORT_DEFAULT = 54321;
