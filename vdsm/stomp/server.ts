/**
 * The STOMP 1.2 side of the agent, behaving like VDSM's StompServer (docs/vdsm-wire-protocol.md#stomp-12) over any duplex
 * stream (TLS or plain TCP). It knows destinations and subscriptions, not JSON-RPC: request bodies go to
 * `onRequest`, and whatever it answers is delivered to the subscribers of the request's `reply-to`.
 */
import { randomUUID } from 'node:crypto';
import type { Duplex } from 'node:stream';
import type { Logger } from '../../lib/logger';
import { HEARTBEAT, StompFrameTooLargeError, StompParser, encodeFrame, frameText, type OutgoingFrame, type StompFrame } from './frame';
import { Destination } from './destinations';
import { clampHeartbeatMs } from './heart-beat';
import { DEFAULT_TRANSPORT_LIMITS } from '../limits';

/** Who is on the other end of one STOMP connection. */
export interface ConnectionInfo {
  readonly connectionId: string;
  readonly localAddress: string;
  readonly remoteAddress: string;
}

/** A SEND to one of the request destinations. */
export interface StompRequest {
  readonly destination: string;
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly connection: ConnectionInfo;
}

/** Resolves with the body to send to the request's `reply-to` destination, or `null` to send nothing. */
export type StompRequestHandler = (request: StompRequest) => Promise<string | null>;

export interface StompServerOptions {
  onRequest: StompRequestHandler;
  /** SENDs to these (or to `<one of these>.<suffix>`) are requests. @default [Destination.REQUESTS, Destination.IRS_REQUESTS] */
  requestDestinations?: readonly string[];
  /** @default 4 MiB */
  maxFrameBytes?: number;
  /** Open connections; one more gets ERROR `Too many connections` and is closed. @default 64 */
  maxConnections?: number;
  /** A frame due while more than this many bytes still wait to be taken by the peer drops the connection. @default 16 MiB */
  maxOutgoingBytes?: number;
  /** A connection that has not sent CONNECT within this time is closed. @default 10000 */
  connectTimeoutMs?: number;
  /**
   * STOMP 1.2's optional `server` header of CONNECTED (`name/version`), which tells a client what it talks to.
   * VDSM sends none. @default none
   */
  serverHeader?: string;
  logger?: Logger;
}

/** A peer that promised heart-beats every `cx` ms is dropped after `cx * (1 + grace)` of silence. */
const HEARTBEAT_GRACE = 0.5;
const SUPPORTED_VERSION = '1.2';
const HEARTBEAT_HEADER = /^\s*(\d+)\s*,\s*(\d+)\s*$/;

interface Subscription {
  readonly connection: StompConnection;
  readonly id: string;
  readonly destination: string;
}

export class StompServer {
  readonly #options: Required<Omit<StompServerOptions, 'logger' | 'serverHeader'>>;
  readonly #serverHeader: string | undefined;
  readonly #log: Logger | undefined;
  readonly #connections = new Set<StompConnection>();
  /** Server-global routing: destination → subscriptions of every connection (docs/vdsm-wire-protocol.md#destinations-and-reply-to). */
  readonly #subscribers = new Map<string, Set<Subscription>>();

  constructor(options: StompServerOptions) {
    this.#options = {
      onRequest: options.onRequest,
      requestDestinations: options.requestDestinations ?? [Destination.REQUESTS, Destination.IRS_REQUESTS],
      maxFrameBytes: options.maxFrameBytes ?? DEFAULT_TRANSPORT_LIMITS.maxFrameBytes,
      maxConnections: options.maxConnections ?? DEFAULT_TRANSPORT_LIMITS.maxConnections,
      maxOutgoingBytes: options.maxOutgoingBytes ?? DEFAULT_TRANSPORT_LIMITS.maxOutgoingBytes,
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
    };
    this.#serverHeader = options.serverHeader;
    this.#log = options.logger;
  }

  /**
   * Serves STOMP on `socket` until it closes. `connectTimeoutMs` overrides the server default, so a caller
   * that already spent part of the budget on a TLS handshake can pass what is left. Returns `null` when the
   * server already has `maxConnections`: the peer then gets ERROR `Too many connections` and is closed.
   */
  attach(
    socket: Duplex,
    peer: { localAddress: string; remoteAddress: string },
    connectTimeoutMs = this.#options.connectTimeoutMs,
  ): ConnectionInfo | null {
    if (this.#connections.size >= this.#options.maxConnections) {
      this.#log?.warn({ remote: peer.remoteAddress, limit: this.#options.maxConnections }, 'too many STOMP connections; refusing one');
      refuse(socket, 'Too many connections', `the agent serves at most ${this.#options.maxConnections} connections; try again later`);
      return null;
    }
    const info: ConnectionInfo = { connectionId: randomUUID(), ...peer };
    const connection = new StompConnection(this, socket, info, {
      maxFrameBytes: this.#options.maxFrameBytes,
      maxOutgoingBytes: this.#options.maxOutgoingBytes,
      connectTimeoutMs,
      serverHeader: this.#serverHeader,
      log: this.#log?.child({ connectionId: info.connectionId, remote: info.remoteAddress }),
    });
    this.#connections.add(connection);
    return info;
  }

  /** Sends `body` as a MESSAGE to every subscription of exactly `destination`; returns how many got it. */
  publish(destination: string, body: string | Buffer, contentType = 'application/json'): number {
    const subscriptions = this.#subscribers.get(destination);
    if (!subscriptions) return 0;
    let delivered = 0;
    for (const sub of subscriptions) {
      const sent = sub.connection.send({
        command: 'MESSAGE',
        headers: { destination, 'content-type': contentType, subscription: sub.id, 'message-id': randomUUID() },
        body,
      });
      if (sent) delivered += 1;
    }
    return delivered;
  }

  /** Open connections (TLS done, not yet closed), connected or not. */
  connectionCount(): number {
    return this.#connections.size;
  }

  /** Ends every connection. */
  closeAll(reason = 'server shutting down'): void {
    for (const connection of [...this.#connections]) connection.close(reason);
  }

  /** @internal */
  isRequestDestination(destination: string): boolean {
    return this.#options.requestDestinations.some((d) => destination === d || destination.startsWith(`${d}.`));
  }

  /** @internal */
  handleRequest(request: StompRequest, replyTo: string, log: Logger | undefined): void {
    this.#options.onRequest(request).then(
      (response) => {
        if (response === null) return;
        if (this.publish(replyTo, response) === 0) {
          // VDSM drops it too (docs/vdsm-wire-protocol.md#destinations-and-reply-to); the warning is all the caller's operator gets.
          log?.warn({ replyTo }, 'no subscriber for reply-to destination; response dropped');
        }
      },
      (err: unknown) => log?.error({ err }, 'request handler failed'),
    );
  }

  /** @internal */
  subscribe(sub: Subscription): void {
    let set = this.#subscribers.get(sub.destination);
    if (!set) this.#subscribers.set(sub.destination, (set = new Set()));
    set.add(sub);
  }

  /** @internal */
  unsubscribe(sub: Subscription): void {
    const set = this.#subscribers.get(sub.destination);
    set?.delete(sub);
    if (set?.size === 0) this.#subscribers.delete(sub.destination);
  }

  /** @internal */
  forget(connection: StompConnection): void {
    this.#connections.delete(connection);
  }
}

type ConnectionState = 'awaiting-connect' | 'connected' | 'closed';

/** How long a closing connection may take to flush its last frames before it is destroyed. */
const CLOSE_GRACE_MS = 2000;

/** Answers a connection we will not serve with an ERROR frame, then closes it. */
function refuse(socket: Duplex, message: string, detail: string): void {
  socket.on('error', () => undefined);
  socket.once('finish', () => socket.destroy());
  socket.end(encodeFrame({ command: 'ERROR', headers: { message, 'content-type': 'text/plain' }, body: detail }));
  // A peer that never reads could hold `finish` back forever.
  setTimeout(() => socket.destroy(), CLOSE_GRACE_MS).unref();
}

interface ConnectionOptions {
  maxFrameBytes: number;
  maxOutgoingBytes: number;
  connectTimeoutMs: number;
  serverHeader: string | undefined;
  log: Logger | undefined;
}

/** One client's STOMP session. Internal: the server creates it in `attach`. */
class StompConnection {
  #state: ConnectionState = 'awaiting-connect';
  readonly #parser: StompParser;
  readonly #subscriptions = new Map<string, Subscription>();
  readonly #log: Logger | undefined;
  readonly #maxOutgoingBytes: number;
  readonly #serverHeader: string | undefined;
  #connectTimer: NodeJS.Timeout | undefined;
  #heartbeatTimer: NodeJS.Timeout | undefined;
  #lastReadAt = Date.now();
  #lastWriteAt = Date.now();

  constructor(
    private readonly server: StompServer,
    private readonly socket: Duplex,
    readonly info: ConnectionInfo,
    options: ConnectionOptions,
  ) {
    this.#parser = new StompParser({ maxFrameBytes: options.maxFrameBytes });
    this.#log = options.log;
    this.#maxOutgoingBytes = options.maxOutgoingBytes;
    this.#serverHeader = options.serverHeader;
    this.#connectTimer = setTimeout(
      () => {
        this.#log?.warn({ timeoutMs: options.connectTimeoutMs }, 'no STOMP CONNECT in time; closing');
        this.#teardown();
      },
      Math.max(0, options.connectTimeoutMs),
    );
    this.#connectTimer.unref();
    socket.on('data', (chunk: Buffer | string) => this.#onData(typeof chunk === 'string' ? Buffer.from(chunk) : chunk));
    socket.on('error', (err) => this.#log?.debug({ err }, 'socket error'));
    socket.on('close', () => this.#teardown());
  }

  /** Writes a frame; false if the connection is already gone. */
  send(frame: OutgoingFrame): boolean {
    return this.#write(encodeFrame(frame));
  }

  /** Ends the connection after flushing what was written. */
  close(reason: string): void {
    if (this.#state === 'closed') return;
    this.#log?.debug({ reason }, 'closing STOMP connection');
    this.#state = 'closed';
    this.#release();
    this.socket.once('finish', () => this.socket.destroy());
    this.socket.end();
    // A peer that never reads could hold `finish` back forever.
    setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS).unref();
  }

  /**
   * Queues bytes for the peer, unless the peer has stopped reading: what waits is then over
   * `maxOutgoingBytes`, and the connection is dropped rather than let its queue grow. So at most
   * `maxOutgoingBytes` plus one frame ever waits per connection.
   */
  #write(bytes: Buffer): boolean {
    if (this.socket.destroyed || !this.socket.writable) return false;
    const queuedBytes = this.socket.writableLength;
    if (queuedBytes > this.#maxOutgoingBytes) {
      this.#log?.warn({ queuedBytes, limitBytes: this.#maxOutgoingBytes }, 'peer is not reading what we send; dropping the connection');
      this.#teardown();
      return false;
    }
    this.socket.write(bytes);
    this.#lastWriteAt = Date.now();
    return true;
  }

  #onData(chunk: Buffer): void {
    if (this.#state === 'closed') return;
    this.#lastReadAt = Date.now();
    let frames: StompFrame[];
    try {
      frames = this.#parser.push(chunk);
    } catch (err) {
      const tooLarge = err instanceof StompFrameTooLargeError;
      this.#log?.warn({ err: (err as Error).message }, tooLarge ? 'oversized STOMP frame; closing' : 'malformed STOMP frame; closing');
      this.#fail(tooLarge ? 'Frame too large' : 'Malformed frame', (err as Error).message, undefined, true);
      return;
    }
    for (const frame of frames) {
      // A frame handler may have closed the connection (DISCONNECT, a fatal ERROR); drop what follows.
      if (this.#isClosed()) return;
      this.#onFrame(frame);
    }
  }

  #isClosed(): boolean {
    return this.#state === 'closed';
  }

  #onFrame(frame: StompFrame): void {
    this.#log?.trace({ command: frame.command, headers: frame.headers, state: this.#state }, 'STOMP frame received');
    const receipt = frame.headers.receipt;
    if (this.#state === 'awaiting-connect') {
      if (frame.command === 'CONNECT') this.#onConnect(frame);
      // oVirt's plain-TCP Java client (vdsm-jsonrpc-java StompClient) queues its two SUBSCRIBEs ahead of
      // CONNECT, and VDSM accepts that because it keeps no session state. Subscribing is harmless, so we
      // accept it too; anything else before CONNECT is an error.
      else if (frame.command === 'SUBSCRIBE') this.#onSubscribe(frame, receipt);
      else if (frame.command === 'UNSUBSCRIBE') this.#onUnsubscribe(frame, receipt);
      else this.#fail('Not connected', `${frame.command} before CONNECT`, receipt);
      return;
    }
    switch (frame.command) {
      case 'SUBSCRIBE':
        return this.#onSubscribe(frame, receipt);
      case 'UNSUBSCRIBE':
        return this.#onUnsubscribe(frame, receipt);
      case 'SEND':
        return this.#onSend(frame, receipt);
      case 'DISCONNECT':
        this.#sendReceipt(receipt);
        return this.close('client disconnected');
      case 'CONNECT':
        return this.#fail('Already connected', 'CONNECT on a connected session', receipt);
      default:
        return this.#fail('Unsupported command', `command ${frame.command} is not supported`, receipt);
    }
  }

  #onConnect(frame: StompFrame): void {
    // Exactly "1.2"; a list such as "1.0,1.1,1.2" is refused like VDSM does (docs/vdsm-wire-protocol.md#connecting).
    if (frame.headers['accept-version'] !== SUPPORTED_VERSION) {
      this.#log?.warn({ acceptVersion: frame.headers['accept-version'] }, 'unsupported STOMP version; closing');
      this.#fail('Version unsupported', 'Version unsupported', undefined, true);
      return;
    }
    const requested = frame.headers['heart-beat'] ?? '0,0';
    const match = HEARTBEAT_HEADER.exec(requested);
    if (!match) {
      this.#fail('Invalid heart-beat', `invalid heart-beat header ${JSON.stringify(requested)}`, undefined, true);
      return;
    }
    // Clamped both ways (docs/vdsm-wire-protocol.md#heart-beats): VDSM's minimum, and a maximum so that no
    // peer can make a timer Node would run every millisecond.
    const outgoing = clampHeartbeatMs(Number(match[2]));
    const incoming = clampHeartbeatMs(Number(match[1]));
    clearTimeout(this.#connectTimer);
    this.#state = 'connected';
    this.send({
      command: 'CONNECTED',
      headers: { version: SUPPORTED_VERSION, 'heart-beat': `${outgoing},${incoming}`, server: this.#serverHeader },
    });
    this.#startHeartbeats(outgoing, incoming);
    this.#log?.debug({ outgoing, incoming }, 'STOMP connected');
  }

  #onSubscribe(frame: StompFrame, receipt: string | undefined): void {
    const { destination, id } = frame.headers;
    if (!destination || !id) {
      this.#fail('Invalid subscription', 'SUBSCRIBE needs destination and id headers', receipt);
      return;
    }
    if (this.#subscriptions.has(id)) {
      this.#fail('Invalid subscription', `subscription id ${id} is already in use`, receipt);
      return;
    }
    // `ack` is accepted whatever its value: messages are never redelivered, as with VDSM's ack:auto.
    const sub: Subscription = { connection: this, id, destination };
    this.#subscriptions.set(id, sub);
    this.server.subscribe(sub);
    this.#sendReceipt(receipt);
  }

  #onUnsubscribe(frame: StompFrame, receipt: string | undefined): void {
    const id = frame.headers.id;
    if (!id) {
      this.#fail('Invalid unsubscribe', 'UNSUBSCRIBE needs an id header', receipt);
      return;
    }
    const sub = this.#subscriptions.get(id);
    if (sub) {
      this.#subscriptions.delete(id);
      this.server.unsubscribe(sub);
    }
    this.#sendReceipt(receipt);
  }

  #onSend(frame: StompFrame, receipt: string | undefined): void {
    const { destination } = frame.headers;
    if (!destination) {
      this.#fail('Missing destination', 'SEND needs a destination header', receipt);
      return;
    }
    if (!this.server.isRequestDestination(destination)) {
      const delivered = this.server.publish(destination, frame.body, frame.headers['content-type']);
      if (delivered === 0) this.#fail('Subscription not available', `no subscriber for ${destination}`, receipt);
      else this.#sendReceipt(receipt);
      return;
    }
    const replyTo = frame.headers['reply-to'];
    if (!replyTo) {
      // Stricter than VDSM, which drops such a request silently: the caller learns why it gets no answer.
      this.#fail('Missing reply-to', `SEND to ${destination} without reply-to: the response would be lost`, receipt);
      return;
    }
    this.#sendReceipt(receipt);
    const request: StompRequest = { destination, body: frameText(frame), headers: frame.headers, connection: this.info };
    this.server.handleRequest(request, replyTo, this.#log);
  }

  #sendReceipt(receipt: string | undefined): void {
    if (receipt !== undefined) this.send({ command: 'RECEIPT', headers: { 'receipt-id': receipt } });
  }

  /** Sends an ERROR frame (short `message` header, details in the body); closes the connection if `fatal`. */
  #fail(message: string, detail: string, receipt: string | undefined, fatal = false): void {
    this.send({ command: 'ERROR', headers: { message, 'receipt-id': receipt, 'content-type': 'text/plain' }, body: detail });
    if (fatal) this.close(message);
  }

  #startHeartbeats(outgoing: number, incoming: number): void {
    if (outgoing === 0 && incoming === 0) return;
    const periods = [outgoing, incoming].filter((ms) => ms > 0).map((ms) => ms / 2);
    this.#heartbeatTimer = setInterval(
      () => {
        const now = Date.now();
        if (incoming > 0 && now - this.#lastReadAt > incoming * (1 + HEARTBEAT_GRACE)) {
          this.#log?.warn({ incoming, silentMs: now - this.#lastReadAt }, 'peer missed its heart-beats; closing');
          this.#teardown();
          return;
        }
        if (outgoing > 0 && now - this.#lastWriteAt >= outgoing / 2) this.#write(HEARTBEAT);
      },
      Math.min(...periods),
    );
    this.#heartbeatTimer.unref();
  }

  /** Drops subscriptions and timers; idempotent. */
  #release(): void {
    clearTimeout(this.#connectTimer);
    clearInterval(this.#heartbeatTimer);
    for (const sub of this.#subscriptions.values()) this.server.unsubscribe(sub);
    this.#subscriptions.clear();
    this.server.forget(this);
  }

  #teardown(): void {
    this.#state = 'closed';
    this.#release();
    this.socket.destroy();
  }
}
