/**
 * Properties of the STOMP codec (vdsm/stomp/frame.ts, docs/vdsm-wire-protocol.md#frames): what is encoded
 * parses back the same, however the byte stream is cut; arbitrary bytes end in frames or one of the two
 * typed parse errors, never in anything else; and the parser never holds more than its frame cap.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  StompFrameTooLargeError,
  StompParseError,
  StompParser,
  encodeFrame,
  type OutgoingFrame,
  type StompFrame,
} from '../../vdsm/stomp/frame';
import { propertyParameters, REPLAY_HINT } from '../helpers/property';

/** CONNECT and CONNECTED carry their headers unescaped; every other command escapes them. */
const RAW_COMMANDS = ['CONNECT', 'CONNECTED'];
const COMMANDS = [...RAW_COMMANDS, 'SEND', 'SUBSCRIBE', 'UNSUBSCRIBE', 'MESSAGE', 'RECEIPT', 'ERROR', 'DISCONNECT', 'BEGIN'];

/** Any Unicode text (no lone surrogates: UTF-8 cannot carry them), with STOMP's special characters made likely. */
const text = (minLength = 0): fc.Arbitrary<string> =>
  fc.string({
    unit: fc.oneof(fc.constantFrom(':', '\\', '\n', '\r', '\0', ' ', 'c', 'n'), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })),
    minLength,
    maxLength: 24,
  });

/** Headers as `[name, value]` pairs with distinct names (an object keeps one value per name anyway). */
const headers = (raw: boolean): fc.Arbitrary<Array<[string, string]>> =>
  fc.uniqueArray(
    fc.tuple(
      raw ? text(1).filter((name) => !/[\r\n:]/.test(name)) : text(1),
      raw ? text().filter((value) => !/[\r\n]/.test(value)) : text(),
    ),
    { selector: ([name]) => name, maxLength: 6 },
  );

/** A frame any peer may legitimately send. */
const frameArb: fc.Arbitrary<OutgoingFrame> = fc.constantFrom(...COMMANDS).chain((command) =>
  fc.record({
    command: fc.constant(command),
    headers: headers(RAW_COMMANDS.includes(command)).map((pairs) =>
      Object.fromEntries(pairs.filter(([name]) => name !== 'content-length')),
    ),
    body: fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
  }),
);

/** What the parser should give back for `frame`: its headers plus the content-length the encoder wrote. */
function expected(frame: OutgoingFrame): { command: string; headers: Record<string, string>; body: string } {
  const body = Buffer.isBuffer(frame.body) ? frame.body : Buffer.from(frame.body ?? '', 'utf8');
  // fromEntries, not assignment: a header may be called `__proto__`.
  const pairs = Object.entries(frame.headers ?? {}).flatMap(([name, value]) => (value === undefined ? [] : [[name, String(value)]]));
  const hs: Record<string, string> = Object.fromEntries([...pairs, ['content-length', String(body.length)]]);
  return { command: frame.command, headers: hs, body: body.toString('hex') };
}

const plain = (frame: StompFrame) => ({ command: frame.command, headers: { ...frame.headers }, body: frame.body.toString('hex') });

/** Heart-beats a peer may put between frames: LF or CRLF, any number. */
const heartBeats = fc.array(fc.constantFrom('\n', '\r\n'), { maxLength: 3 }).map((eols) => Buffer.from(eols.join('')));

/** `bytes` cut at the given offsets (duplicates and order do not matter). */
function cut(bytes: Buffer, offsets: readonly number[]): Buffer[] {
  const points = [...new Set(offsets.map((o) => o % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const point of [...points, bytes.length]) {
    chunks.push(bytes.subarray(from, point));
    from = point;
  }
  return chunks;
}

/** Feeds chunks; checks the buffer bound after each; returns the frames, or the error that ended the stream. */
function feed(parser: StompParser, chunks: readonly Buffer[]): { frames: StompFrame[]; error?: unknown } {
  const frames: StompFrame[] = [];
  for (const chunk of chunks) {
    try {
      frames.push(...parser.push(chunk));
    } catch (error) {
      return { frames, error };
    }
    // A plain check: this runs for every chunk of every case.
    if (parser.bufferedBytes > parser.maxFrameBytes)
      throw new Error(`parser holds ${parser.bufferedBytes} bytes, cap ${parser.maxFrameBytes}`);
  }
  return { frames };
}

describe(`STOMP codec properties (${REPLAY_HINT})`, () => {
  it('parses every encoded frame back to itself', () => {
    fc.assert(
      fc.property(frameArb, (frame) => {
        const parsed = new StompParser().push(encodeFrame(frame));
        expect(parsed.map(plain)).toEqual([expected(frame)]);
      }),
      propertyParameters(2000),
    );
  });

  it('gives the same frames however a stream of frames and heart-beats is cut into chunks', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(heartBeats, frameArb), { minLength: 1, maxLength: 5 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        (items, offsets) => {
          const stream = Buffer.concat(items.flatMap(([beats, frame]) => [beats, encodeFrame(frame)]));
          const { frames, error } = feed(new StompParser(), cut(stream, offsets));
          expect(error).toBeUndefined();
          expect(frames.map(plain)).toEqual(items.map(([, frame]) => expected(frame)));
        },
      ),
      propertyParameters(1000),
    );
  });

  it('accepts a frame exactly when it fits the cap, and never buffers more than the cap', () => {
    fc.assert(
      fc.property(frameArb, fc.integer({ min: 16, max: 1024 }), fc.array(fc.nat(), { maxLength: 6 }), (frame, maxFrameBytes, offsets) => {
        const bytes = encodeFrame(frame);
        const { frames, error } = feed(new StompParser({ maxFrameBytes }), cut(bytes, offsets));
        // The cap counts the command line, the headers and the body, not the closing NUL.
        if (bytes.length - 1 <= maxFrameBytes) {
          expect(error).toBeUndefined();
          expect(frames.map(plain)).toEqual([expected(frame)]);
        } else {
          expect(error).toBeInstanceOf(StompFrameTooLargeError);
          expect(frames).toEqual([]);
        }
      }),
      propertyParameters(2000),
    );
  });

  /** Bytes that look like STOMP often enough to get past the command line: frames with bytes changed, and noise. */
  const hostileBytes: fc.Arbitrary<Buffer> = fc.oneof(
    fc.uint8Array({ maxLength: 600 }).map((b) => Buffer.from(b)),
    fc
      .tuple(
        fc.array(frameArb, { minLength: 1, maxLength: 3 }),
        fc.array(fc.tuple(fc.nat(), fc.constantFrom(0x00, 0x0a, 0x0d, 0x3a, 0x5c, 0x80, 0xff, 0x41, 0x30)), { maxLength: 6 }),
        fc.array(fc.nat(), { maxLength: 3 }),
      )
      .map(([frames, edits, deletions]) => {
        const bytes = Buffer.from(Buffer.concat(frames.map((f) => encodeFrame(f))));
        for (const [at, value] of edits) if (bytes.length > 0) bytes[at % bytes.length] = value;
        let out: Buffer = bytes;
        for (const at of deletions)
          if (out.length > 0) out = Buffer.concat([out.subarray(0, at % out.length), out.subarray((at % out.length) + 1)]);
        return out;
      }),
    fc
      .array(
        fc.constantFrom(
          'SEND\n',
          'CONNECT\n',
          'a:b\n',
          'a\\tb:c\n',
          'content-length:',
          '99999999999999999999',
          '5',
          '\n',
          '\r\n',
          '\0',
          'x:y:z\n',
          '\\',
        ),
        { maxLength: 20 },
      )
      .map((parts) => Buffer.from(parts.join(''))),
  );

  it('ends arbitrary bytes in frames or in one typed parse error, and stays failed after it', () => {
    fc.assert(
      fc.property(hostileBytes, fc.array(fc.nat(), { maxLength: 8 }), fc.integer({ min: 8, max: 512 }), (bytes, offsets, maxFrameBytes) => {
        const parser = new StompParser({ maxFrameBytes });
        const { error } = feed(parser, cut(bytes, offsets));
        if (error === undefined) return;
        expect(error instanceof StompParseError || error instanceof StompFrameTooLargeError, String(error)).toBe(true);
        expect(() => parser.push(Buffer.from('\n'))).toThrow(error as Error);
      }),
      propertyParameters(3000),
    );
  });
});
