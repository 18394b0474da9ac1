/**
 * One STOMP session from a client to an agent (or VDSM), in the order the engine's Java client uses
 * (docs/vdsm-wire-protocol.md#connecting): connect (TLS or TCP) → CONNECT → SUBSCRIBE replies → SUBSCRIBE events → SENDs.
 * Knows frames and subscriptions, not JSON-RPC; `AgentClient` builds calls on top.
 */
import { randomUUID } from 'node:crypto';
import { connect as connectTcp, type Socket } from 'node:net';
import { connect as connectTls, TLSSocket } from 'node:tls';
import type { Logger } from '../../lib/logger';
import { AgentConnectionError } from './errors';
import { describeEndpoint, isInsecureEndpoint, type AgentEndpoint } from './endpoint';
import { StompParser, encodeFrame, frameText, type OutgoingFrame, type StompFrame } from '../stomp/frame';
import { clampHeartbeatMs } from '../stomp/heart-beat';
import { clientTlsOptions } from '../tls';
import { clientTlsCache } from './tls-cache';
import { Destination } from '../stomp/destinations';

export interface SessionOptions {
  /** `heart-beat:0,<n>` in CONNECT; the session is declared dead after `2 n` ms without a byte. 0 disables. */
  heartBeatMs: number;
  connectTimeoutMs: number;
  maxFrameBytes: number;
  hostHeader: string;
  subscribeEvents: boolean;
  log: Logger;
}

export interface SessionHandlers {
  /** A MESSAGE on the session's reply destination. */
  onReply(body: string): void;
  /** A MESSAGE on `jms.queue.events`. */
  onEvent(body: string): void;
  /** The session is gone; `error` says why. Called once. */
  onClosed(error: AgentConnectionError): void;
}

const DISCONNECT_GRACE_MS = 1000;

export class ClientSession {
  /** The per-session UUID destination responses come back on (like `vdsm-client`). */
  readonly replyDestination = randomUUID();
  readonly #replySubscription = randomUUID();
  readonly #eventSubscription = randomUUID();
  readonly #endpointName: string;
  readonly #parser: StompParser;
  #handlers: SessionHandlers | undefined;
  #closedWith: AgentConnectionError | undefined;
  #lastReadAt = Date.now();
  #server: string | undefined;
  #watchdog: NodeJS.Timeout | undefined;
  #lastStompError: string | undefined;

  private constructor(
    private readonly socket: Socket,
    endpoint: AgentEndpoint,
    private readonly options: SessionOptions,
  ) {
    this.#endpointName = describeEndpoint(endpoint);
    this.#parser = new StompParser({ maxFrameBytes: options.maxFrameBytes });
  }

  /** Connects and completes CONNECT/CONNECTED and the subscriptions; rejects with AgentConnectionError. */
  static async open(endpoint: AgentEndpoint, options: SessionOptions, handlers: SessionHandlers): Promise<ClientSession> {
    const name = describeEndpoint(endpoint);
    // Encoded before connecting: a host header that cannot be written (an end of line in it) fails here.
    let connectFrame: Buffer;
    try {
      connectFrame = encodeFrame({
        command: 'CONNECT',
        headers: { 'accept-version': '1.2', host: options.hostHeader, 'heart-beat': `0,${options.heartBeatMs}` },
      });
    } catch (err) {
      throw new AgentConnectionError(name, (err as Error).message, { cause: err });
    }
    const { tls } = endpoint;
    let socket: Socket;
    if ('insecure' in tls) {
      socket = connectTcp({ host: endpoint.host, port: endpoint.port });
    } else {
      let cached;
      try {
        cached = await clientTlsCache.context(tls);
      } catch (err) {
        throw new AgentConnectionError(name, (err as Error).message, { cause: err });
      }
      const address = `${endpoint.host}:${endpoint.port}/${tls.serverName ?? ''}`;
      const target = { host: endpoint.host, port: endpoint.port, ...(tls.serverName ? { serverName: tls.serverName } : {}) };
      socket = connectTls(clientTlsOptions(cached.context, target, clientTlsCache.session(cached.key, address)));
      socket.on('session', (ticket: Buffer) => clientTlsCache.keepSession(cached.key, address, ticket));
      // A session that led to a failed handshake is not offered again.
      socket.once('error', () => clientTlsCache.dropSession(cached.key, address));
    }
    const session = new ClientSession(socket, endpoint, options);
    await session.#handshake(isInsecureEndpoint(endpoint) ? 'connect' : 'secureConnect', connectFrame);
    session.#handlers = handlers;
    return session;
  }

  get alive(): boolean {
    return this.#closedWith === undefined;
  }

  /** The `server` header of the agent's CONNECTED (STOMP 1.2, optional; stock VDSM sends none). */
  get server(): string | undefined {
    return this.#server;
  }

  /** Whether the TLS handshake resumed an earlier session (`false` for plain TCP). */
  get tlsResumed(): boolean {
    return this.socket instanceof TLSSocket && this.socket.isSessionReused();
  }

  /** Sends a frame; false if the session is already closed. */
  send(frame: OutgoingFrame): boolean {
    if (!this.alive || this.socket.destroyed) return false;
    this.socket.write(encodeFrame(frame));
    return true;
  }

  /**
   * DISCONNECT and hang up, without waiting. A caller closes once every reply it waited for has arrived, so a
   * receipt would confirm nothing: not asking for one saves the agent a frame and the caller a round trip.
   * The socket ends after the frame is out; one whose peer never closes its side goes after a grace period.
   */
  close(): Promise<void> {
    if (!this.alive) return Promise.resolve();
    const { socket } = this;
    socket.end(encodeFrame({ command: 'DISCONNECT', headers: {} }));
    setTimeout(() => socket.destroy(), DISCONNECT_GRACE_MS).unref();
    this.#terminate(new AgentConnectionError(this.#endpointName, 'client closed the connection'), { hangUp: false });
    return Promise.resolve();
  }

  /** TCP/TLS connect, CONNECT → CONNECTED, SUBSCRIBEs; all within `connectTimeoutMs`. */
  #handshake(readyEvent: 'connect' | 'secureConnect', connectFrame: Buffer): Promise<void> {
    const { socket, options } = this;
    return new Promise<void>((resolvePromise, reject) => {
      let settled = false;
      const fail = (reason: string, cause?: unknown): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket.destroy();
        this.#closedWith = new AgentConnectionError(this.#endpointName, reason, { cause });
        reject(this.#closedWith);
      };
      const timer = setTimeout(() => fail(`no STOMP session within ${options.connectTimeoutMs} ms`), options.connectTimeoutMs);
      const onError = (err: Error): void => fail(err.message, err);
      let transportReady = false;
      const onClose = (): void =>
        fail(
          readyEvent === 'secureConnect' && transportReady
            ? 'connection closed after the TLS handshake, before STOMP CONNECTED: the agent probably refused our client certificate'
            : 'connection closed before the STOMP session was established',
        );
      socket.on('error', onError);
      socket.once('close', onClose);
      socket.once(readyEvent, () => {
        transportReady = true;
        socket.setNoDelay(true);
        socket.write(connectFrame);
      });
      // Frames before CONNECTED are handled here; afterwards `#onFrame` takes over.
      let connected = false;
      socket.on('data', (chunk: Buffer) => {
        this.#lastReadAt = Date.now();
        let frames: StompFrame[];
        try {
          frames = this.#parser.push(chunk);
        } catch (err) {
          if (!connected) fail(`invalid STOMP from agent: ${(err as Error).message}`, err);
          else
            this.#terminate(
              new AgentConnectionError(this.#endpointName, `invalid STOMP from agent: ${(err as Error).message}`, { cause: err }),
            );
          return;
        }
        for (const frame of frames) {
          if (connected) {
            this.#onFrame(frame);
            continue;
          }
          if (frame.command !== 'CONNECTED') {
            const detail = frame.command === 'ERROR' ? (frame.headers.message ?? frameText(frame)) : `unexpected ${frame.command}`;
            fail(`STOMP CONNECT refused: ${detail}`);
            return;
          }
          connected = true;
          settled = true;
          clearTimeout(timer);
          socket.off('error', onError);
          socket.off('close', onClose);
          this.#afterConnected(frame);
          resolvePromise();
        }
      });
    });
  }

  #afterConnected(connected: StompFrame): void {
    const { socket, options } = this;
    this.#server = connected.headers.server;
    socket.on('error', (err) => this.#terminate(new AgentConnectionError(this.#endpointName, err.message, { cause: err })));
    socket.on('close', () => {
      const why = this.#lastStompError ? ` after STOMP ERROR "${this.#lastStompError}"` : '';
      this.#terminate(new AgentConnectionError(this.#endpointName, `connection closed by the agent${why}`));
    });
    // The subscriptions go out with the first SEND, which follows in this turn of the event loop: one TLS
    // record and one packet instead of one per frame (docs/performance.md#agent-connections).
    socket.cork();
    setImmediate(() => socket.uncork());
    this.send({ command: 'SUBSCRIBE', headers: { destination: this.replyDestination, id: this.#replySubscription, ack: 'auto' } });
    if (options.subscribeEvents) {
      this.send({ command: 'SUBSCRIBE', headers: { destination: Destination.EVENTS, id: this.#eventSubscription, ack: 'auto' } });
    }
    // The agent's CONNECTED says how often it will send (`<sx>,<sy>`); silence for twice that means it is gone.
    // Clamped like the agent clamps ours (docs/vdsm-wire-protocol.md#heart-beats), so no answer can make the
    // watchdog a timer Node would run every millisecond.
    const agentSendsEvery = clampHeartbeatMs(Number(connected.headers['heart-beat']?.split(',')[0] ?? 0));
    if (options.heartBeatMs > 0 && agentSendsEvery > 0) {
      const limit = 2 * agentSendsEvery;
      this.#watchdog = setInterval(() => {
        const silent = Date.now() - this.#lastReadAt;
        if (silent > limit) this.#terminate(new AgentConnectionError(this.#endpointName, `no heart-beat from the agent for ${silent} ms`));
      }, agentSendsEvery / 2);
      this.#watchdog.unref();
    }
  }

  #onFrame(frame: StompFrame): void {
    switch (frame.command) {
      case 'MESSAGE': {
        const subscription = frame.headers.subscription;
        if (subscription === this.#replySubscription) this.#handlers?.onReply(frameText(frame));
        else if (subscription === this.#eventSubscription) this.#handlers?.onEvent(frameText(frame));
        else this.options.log.debug({ subscription, destination: frame.headers.destination }, 'MESSAGE for an unknown subscription');
        return;
      }
      case 'RECEIPT':
        // This client asks for none; an agent that sends one anyway is answered by nothing.
        return;
      case 'ERROR':
        // The agent closes the connection after fatal errors; that close is what fails pending calls.
        this.#lastStompError = frame.headers.message ?? frameText(frame);
        this.options.log.warn({ message: frame.headers.message, detail: frameText(frame) }, 'agent sent a STOMP ERROR');
        return;
      default:
        this.options.log.debug({ command: frame.command }, 'ignoring unexpected STOMP frame');
    }
  }

  /** Marks the session dead once, stops timers, destroys the socket and tells the owner. */
  /** Ends the session once; `hangUp: false` leaves the socket to finish what it is sending (a close). */
  #terminate(error: AgentConnectionError, { hangUp = true } = {}): void {
    if (this.#closedWith) return;
    this.#closedWith = error;
    clearInterval(this.#watchdog);
    if (hangUp) this.socket.destroy();
    this.#handlers?.onClosed(error);
  }
}
