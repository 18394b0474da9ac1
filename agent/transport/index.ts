/** Entry points of the agent transport: the server side for the agent, the client side for activities. */
export { startAgentServer, type AgentServer, type AgentServerOptions } from './agent-server';
export { AgentClient, withFreshConnection, type AgentClientOptions, type CallOptions, type CallParams } from './client';
export {
  AgentConnectionError,
  AgentProtocolError,
  AgentRpcError,
  AgentTimeoutError,
  DuplicateCallIdError,
  isMethodNotFound,
} from './client-errors';
export {
  AgentEndpointSchema,
  describeEndpoint,
  parseAgentEndpoint,
  type AgentEndpoint,
  type AgentEndpointInput,
} from './endpoint';
export { JsonRpcDispatcher, type ConnectionContext, type JsonRpcResponse } from './json-rpc';
export { DEFAULT_MAX_FRAME_BYTES, StompFrameTooLargeError, StompParseError, StompParser, encodeFrame, type StompFrame } from './stomp-frame';
export { StompServer, type StompServerOptions } from './stomp-server';
export { INSECURE_WARNING, loadTlsMaterial, TlsMaterialError, type TlsFiles } from './tls';
export { Destination, type AgentEvent, type RpcContext, type VerbDefinition, type VerbHandler } from './types';
