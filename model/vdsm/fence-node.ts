/**
 * What `Host.fenceNode` may ask a fence agent to do (vdsm lib/vdsm/API.py `Global.fenceNode`, `action`). The
 * agent's verb, the activity that calls it and the testbed's power command share this one list.
 */
export const FenceAction = {
  STATUS: 'status',
  ON: 'on',
  OFF: 'off',
  REBOOT: 'reboot',
} as const;
export type FenceAction = (typeof FenceAction)[keyof typeof FenceAction];
