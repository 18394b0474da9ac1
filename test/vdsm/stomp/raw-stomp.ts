/**
 * A bare STOMP peer for protocol tests: frames are written as literal text, so the server is tested
 * against the wire format itself and not against our own encoder. Incoming bytes are split into frames
 * with the (separately tested) StompParser; raw bytes are kept for heart-beat checks.
 */
import { connect as connectTcp, type Socket } from 'node:net';
import { connect as connectTls, type ConnectionOptions } from 'node:tls';
import { StompParser, frameText, type StompFrame } from '../../../vdsm/stomp/frame';

/** Upper bound for waiting on the server; reaching it fails the test, it is not a measurement. */
const WAIT_MS = 10_000;

export class RawStompSocket {
  readonly #parser = new StompParser({ maxFrameBytes: 64 * 1024 * 1024 });
  readonly #frames: StompFrame[] = [];
  #waiters: Array<() => void> = [];
  #received = Buffer.alloc(0);
  #ended = false;
  readonly closed: Promise<void>;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      // Only what follows the last frame's NUL is kept (heart-beat checks need nothing else), so a peer that
      // receives many megabytes does not copy them all again on every chunk.
      const received = Buffer.concat([this.#received, chunk]);
      this.#received = received.subarray(received.lastIndexOf(0) + 1);
      this.#frames.push(...this.#parser.push(chunk));
      this.#wake();
    });
    socket.on('error', () => undefined);
    this.closed = new Promise((resolvePromise) =>
      socket.once('close', () => {
        this.#ended = true;
        this.#wake();
        resolvePromise();
      }),
    );
  }

  static open(port: number, tls?: ConnectionOptions): Promise<RawStompSocket> {
    return new Promise((resolvePromise, reject) => {
      const socket = tls ? connectTls({ host: '127.0.0.1', port, ...tls }) : connectTcp({ host: '127.0.0.1', port });
      socket.once('error', reject);
      socket.once(tls ? 'secureConnect' : 'connect', () => {
        socket.off('error', reject);
        resolvePromise(new RawStompSocket(socket));
      });
    });
  }

  write(text: string | Buffer): void {
    this.socket.write(text);
  }

  /** The next frame from the server; rejects if the connection closes first or nothing comes within the bound. */
  async nextFrame(): Promise<StompFrame> {
    await this.#until(() => this.#frames.length > 0 || this.#ended, 'a frame');
    const frame = this.#frames.shift();
    if (!frame) throw new Error('connection closed before the next frame');
    return frame;
  }

  /** The next frame, which must be a MESSAGE; returns its JSON body. */
  async nextMessage(): Promise<{ frame: StompFrame; json: unknown }> {
    const frame = await this.nextFrame();
    if (frame.command !== 'MESSAGE') throw new Error(`expected MESSAGE, got ${frame.command}: ${frameText(frame)}`);
    return { frame, json: JSON.parse(frameText(frame)) };
  }

  /** Resolves once the raw stream holds `count` heart-beat newlines after the last frame's NUL. */
  async heartbeats(count: number): Promise<void> {
    await this.#until(() => {
      const tail = this.#received;
      return tail.length >= count && tail.every((byte) => byte === 0x0a);
    }, `${count} heart-beat(s)`);
  }

  /** Resolves when the server has closed the connection. */
  async waitClosed(): Promise<void> {
    await this.#until(() => this.#ended, 'the server to close the connection');
  }

  get isClosed(): boolean {
    return this.#ended;
  }

  /** Frames received but not yet taken with `nextFrame`. */
  get unread(): readonly StompFrame[] {
    return this.#frames;
  }

  /** CONNECT with accept-version 1.2; returns the CONNECTED frame. */
  async connect(heartBeat?: string): Promise<StompFrame> {
    this.write(`CONNECT\naccept-version:1.2\nhost:test\n${heartBeat ? `heart-beat:${heartBeat}\n` : ''}\n\0`);
    const frame = await this.nextFrame();
    if (frame.command !== 'CONNECTED') throw new Error(`expected CONNECTED, got ${frame.command}: ${frameText(frame)}`);
    return frame;
  }

  subscribe(destination: string, id: string): void {
    this.write(`SUBSCRIBE\ndestination:${destination}\nid:${id}\nack:auto\n\n\0`);
  }

  /**
   * SUBSCRIBE and wait for the server's RECEIPT. Needed whenever another connection is about to send to
   * `destination`: frames from different sockets have no order, so without the receipt the other SEND can
   * be routed before this subscription exists.
   */
  async subscribed(destination: string, id: string): Promise<void> {
    this.write(`SUBSCRIBE\ndestination:${destination}\nid:${id}\nack:auto\nreceipt:sub-${id}\n\n\0`);
    const receipt = await this.nextFrame();
    if (receipt.command !== 'RECEIPT' || receipt.headers['receipt-id'] !== `sub-${id}`) {
      throw new Error(`expected RECEIPT for sub-${id}, got ${receipt.command}: ${frameText(receipt)}`);
    }
  }

  /** A JSON-RPC SEND to the request destination; the body is sent without content-length (read to NUL). */
  request(body: unknown, replyTo: string, destination = 'jms.topic.vdsm_requests'): void {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    this.write(`SEND\ndestination:${destination}\nreply-to:${replyTo}\ncontent-type:application/json\n\n${text}\0`);
  }

  destroy(): void {
    this.socket.destroy();
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  async #until(condition: () => boolean, what: string): Promise<void> {
    const deadline = Date.now() + WAIT_MS;
    while (!condition()) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolvePromise) => {
        const timer = setTimeout(resolvePromise, remaining);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolvePromise();
        });
      });
    }
  }
}

/** A JSON-RPC request object. */
export const rpc = (method: string, params: unknown = {}, id: string | number = method): object => ({ jsonrpc: '2.0', method, params, id });
