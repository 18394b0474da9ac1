import { describe, expect, it } from 'vitest';
import {
  StompEncodeError,
  StompFrameTooLargeError,
  StompParseError,
  StompParser,
  encodeFrame,
  escapeHeader,
  frameText,
  unescapeHeader,
  type StompFrame,
} from '../../../vdsm/stomp/frame';

const parseAll = (bytes: Buffer | string, maxFrameBytes?: number): StompFrame[] =>
  new StompParser({ maxFrameBytes }).push(typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes);

/** Plain objects, so assertions compare header contents rather than prototypes. */
const summary = (frame: StompFrame) => ({ command: frame.command, headers: { ...frame.headers }, body: frameText(frame) });

describe('header escaping', () => {
  it('escapes backslash, LF, CR and colon, and reverses it', () => {
    const raw = 'a\\b\nc\rd:e';
    expect(escapeHeader(raw)).toBe('a\\\\b\\nc\\rd\\ce');
    expect(unescapeHeader(escapeHeader(raw))).toBe(raw);
  });

  it('rejects a raw colon, an undefined escape and a trailing backslash', () => {
    expect(() => unescapeHeader('host:port')).toThrow(StompParseError);
    expect(() => unescapeHeader('tab\\t')).toThrow(/undefined escape/);
    expect(() => unescapeHeader('dangling\\')).toThrow(StompParseError);
  });
});

describe('encodeFrame', () => {
  it('writes command, escaped headers, content-length, blank line, body and NUL', () => {
    const bytes = encodeFrame({ command: 'SEND', headers: { destination: 'jms.topic.vdsm_requests', 'x:y': 'a:b\nc' }, body: 'héllo' });
    expect(bytes.toString('utf8')).toBe('SEND\ndestination:jms.topic.vdsm_requests\nx\\cy:a\\cb\\nc\ncontent-length:6\n\nhéllo\0');
  });

  it('computes content-length itself and leaves out undefined headers', () => {
    const bytes = encodeFrame({ command: 'MESSAGE', headers: { 'content-length': 99, receipt: undefined, n: 5 } });
    expect(bytes.toString('utf8')).toBe('MESSAGE\nn:5\ncontent-length:0\n\n\0');
  });

  it('round-trips through the parser, colons in values included', () => {
    const frame = { command: 'SEND', headers: { 'reply-to': 'urn:uuid:1', ovirtCorrelationId: 'flow:42\\x' }, body: '{"a":1}' };
    const [parsed] = parseAll(encodeFrame(frame));
    expect(summary(parsed!)).toEqual({ command: 'SEND', headers: { ...frame.headers, 'content-length': '7' }, body: '{"a":1}' });
  });
});

describe('CONNECT and CONNECTED (written and read unescaped, STOMP 1.2)', () => {
  it('writes and reads their headers as they are, colons and backslashes included', () => {
    const bytes = encodeFrame({ command: 'CONNECT', headers: { 'accept-version': '1.2', host: 'fe80::1', login: 'a\\b' } });
    expect(bytes.toString('utf8')).toBe('CONNECT\naccept-version:1.2\nhost:fe80::1\nlogin:a\\b\ncontent-length:0\n\n\0');
    const [frame] = parseAll(bytes);
    expect(frame!.headers).toMatchObject({ host: 'fe80::1', login: 'a\\b' });
    expect(parseAll('CONNECTED\nversion:1.2\nserver:x:1\n\n\0')[0]!.headers.server).toBe('x:1');
  });

  it('refuses to write an end of line into them, or a colon into a header name', () => {
    expect(() => encodeFrame({ command: 'CONNECT', headers: { host: 'x\nlogin:admin' } })).toThrow(StompEncodeError);
    expect(() => encodeFrame({ command: 'CONNECTED', headers: { version: '1.2\r' } })).toThrow(StompEncodeError);
    expect(() => encodeFrame({ command: 'CONNECT', headers: { 'a:b': 'c' } })).toThrow(StompEncodeError);
  });
});

describe('encodeFrame refuses what STOMP cannot carry', () => {
  it.each([
    ['lower-case command', { command: 'send' }],
    ['empty command', { command: '' }],
    ['empty header name', { command: 'SEND', headers: { '': 'x' } }],
  ])('%s', (_what, frame) => {
    expect(() => encodeFrame(frame)).toThrow(StompEncodeError);
  });
});

describe('StompParser', () => {
  it('reads a body up to NUL when there is no content-length', () => {
    const [frame] = parseAll('SEND\ndestination:q\n\nhello\0');
    expect(summary(frame!)).toEqual({ command: 'SEND', headers: { destination: 'q' }, body: 'hello' });
  });

  it('reads content-length bytes, NUL bytes inside the body included', () => {
    const body = Buffer.from([0x61, 0x00, 0x62, 0x00, 0x63]);
    const frames = parseAll(Buffer.concat([Buffer.from('MESSAGE\ncontent-length:5\n\n'), body, Buffer.from('\0CONNECTED\n\n\0')]));
    expect(frames.map((f) => f.command)).toEqual(['MESSAGE', 'CONNECTED']);
    expect(frames[0]!.body.equals(body)).toBe(true);
  });

  it('keeps the first of repeated headers', () => {
    const [frame] = parseAll('SEND\ndestination:first\ndestination:second\n\n\0');
    expect(frame!.headers.destination).toBe('first');
  });

  it('unescapes header names and values', () => {
    const [frame] = parseAll('SEND\nk\\cey:v\\\\al\\nue\\r\\c\n\n\0');
    expect({ ...frame!.headers }).toEqual({ 'k:ey': 'v\\al\nue\r:' });
  });

  it('skips heart-beat newlines before, between and after frames', () => {
    const frames = parseAll('\n\r\n\nCONNECT\naccept-version:1.2\n\n\0\n\n\nDISCONNECT\n\n\0\n');
    expect(frames.map((f) => f.command)).toEqual(['CONNECT', 'DISCONNECT']);
  });

  it('accepts CRLF line ends', () => {
    const [frame] = parseAll('SEND\r\ndestination:q\r\ncontent-length:2\r\n\r\nhi\0');
    expect(summary(frame!)).toEqual({ command: 'SEND', headers: { destination: 'q', 'content-length': '2' }, body: 'hi' });
  });

  it('keeps an empty header value, and a value that is only escaped colons', () => {
    const [frame] = parseAll('SEND\nempty:\ncolons:\\c\\c\n\n\0');
    expect({ ...frame!.headers }).toEqual({ empty: '', colons: '::' });
  });

  it('keeps a byte-order mark that starts a header line as part of the name (found by test/property/stomp-codec.test.ts)', () => {
    const [frame] = parseAll(encodeFrame({ command: 'SUBSCRIBE', headers: { '\uFEFF:': '', '\uFEFFid': '\uFEFF' } }));
    expect({ ...frame!.headers }).toEqual({ '\uFEFF:': '', '\uFEFFid': '\uFEFF', 'content-length': '0' });
  });

  it('yields the same frames however the stream is split', () => {
    const stream = Buffer.concat([
      Buffer.from('\n'),
      encodeFrame({ command: 'SEND', headers: { destination: 'a:b', 'reply-to': 'r' }, body: Buffer.from('x\0y\nz') }),
      Buffer.from('\r\n'),
      Buffer.from('SEND\r\ndestination:plain\r\n\r\nno length\0'),
      encodeFrame({ command: 'MESSAGE', headers: { subscription: 'ü' }, body: 'ünïcode' }),
    ]);
    const expected = parseAll(stream).map(summary);
    expect(expected).toHaveLength(3);
    for (let cut = 0; cut <= stream.length; cut += 1) {
      const parser = new StompParser();
      const frames = [...parser.push(stream.subarray(0, cut)), ...parser.push(stream.subarray(cut))];
      expect(frames.map(summary), `split at byte ${cut}`).toEqual(expected);
    }
    const parser = new StompParser();
    const oneByOne = [...stream].flatMap((byte) => parser.push(Buffer.from([byte])));
    expect(oneByOne.map(summary)).toEqual(expected);
  });

  it.each([
    ['a raw colon in a header value', 'SEND\nreply-to:urn:x\n\n\0'],
    ['a header line without a colon', 'SEND\nno-colon\n\n\0'],
    ['a header with an empty name', 'SEND\n:value\n\n\0'],
    ['an undefined escape sequence', 'SEND\nk:\\t\n\n\0'],
    ['a non-numeric content-length', 'SEND\ncontent-length:ten\n\nx\0'],
    ['a body longer than content-length', 'SEND\ncontent-length:1\n\nxy\0'],
    ['a command that is not a STOMP verb', '\x16\x03\x01\x02\x00\n\n\0'],
  ])('rejects %s', (_what, text) => {
    expect(() => parseAll(text)).toThrow(StompParseError);
  });

  it('stays failed after an error', () => {
    const parser = new StompParser();
    expect(() => parser.push(Buffer.from('SEND\nbad\n\n\0'))).toThrow(StompParseError);
    expect(() => parser.push(Buffer.from('CONNECT\n\n\0'))).toThrow(StompParseError);
  });

  describe('frame size limit', () => {
    it('accepts a frame of exactly the limit', () => {
      const frame = 'SEND\ncontent-length:10\n\n0123456789';
      expect(parseAll(`${frame}\0`, Buffer.byteLength(frame))).toHaveLength(1);
      expect(() => parseAll(`${frame}\0`, Buffer.byteLength(frame) - 1)).toThrow(StompFrameTooLargeError);
    });

    it('rejects a declared content-length over the limit before the body arrives', () => {
      const parser = new StompParser({ maxFrameBytes: 1024 });
      expect(() => parser.push(Buffer.from('SEND\ncontent-length:1000000\n\n'))).toThrow(StompFrameTooLargeError);
    });

    it('rejects an unterminated body that outgrows the limit', () => {
      const parser = new StompParser({ maxFrameBytes: 1024 });
      parser.push(Buffer.from('SEND\n\n'));
      expect(() => {
        for (let i = 0; i < 100; i += 1) parser.push(Buffer.alloc(100, 0x61));
      }).toThrow(StompFrameTooLargeError);
    });

    it('rejects an endless header line', () => {
      const parser = new StompParser({ maxFrameBytes: 1024 });
      expect(() => parser.push(Buffer.concat([Buffer.from('SEND\nx:'), Buffer.alloc(2000, 0x61)]))).toThrow(StompFrameTooLargeError);
    });

    it('does not count heart-beats towards the next frame', () => {
      const frame = 'SEND\n\nabc';
      const frames = parseAll(`${'\n'.repeat(100)}${frame}\0`, Buffer.byteLength(frame));
      expect(frames).toHaveLength(1);
    });

    it('reports the limit and what was seen', () => {
      try {
        parseAll('SEND\ncontent-length:5000\n\n', 100);
        expect.unreachable();
      } catch (err) {
        expect(err).toBeInstanceOf(StompFrameTooLargeError);
        expect((err as StompFrameTooLargeError).limitBytes).toBe(100);
        expect((err as StompFrameTooLargeError).observedBytes).toBeGreaterThan(5000);
      }
    });
  });
});
