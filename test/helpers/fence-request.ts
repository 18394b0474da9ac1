/** A fence request for stand-in fence agents and unreachable BMCs: nothing in it reaches a real one. */
import type { FenceRequest } from '../../agent/fencing/fence-request';
import type { FenceAction } from '../../model/vdsm/fence-node';

export const standInFenceRequest = (agent: string, action: FenceAction = 'status'): FenceRequest => ({
  addr: '198.18.7.200',
  port: '',
  agent,
  username: 'admin',
  password: 's3cret',
  action,
  secure: false,
  options: '',
});
