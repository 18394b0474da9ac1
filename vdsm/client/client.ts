/**
 * `AgentClient`: JSON-RPC calls to an agent or a real VDSM over STOMP, for Temporal activities.
 *
 * One STOMP session at a time. When it drops, calls in flight fail with AgentConnectionError and the next
 * call opens a new session, so a long-lived client survives agent restarts and network changes (which
 * `Host.setupNetworks` causes on purpose).
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { getLogger, type Logger } from '../../lib/logger';
import { AgentConnectionError, AgentProtocolError, AgentRpcError, AgentTimeoutError, DuplicateCallIdError } from './errors';
import { ClientSession } from './session';
import { AgentEndpointSchema, describeEndpoint, type AgentEndpoint, type AgentEndpointInput } from './endpoint';
import { Destination } from '../stomp/destinations';
import type { AgentEvent } from '../verbs';

export interface AgentClientOptions {
  /**
   * Sent as `heart-beat:0,<n>` like the engine (which asks for 15000 by default, docs/vdsm-wire-protocol.md#heart-beats):
   * we never send heart-beats, the agent sends one every `n` ms, and 2 n ms of silence ends the session.
   * 0 disables. @default 15000
   */
  heartBeatMs?: number;
  /** Budget for TCP/TLS connect plus the STOMP CONNECT exchange. @default 10000 */
  connectTimeoutMs?: number;
  /** Timeout of a call that does not set its own. @default 30000 */
  callTimeoutMs?: number;
  /** Subscribes to `jms.queue.events` and receives each notification. Exceptions it throws are logged. */
  onEvent?: (event: AgentEvent) => void;
  /**
   * The CONNECT `host` header, sent unescaped as STOMP 1.2 says (VDSM ignores it; the engine sends its host
   * identifier). @default endpoint.host, any colon (an IPv6 literal) written as `\c`: stock VDSM unescapes
   * CONNECT headers too and refuses a raw colon (vdsm lib/yajsonrpc/stomp.py decodeValue), while a STOMP 1.2
   * server such as our agent takes the value as it is; neither uses it.
   */
  hostHeader?: string;
  /** Largest STOMP frame accepted from the agent; capability reports are large. @default 64 MiB */
  maxFrameBytes?: number;
  /** @default getLogger('agent-transport') */
  logger?: Logger;
}

export interface CallOptions {
  /** @default the client's `callTimeoutMs` (30 s). Counted from sending the request. */
  timeoutMs?: number;
  /** JSON-RPC id. Reuse it when retrying a call so the agent can recognise the retry. @default a fresh UUID */
  id?: string;
  /** Sent as the `ovirtCorrelationId` header (VDSM logs it as flow_id). */
  flowId?: string;
}

export type CallParams = Record<string, unknown> | readonly unknown[];

const responseSchema = z.object({
  jsonrpc: z.literal('2.0'),
  id: z.union([z.string(), z.number(), z.null()]),
  result: z.unknown().optional(),
  error: z.object({ code: z.number().int(), message: z.string() }).optional(),
});

const eventSchema = z.object({
  method: z.string().min(1),
  params: z.record(z.string(), z.unknown()).optional(),
});

interface PendingCall {
  readonly method: string;
  readonly session: ClientSession;
  readonly resolve: (result: unknown) => void;
  readonly reject: (err: Error) => void;
  readonly timer: NodeJS.Timeout;
}

export class AgentClient {
  readonly endpoint: AgentEndpoint;
  readonly #name: string;
  readonly #options: Required<Omit<AgentClientOptions, 'onEvent' | 'hostHeader' | 'logger'>>;
  readonly #onEvent: ((event: AgentEvent) => void) | undefined;
  readonly #hostHeader: string;
  readonly #log: Logger;
  readonly #pending = new Map<string, PendingCall>();
  #session: ClientSession | undefined;
  #opening: Promise<ClientSession> | undefined;
  #closed = false;
  #sessionsOpened = 0;

  private constructor(endpoint: AgentEndpoint, options: AgentClientOptions) {
    this.endpoint = endpoint;
    this.#name = describeEndpoint(endpoint);
    this.#options = {
      heartBeatMs: options.heartBeatMs ?? 15_000,
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
      callTimeoutMs: options.callTimeoutMs ?? 30_000,
      maxFrameBytes: options.maxFrameBytes ?? 64 * 1024 * 1024,
    };
    this.#onEvent = options.onEvent;
    this.#hostHeader = options.hostHeader ?? endpoint.host.replaceAll(':', '\\c');
    this.#log = (options.logger ?? getLogger('agent-transport')).child({ agent: this.#name });
  }

  /**
   * Validates `endpoint` (throws a ZodError if it is malformed), connects, and completes the STOMP session.
   * Rejects with AgentConnectionError when the agent cannot be reached or refuses us.
   */
  static async connect(endpoint: AgentEndpointInput, options: AgentClientOptions = {}): Promise<AgentClient> {
    const client = new AgentClient(AgentEndpointSchema.parse(endpoint), options);
    await client.#currentSession();
    return client;
  }

  /**
   * Calls `method` and resolves with its `result`. Rejects with AgentRpcError (the agent answered with an
   * error), AgentTimeoutError, AgentConnectionError (could not connect, or the connection dropped while
   * waiting) or AgentProtocolError. Reconnects first if the previous session was lost.
   */
  async call<T = unknown>(method: string, params: CallParams = {}, options: CallOptions = {}): Promise<T> {
    const session = await this.#currentSession();
    const id = options.id ?? randomUUID();
    if (this.#pending.has(id)) throw new DuplicateCallIdError(id, method);
    const timeoutMs = options.timeoutMs ?? this.#options.callTimeoutMs;
    const result = new Promise<unknown>((resolvePromise, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new AgentTimeoutError(method, timeoutMs));
      }, timeoutMs);
      this.#pending.set(id, { method, session, resolve: resolvePromise, reject, timer });
    });
    const sent = session.send({
      command: 'SEND',
      headers: {
        destination: Destination.REQUESTS,
        'reply-to': session.replyDestination,
        'content-type': 'application/json',
        ovirtCorrelationId: options.flowId,
      },
      body: JSON.stringify({ jsonrpc: '2.0', method, params, id }),
    });
    if (!sent) this.#settle(id, (call) => call.reject(new AgentConnectionError(this.#name, 'connection lost before the request was sent')));
    return result as Promise<T>;
  }

  /** The `server` header of the current session's CONNECTED, e.g. {@link HOSTPROV_AGENT_SERVER}; stock VDSM sends none. */
  get server(): string | undefined {
    return this.#session?.server;
  }

  /** Whether the current session's TLS handshake resumed an earlier session (docs/performance.md#agent-connections). */
  get tlsResumed(): boolean {
    return this.#session?.tlsResumed ?? false;
  }

  /**
   * Sessions this client has opened, the first included. A client reopens one only after losing the one
   * before, so a subscriber that sees this grow missed the events sent in between.
   */
  get sessionsOpened(): number {
    return this.#sessionsOpened;
  }

  /** Ends the session; calls still waiting fail with AgentConnectionError. The client cannot be reused. */
  async close(): Promise<void> {
    this.#closed = true;
    const session = this.#session ?? (await this.#opening?.catch(() => undefined));
    this.#session = undefined;
    for (const id of [...this.#pending.keys()]) {
      this.#settle(id, (call) => call.reject(new AgentConnectionError(this.#name, 'client closed while the call was waiting')));
    }
    await session?.close();
  }

  /** The live session, opening a new one if there is none (at most one open attempt at a time). */
  async #currentSession(): Promise<ClientSession> {
    if (this.#closed) throw new AgentConnectionError(this.#name, 'client is closed');
    if (this.#session?.alive) return this.#session;
    this.#opening ??= this.#open().finally(() => (this.#opening = undefined));
    return this.#opening;
  }

  async #open(): Promise<ClientSession> {
    const session = await ClientSession.open(
      this.endpoint,
      {
        heartBeatMs: this.#options.heartBeatMs,
        connectTimeoutMs: this.#options.connectTimeoutMs,
        maxFrameBytes: this.#options.maxFrameBytes,
        hostHeader: this.#hostHeader,
        subscribeEvents: this.#onEvent !== undefined,
        log: this.#log,
      },
      {
        onReply: (body) => this.#onReply(body),
        onEvent: (body) => this.#deliverEvent(body),
        onClosed: (error) => this.#onSessionClosed(error),
      },
    );
    if (this.#closed) {
      await session.close();
      throw new AgentConnectionError(this.#name, 'client closed while connecting');
    }
    this.#session = session;
    this.#sessionsOpened += 1;
    this.#log.debug('STOMP session established');
    return session;
  }

  #onSessionClosed(error: AgentConnectionError): void {
    if (this.#session && !this.#session.alive) this.#session = undefined;
    if (!this.#closed) this.#log.info({ reason: error.reason }, 'agent connection lost; the next call reconnects');
    for (const [id, call] of [...this.#pending]) {
      if (!call.session.alive) this.#settle(id, (c) => c.reject(error));
    }
  }

  #onReply(body: string): void {
    let message: unknown;
    try {
      message = JSON.parse(body);
    } catch {
      this.#log.warn({ body: body.slice(0, 200) }, 'agent reply is not JSON');
      return;
    }
    for (const entry of Array.isArray(message) ? message : [message]) this.#onResponse(entry);
  }

  #onResponse(entry: unknown): void {
    const parsed = responseSchema.safeParse(entry);
    if (!parsed.success || parsed.data.id === null) {
      // An error without an id (e.g. -32700) cannot be matched to a call; the call will time out.
      this.#log.warn({ response: JSON.stringify(entry).slice(0, 300) }, 'agent reply cannot be matched to a call');
      return;
    }
    const { id, error, result } = parsed.data;
    const hasResult = typeof entry === 'object' && entry !== null && 'result' in entry;
    const found = this.#settle(String(id), (call) => {
      if (error) call.reject(new AgentRpcError(error.code, error.message, call.method));
      else if (!hasResult) call.reject(new AgentProtocolError(this.#name, `response to ${call.method} has neither result nor error`));
      else call.resolve(result);
    });
    if (!found) this.#log.debug({ id }, 'reply for a call that already timed out or was never made');
  }

  #deliverEvent(body: string): void {
    let parsed;
    try {
      parsed = eventSchema.safeParse(JSON.parse(body));
    } catch {
      parsed = undefined;
    }
    if (!parsed?.success) {
      this.#log.warn({ body: body.slice(0, 200) }, 'ignoring malformed event');
      return;
    }
    try {
      this.#onEvent?.({ method: parsed.data.method, params: parsed.data.params ?? {} });
    } catch (err) {
      this.#log.error({ err, method: parsed.data.method }, 'onEvent handler threw');
    }
  }

  /** Removes a pending call and hands it to `finish`; false if it is no longer pending. */
  #settle(id: string, finish: (call: PendingCall) => void): boolean {
    const call = this.#pending.get(id);
    if (!call) return false;
    this.#pending.delete(id);
    clearTimeout(call.timer);
    finish(call);
    return true;
  }
}

/**
 * Opens a connection, runs `fn` with it and always closes it: for polling where each attempt must prove
 * that a new connection works (the confirm-connectivity loop after `Host.setupNetworks`).
 */
export async function withFreshConnection<T>(
  endpoint: AgentEndpointInput,
  fn: (client: AgentClient) => Promise<T>,
  options: AgentClientOptions = {},
): Promise<T> {
  const client = await AgentClient.connect(endpoint, options);
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}
