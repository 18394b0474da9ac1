export { fence, DEFAULT_FENCE_AGENT_DIR, DEFAULT_FENCE_TIMEOUT_MS, type FenceOptions } from './fence';
export { FenceAction, FENCE_AGENT_NAME, InvalidFenceOptionsError, renderFenceAgentInput, type FenceRequest } from './fence-request';
export { fenceResultFromExit, type FenceNodeResult } from './fence-result';
export { FenceAgentFailedError, FenceAgentMissingError, FenceAgentTimeoutError } from './errors';
export { resolveFenceAgent, runFenceAgent, InvalidFenceAgentNameError, type FenceAgentExit, type FenceAgentRunOptions } from './run-fence-agent';
