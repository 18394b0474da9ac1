/**
 * VDSM's `[addresses] management_port` default (vdsm lib/vdsm/common/config.py.in): where the engine reaches
 * a host's agent, and where ours listens by default (docs/vdsm-wire-protocol.md#tls-and-the-port).
 */
export const VDSM_PORT = 54321;
