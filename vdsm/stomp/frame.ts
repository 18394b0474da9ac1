/**
 * STOMP 1.2 frame codec with VDSM's parsing rules (docs/vdsm-wire-protocol.md#frames): `encodeFrame` and a streaming
 * `StompParser` (bytes in, frames out).
 *
 * Hand-written on purpose. What npm offers are clients (`@stomp/stompjs` targets browsers over
 * WebSockets; `stompit` and `stomp-client` are Node clients) and a WebSocket broker (`stomp-broker-js`).
 * None exposes a server-side frame parser that enforces VDSM's rules: a raw `:` in a header value is an
 * error, the first of repeated headers wins, and a frame-size cap stops a peer from making us buffer
 * without bound. The codec is small enough to own.
 */

/** A decoded frame. Header names and values are unescaped; `body` is raw bytes. */
export interface StompFrame {
  readonly command: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

/** A frame to encode. `content-length` is always computed from `body`; headers set to `undefined` are left out. */
export interface OutgoingFrame {
  readonly command: string;
  readonly headers?: Readonly<Record<string, string | number | undefined>>;
  readonly body?: Buffer | string;
}

/** The peer sent bytes that are not a well-formed STOMP 1.2 frame. */
export class StompParseError extends Error {
  override readonly name = 'StompParseError';
  constructor(readonly reason: string) {
    super(`malformed STOMP frame: ${reason}`);
  }
}

/** The frame being received (command line, headers and body) exceeds the configured limit. */
export class StompFrameTooLargeError extends Error {
  override readonly name = 'StompFrameTooLargeError';
  constructor(
    readonly limitBytes: number,
    readonly observedBytes: number,
  ) {
    super(`STOMP frame exceeds ${limitBytes} bytes (at least ${observedBytes})`);
  }
}

/** A frame we were asked to send cannot be written as STOMP 1.2 (a bad command or header); nothing was sent. */
export class StompEncodeError extends Error {
  override readonly name = 'StompEncodeError';
  constructor(readonly reason: string) {
    super(`cannot encode STOMP frame: ${reason}`);
  }
}

/** 4 MiB: far above any VDSM request, far below what would hurt the agent. */
export const DEFAULT_MAX_FRAME_BYTES = 4 * 1024 * 1024;

const LF = 0x0a;
const CR = 0x0d;
const NUL = 0x00;
const COMMAND_PATTERN = /^[A-Z]+$/;

const ESCAPES: Readonly<Record<string, string>> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', ':': '\\c' };
const UNESCAPES: Readonly<Record<string, string>> = { '\\': '\\', n: '\n', r: '\r', c: ':' };

/** Escapes a header name or value (STOMP 1.2 "Value Encoding"). */
export function escapeHeader(text: string): string {
  return text.replace(/[\\\n\r:]/g, (ch) => ESCAPES[ch] ?? ch);
}

/** Reverses {@link escapeHeader}; a raw `:` or an undefined escape sequence is a parse error (docs/vdsm-wire-protocol.md#frames). */
export function unescapeHeader(text: string): string {
  if (text.includes(':')) throw new StompParseError(`raw ':' in header text ${JSON.stringify(text)}`);
  return text.replace(/\\(.?)/gs, (_match, ch: string) => {
    const plain = UNESCAPES[ch];
    if (plain === undefined) throw new StompParseError(`undefined escape sequence \\${ch} in ${JSON.stringify(text)}`);
    return plain;
  });
}

/**
 * STOMP 1.2 writes the headers of CONNECT and CONNECTED unescaped, for STOMP 1.0 peers
 * (docs/vdsm-wire-protocol.md#frames): a colon in a value is taken as it is, so an IPv6 literal `host` works.
 */
const UNESCAPED_COMMANDS: ReadonlySet<string> = new Set(['CONNECT', 'CONNECTED']);

/** Throws StompEncodeError for a frame that cannot be written as STOMP 1.2. */
export function encodeFrame(frame: OutgoingFrame): Buffer {
  if (!COMMAND_PATTERN.test(frame.command)) throw new StompEncodeError(`invalid command ${JSON.stringify(frame.command.slice(0, 40))}`);
  const raw = UNESCAPED_COMMANDS.has(frame.command);
  const body = typeof frame.body === 'string' ? Buffer.from(frame.body, 'utf8') : (frame.body ?? Buffer.alloc(0));
  let head = `${frame.command}\n`;
  for (const [name, value] of Object.entries(frame.headers ?? {})) {
    if (value === undefined || name === 'content-length') continue;
    if (name === '') throw new StompEncodeError('empty header name');
    const text = String(value);
    if (raw) checkRawHeader(frame.command, name, text);
    head += raw ? `${name}:${text}\n` : `${escapeHeader(name)}:${escapeHeader(text)}\n`;
  }
  // Always sent, like VDSM: the receiver can then read bodies that contain NUL bytes.
  head += `content-length:${body.length}\n\n`;
  return Buffer.concat([Buffer.from(head, 'utf8'), body, Buffer.from([NUL])]);
}

/** An unescaped header line can carry neither an end of line nor, in its name, a colon. */
function checkRawHeader(command: string, name: string, value: string): void {
  if (/[\r\n:]/.test(name)) throw new StompEncodeError(`${command} header name ${JSON.stringify(name)} contains a colon or an end of line`);
  if (/[\r\n]/.test(value)) throw new StompEncodeError(`${command} header ${name} contains an end of line`);
}

/** A single heart-beat: one end-of-line between frames (docs/vdsm-wire-protocol.md#heart-beats). */
export const HEARTBEAT = Buffer.from('\n');

export interface StompParserOptions {
  /** Largest accepted frame, counting the command line, headers and body. @default 4 MiB */
  maxFrameBytes?: number;
}

type ParserState =
  | { readonly kind: 'command' }
  | { readonly kind: 'headers'; readonly command: string; readonly headers: Record<string, string> }
  | { readonly kind: 'body'; readonly command: string; readonly headers: Record<string, string>; readonly length: number | null };

const CONTENT_LENGTH_PATTERN = /^[0-9]+$/;
// ignoreBOM keeps a leading U+FEFF: each line is decoded on its own, and a BOM that starts a header line is
// part of the header's name, not a stream marker to drop.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Streaming parser: `push(chunk)` returns every frame completed by that chunk, in order. After it throws
 * (StompParseError or StompFrameTooLargeError) the stream is unusable and the connection should be closed.
 */
export class StompParser {
  readonly maxFrameBytes: number;
  #buffer: Buffer = Buffer.alloc(0);
  #state: ParserState = { kind: 'command' };
  /** Bytes of the current frame already consumed from the buffer (command line and headers). */
  #frameBytes = 0;
  /** Where the search for the next LF/NUL resumes, so a slow stream is not rescanned from the start. */
  #scanFrom = 0;
  #failed: Error | undefined;

  constructor(options: StompParserOptions = {}) {
    this.maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  }

  /** Bytes received but not yet returned as frames: never more than `maxFrameBytes` between pushes. */
  get bufferedBytes(): number {
    return this.#buffer.length;
  }

  push(chunk: Buffer): StompFrame[] {
    if (this.#failed) throw this.#failed;
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    const frames: StompFrame[] = [];
    try {
      for (;;) {
        const frame = this.#step();
        if (frame === 'need-more') break;
        if (frame) frames.push(frame);
      }
    } catch (err) {
      this.#failed = err instanceof Error ? err : new StompParseError(String(err));
      throw this.#failed;
    }
    return frames;
  }

  /** One state transition: a frame, `undefined` (progress without a frame) or `'need-more'`. */
  #step(): StompFrame | undefined | 'need-more' {
    const state = this.#state;
    if (state.kind === 'body') return this.#readBody(state);
    const line = this.#takeLine();
    if (line === undefined) return 'need-more';
    if (state.kind === 'command') {
      // Empty lines between frames are heart-beats.
      if (line === '') {
        this.#frameBytes = 0;
        return undefined;
      }
      if (!COMMAND_PATTERN.test(line)) throw new StompParseError(`invalid command ${JSON.stringify(line.slice(0, 40))}`);
      this.#state = { kind: 'headers', command: line, headers: Object.create(null) as Record<string, string> };
      return undefined;
    }
    if (line === '') {
      this.#state = { kind: 'body', command: state.command, headers: state.headers, length: this.#contentLength(state.headers) };
      return undefined;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) throw new StompParseError(`header line without a name: ${JSON.stringify(line.slice(0, 80))}`);
    const raw = UNESCAPED_COMMANDS.has(state.command);
    const name = raw ? line.slice(0, colon) : unescapeHeader(line.slice(0, colon));
    const value = raw ? line.slice(colon + 1) : unescapeHeader(line.slice(colon + 1));
    // Repeated header: the first occurrence wins (STOMP 1.2, docs/vdsm-wire-protocol.md#frames).
    if (!Object.hasOwn(state.headers, name)) state.headers[name] = value;
    return undefined;
  }

  #contentLength(headers: Record<string, string>): number | null {
    const raw = headers['content-length'];
    if (raw === undefined) return null;
    if (!CONTENT_LENGTH_PATTERN.test(raw)) throw new StompParseError(`invalid content-length ${JSON.stringify(raw)}`);
    const length = Number(raw);
    this.#checkSize(this.#frameBytes + length);
    return length;
  }

  /** Takes the next line (without LF or CRLF) off the buffer, or `undefined` if no full line has arrived. */
  #takeLine(): string | undefined {
    const end = this.#buffer.indexOf(LF, this.#scanFrom);
    if (end < 0) {
      this.#scanFrom = this.#buffer.length;
      this.#checkSize(this.#frameBytes + this.#buffer.length);
      return undefined;
    }
    this.#checkSize(this.#frameBytes + end + 1);
    const stop = end > 0 && this.#buffer[end - 1] === CR ? end - 1 : end;
    const line = this.#decode(this.#buffer.subarray(0, stop));
    this.#consume(end + 1);
    this.#frameBytes += end + 1;
    return line;
  }

  #readBody(state: Extract<ParserState, { kind: 'body' }>): StompFrame | 'need-more' {
    let bodyEnd: number;
    if (state.length !== null) {
      if (this.#buffer.length < state.length + 1) return 'need-more';
      if (this.#buffer[state.length] !== NUL) throw new StompParseError('frame does not end with NUL after content-length bytes');
      bodyEnd = state.length;
    } else {
      bodyEnd = this.#buffer.indexOf(NUL, this.#scanFrom);
      if (bodyEnd < 0) {
        this.#scanFrom = this.#buffer.length;
        this.#checkSize(this.#frameBytes + this.#buffer.length);
        return 'need-more';
      }
      this.#checkSize(this.#frameBytes + bodyEnd);
    }
    const body = Buffer.from(this.#buffer.subarray(0, bodyEnd));
    this.#consume(bodyEnd + 1);
    this.#state = { kind: 'command' };
    this.#frameBytes = 0;
    return { command: state.command, headers: state.headers, body };
  }

  #consume(bytes: number): void {
    this.#buffer = this.#buffer.subarray(bytes);
    this.#scanFrom = 0;
  }

  #checkSize(bytes: number): void {
    if (bytes > this.maxFrameBytes) throw new StompFrameTooLargeError(this.maxFrameBytes, bytes);
  }

  #decode(bytes: Uint8Array): string {
    try {
      return utf8.decode(bytes);
    } catch {
      throw new StompParseError('command or header is not valid UTF-8');
    }
  }
}

/** The body as UTF-8 text (JSON-RPC bodies are UTF-8, docs/vdsm-wire-protocol.md#frames). */
export function frameText(frame: StompFrame): string {
  return frame.body.toString('utf8');
}
