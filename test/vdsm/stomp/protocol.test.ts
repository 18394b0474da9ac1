/**
 * The agent's STOMP/JSON-RPC behaviour on the wire (docs/vdsm-wire-protocol.md#stomp-12, #json-rpc-20), driven by literal frames
 * over real loopback TCP sockets (insecure mode; TLS is covered in tls.test.ts).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startVdsmServer, type VdsmServer } from '../../../vdsm/server';
import { frameText } from '../../../vdsm/stomp/frame';
import { JsonRpcCode, VdsmCode } from '../../../model/vdsm/error-codes';
import { RawStompSocket, rpc } from './raw-stomp';
import { createTestVerbs, testLogger } from '../test-verbs';

const MAX_FRAME_BYTES = 64 * 1024;

describe('agent STOMP protocol', () => {
  const { verbs, marks } = createTestVerbs();
  let server: VdsmServer;
  const sockets: RawStompSocket[] = [];

  beforeAll(async () => {
    server = await startVdsmServer({
      listen: { host: '127.0.0.1', port: 0 },
      tls: 'insecure',
      verbs,
      maxFrameBytes: MAX_FRAME_BYTES,
      logger: testLogger(),
    });
  });
  afterAll(async () => {
    await server.close();
  });
  afterEach(() => {
    for (const socket of sockets.splice(0)) socket.destroy();
  });

  const open = async (): Promise<RawStompSocket> => {
    const socket = await RawStompSocket.open(server.address.port);
    sockets.push(socket);
    return socket;
  };
  /** Connected and subscribed to `replyTo`. */
  const session = async (replyTo = `reply-${sockets.length}`): Promise<RawStompSocket> => {
    const socket = await open();
    await socket.connect();
    await socket.subscribed(replyTo, `sub-${replyTo}`);
    return socket;
  };

  describe('CONNECT', () => {
    it('answers CONNECTED with version 1.2', async () => {
      const socket = await open();
      const connected = await socket.connect();
      expect(connected.headers.version).toBe('1.2');
      expect(connected.headers['heart-beat']).toBe('0,0');
    });

    it.each([
      ['a version list', 'accept-version:1.0,1.1,1.2\n'],
      ['version 1.1', 'accept-version:1.1\n'],
      ['no accept-version', ''],
    ])('refuses %s with ERROR "Version unsupported" and closes', async (_what, header) => {
      const socket = await open();
      socket.write(`CONNECT\n${header}host:test\n\n\0`);
      const error = await socket.nextFrame();
      expect(error.command).toBe('ERROR');
      expect(frameText(error)).toBe('Version unsupported');
      await socket.waitClosed();
    });

    it.each([
      ['0,15000', '15000,0'],
      ['0,24000', '24000,0'],
      ['5000,10000', '10000,5000'],
      ['500,200', '1000,1000'],
      ['0,0', '0,0'],
    ])('negotiates heart-beat %s as %s (swapped, non-zero raised to 1000 ms)', async (requested, answered) => {
      const socket = await open();
      const connected = await socket.connect(requested);
      expect(connected.headers['heart-beat']).toBe(answered);
    });

    it('sends heart-beats when the client asks for them', async () => {
      const socket = await open();
      await socket.connect('0,1000');
      await socket.heartbeats(2);
      expect(socket.isClosed).toBe(false);
    });

    it('closes a connection that promised heart-beats and went silent', async () => {
      const socket = await open();
      await socket.connect('1000,0');
      await socket.waitClosed();
    });

    it('keeps a connection that sends its heart-beats', async () => {
      const socket = await open();
      // Promised every 2 s (closed after 3 s of silence), sent every 300 ms for 3.6 s in all: longer than the
      // tolerance, so only the heart-beats keep it open, yet a stalled event loop has 2.7 s of slack.
      await socket.connect('2000,0');
      socket.subscribe('hb-reply', 'hb-sub');
      for (let i = 0; i < 12; i += 1) {
        socket.write('\n');
        await new Promise((r) => setTimeout(r, 300));
      }
      socket.request(rpc('Host.ping2'), 'hb-reply');
      expect((await socket.nextMessage()).json).toMatchObject({ result: true });
    });

    it('answers a SEND before CONNECT with ERROR and still accepts CONNECT', async () => {
      const socket = await open();
      socket.write(`SEND\ndestination:jms.topic.vdsm_requests\nreply-to:r\n\n${JSON.stringify(rpc('Host.ping2'))}\0`);
      const error = await socket.nextFrame();
      expect(error.command).toBe('ERROR');
      expect(error.headers.message).toBe('Not connected');
      await socket.connect();
    });

    it('accepts SUBSCRIBE before CONNECT, as the engine plain-TCP client sends it', async () => {
      const socket = await open();
      socket.subscribe('early-reply', 'early');
      const connected = await socket.connect();
      expect(connected.command).toBe('CONNECTED');
      socket.request(rpc('Host.ping2', {}, 'early'), 'early-reply');
      expect((await socket.nextMessage()).json).toMatchObject({ id: 'early', result: true });
    });
  });

  describe('subscriptions', () => {
    it.each([
      ['destination', 'SUBSCRIBE\nid:1\nack:auto\n\n\0'],
      ['id', 'SUBSCRIBE\ndestination:x\nack:auto\n\n\0'],
    ])('answers a SUBSCRIBE without %s with ERROR', async (_missing, frame) => {
      const socket = await open();
      await socket.connect();
      socket.write(frame);
      expect((await socket.nextFrame()).command).toBe('ERROR');
    });

    it('stops delivering after UNSUBSCRIBE', async () => {
      const socket = await session('unsub-reply');
      socket.subscribe('jms.queue.events', 'events');
      socket.write('UNSUBSCRIBE\nid:events\nreceipt:r-1\n\n\0');
      expect((await socket.nextFrame()).headers['receipt-id']).toBe('r-1');
      server.publishEvent({ method: '|net|host_conn|no_id', params: {} });
      socket.request(rpc('Host.ping2', {}, 'after-unsubscribe'), 'unsub-reply');
      expect((await socket.nextMessage()).json).toMatchObject({ id: 'after-unsubscribe' });
    });

    it('answers DISCONNECT with the requested RECEIPT and closes', async () => {
      const socket = await open();
      await socket.connect();
      socket.write('DISCONNECT\nreceipt:bye-1\n\n\0');
      const receipt = await socket.nextFrame();
      expect(receipt.command).toBe('RECEIPT');
      expect(receipt.headers['receipt-id']).toBe('bye-1');
      await socket.waitClosed();
    });
  });

  describe('requests and responses', () => {
    it('delivers the response as a MESSAGE to the reply-to subscription', async () => {
      const socket = await session('reply-a');
      socket.request(rpc('Test.echo', { a: 1 }, 'req-1'), 'reply-a');
      const { frame, json } = await socket.nextMessage();
      expect(json).toEqual({ jsonrpc: '2.0', id: 'req-1', result: { a: 1 } });
      expect(frame.headers).toMatchObject({ destination: 'reply-a', 'content-type': 'application/json', subscription: 'sub-reply-a' });
      expect(Number(frame.headers['content-length'])).toBe(frame.body.length);
    });

    it('serves the IRS request destination and suffixed request destinations', async () => {
      const socket = await session('reply-irs');
      socket.request(rpc('Host.ping2', {}, 'irs'), 'reply-irs', 'jms.topic.vdsm_irs_requests');
      expect((await socket.nextMessage()).json).toMatchObject({ id: 'irs', result: true });
      socket.request(rpc('Host.ping2', {}, 'suffixed'), 'reply-irs', 'jms.topic.vdsm_requests.host-1');
      expect((await socket.nextMessage()).json).toMatchObject({ id: 'suffixed', result: true });
    });

    it('answers a SEND without reply-to with ERROR and keeps serving the connection', async () => {
      const socket = await session('reply-b');
      socket.write(`SEND\ndestination:jms.topic.vdsm_requests\ncontent-type:application/json\n\n${JSON.stringify(rpc('Host.ping2'))}\0`);
      const error = await socket.nextFrame();
      expect(error.command).toBe('ERROR');
      expect(error.headers.message).toBe('Missing reply-to');
      socket.request(rpc('Host.ping2', {}, 'still-alive'), 'reply-b');
      expect((await socket.nextMessage()).json).toEqual({ jsonrpc: '2.0', id: 'still-alive', result: true });
    });

    it('answers a body that is not JSON with -32700', async () => {
      const socket = await session('reply-c');
      socket.request('{"jsonrpc":"2.0",', 'reply-c');
      expect((await socket.nextMessage()).json).toMatchObject({ id: null, error: { code: JsonRpcCode.PARSE_ERROR } });
    });

    it('answers an unknown method with -32601', async () => {
      const socket = await session('reply-d');
      socket.request(rpc('Host.doesNotExist', {}, 'unknown'), 'reply-d');
      expect((await socket.nextMessage()).json).toMatchObject({ id: 'unknown', error: { code: JsonRpcCode.METHOD_NOT_FOUND } });
    });

    it('answers a VdsmError with its VDSM code', async () => {
      const socket = await session('reply-e');
      socket.request(rpc('Test.vdsmFailure', {}, 'vdsm'), 'reply-e');
      expect((await socket.nextMessage()).json).toEqual({
        jsonrpc: '2.0',
        id: 'vdsm',
        error: { code: VdsmCode.LOST_CONNECTION, message: 'connectivity check failed' },
      });
    });

    it('maps positional params and answers a batch with one array message', async () => {
      const socket = await session('reply-f');
      socket.request(
        [rpc('Test.echo', [1, 'two'], 'p'), { jsonrpc: '2.0', method: 'Test.mark', params: ['batch'] }, rpc('Host.nope', {}, 'n')],
        'reply-f',
      );
      expect((await socket.nextMessage()).json).toEqual([
        { jsonrpc: '2.0', id: 'p', result: { a: 1, b: 'two' } },
        { jsonrpc: '2.0', id: 'n', error: { code: JsonRpcCode.METHOD_NOT_FOUND, message: expect.any(String) } },
      ]);
    });

    it('sends nothing for a notification', async () => {
      const socket = await session('reply-g');
      socket.request({ jsonrpc: '2.0', method: 'Test.mark', params: { value: 'notified' } }, 'reply-g');
      socket.request(rpc('Test.marks', {}, 'first'), 'reply-g');
      expect((await socket.nextMessage()).json).toMatchObject({ id: 'first', result: expect.arrayContaining(['notified']) });
      // A response to the notification would have been produced before this second round trip started.
      socket.request(rpc('Host.ping2', {}, 'second'), 'reply-g');
      expect((await socket.nextMessage()).json).toMatchObject({ id: 'second' });
      expect(socket.unread).toHaveLength(0);
      expect(marks).toContain('notified');
    });

    it('passes the flow id and the plain local address to verbs', async () => {
      const socket = await session('reply-h');
      socket.write(
        `SEND\ndestination:jms.topic.vdsm_requests\nreply-to:reply-h\novirtCorrelationId:flow-123\n\n${JSON.stringify(rpc('Test.context', {}, 7))}\0`,
      );
      expect((await socket.nextMessage()).json).toMatchObject({
        id: 7,
        result: {
          localAddress: '127.0.0.1',
          remoteAddress: '127.0.0.1',
          requestId: 7,
          flowId: 'flow-123',
          connectionId: expect.any(String),
        },
      });
    });

    it('serves a quick verb while a slow one is running on the same connection', async () => {
      const socket = await session('reply-i');
      socket.request(rpc('Test.slow', {}, 'slow'), 'reply-i');
      socket.request(rpc('Test.fast', {}, 'fast'), 'reply-i');
      // `Test.slow` cannot finish before `Test.release`, which is sent only after `fast` was answered.
      expect((await socket.nextMessage()).json).toMatchObject({ id: 'fast', result: 'fast' });
      socket.request(rpc('Test.release', {}, 'release'), 'reply-i');
      const rest = [(await socket.nextMessage()).json, (await socket.nextMessage()).json].map((r) => (r as { id: string }).id);
      expect(rest.sort()).toEqual(['release', 'slow']);
    });

    it('serves a quick verb on another connection while a slow one is running', async () => {
      const busy = await session('reply-j');
      const other = await session('reply-k');
      busy.request(rpc('Test.slow', {}, 'slow'), 'reply-j');
      // Same-connection order: once ping2 is answered, `slow` has been dispatched and waits for the release.
      busy.request(rpc('Host.ping2', {}, 'sync'), 'reply-j');
      expect((await busy.nextMessage()).json).toMatchObject({ id: 'sync' });
      other.request(rpc('Test.fast', {}, 'fast'), 'reply-k');
      expect((await other.nextMessage()).json).toMatchObject({ id: 'fast', result: 'fast' });
      other.request(rpc('Test.release', {}, 'release'), 'reply-k');
      expect((await busy.nextMessage()).json).toMatchObject({ id: 'slow', result: 'slow' });
    });
  });

  describe('routing', () => {
    it('delivers a response only to subscribers of its reply-to, on any connection', async () => {
      const requester = await open();
      await requester.connect();
      const listener = await session('shared-reply');
      const bystander = await session('elsewhere');
      // The requester is not subscribed itself: routing by destination is server-wide, like VDSM's.
      requester.subscribe('requester-own', 'own');
      requester.request(rpc('Test.echo', { a: 'routed' }, 'routed'), 'shared-reply');
      expect((await listener.nextMessage()).json).toMatchObject({ id: 'routed', result: { a: 'routed' } });
      bystander.request(rpc('Host.ping2', {}, 'bystander'), 'elsewhere');
      expect((await bystander.nextMessage()).json).toMatchObject({ id: 'bystander' });
      requester.request(rpc('Host.ping2', {}, 'own'), 'requester-own');
      expect((await requester.nextMessage()).json).toMatchObject({ id: 'own' });
    });

    it('forwards a SEND to a non-request destination to its subscribers', async () => {
      const sender = await session('fwd-sender');
      const receiver = await session('fwd-receiver');
      await receiver.subscribed('custom.topic', 'custom');
      sender.write('SEND\ndestination:custom.topic\ncontent-type:text/plain\n\nhello\0');
      const message = await receiver.nextFrame();
      expect(message.command).toBe('MESSAGE');
      expect(message.headers).toMatchObject({ destination: 'custom.topic', subscription: 'custom', 'content-type': 'text/plain' });
      expect(frameText(message)).toBe('hello');
    });

    it('answers a SEND to a destination nobody subscribed with ERROR "Subscription not available"', async () => {
      const socket = await session('nobody');
      socket.write('SEND\ndestination:nobody.listens\n\nhello\0');
      const error = await socket.nextFrame();
      expect(error.command).toBe('ERROR');
      expect(error.headers.message).toBe('Subscription not available');
    });

    it('publishes events to jms.queue.events subscribers only', async () => {
      const subscriber = await session('ev-sub');
      await subscriber.subscribed('jms.queue.events', 'events');
      const other = await session('ev-other');
      server.publishEvent({ method: '|net|host_conn|no_id', params: {} });
      const { frame, json } = await subscriber.nextMessage();
      expect(frame.headers).toMatchObject({ destination: 'jms.queue.events', subscription: 'events' });
      expect(json).toEqual({ jsonrpc: '2.0', method: '|net|host_conn|no_id', params: { notify_time: expect.any(Number) } });
      other.request(rpc('Host.ping2', {}, 'other'), 'ev-other');
      expect((await other.nextMessage()).json).toMatchObject({ id: 'other' });
    });
  });

  describe('bad input', () => {
    it('answers a malformed frame with ERROR and closes only that connection', async () => {
      const bad = await session('bad-1');
      const good = await session('good-1');
      bad.write('SEND\ndestination:jms.topic.vdsm_requests\nreply-to:urn:raw:colon\n\n{}\0');
      const error = await bad.nextFrame();
      expect(error.command).toBe('ERROR');
      expect(error.headers.message).toBe('Malformed frame');
      await bad.waitClosed();
      good.request(rpc('Host.ping2', {}, 'good'), 'good-1');
      expect((await good.nextMessage()).json).toMatchObject({ id: 'good', result: true });
    });

    it('answers an oversized frame with ERROR, closes that connection and keeps serving others', async () => {
      const big = await session('big-1');
      const good = await session('good-2');
      big.write(`SEND\ndestination:jms.topic.vdsm_requests\nreply-to:big-1\n\n${'x'.repeat(MAX_FRAME_BYTES)}`);
      const error = await big.nextFrame();
      expect(error.command).toBe('ERROR');
      expect(error.headers.message).toBe('Frame too large');
      await big.waitClosed();
      good.request(rpc('Host.ping2', {}, 'good'), 'good-2');
      expect((await good.nextMessage()).json).toMatchObject({ id: 'good', result: true });
    });

    it('answers an unsupported command with ERROR and keeps the connection', async () => {
      const socket = await session('unsupported');
      socket.write('BEGIN\ntransaction:t1\n\n\0');
      expect((await socket.nextFrame()).headers.message).toBe('Unsupported command');
      socket.request(rpc('Host.ping2', {}, 'after'), 'unsupported');
      expect((await socket.nextMessage()).json).toMatchObject({ id: 'after' });
    });
  });
});

describe('agent handshake deadline', () => {
  it('closes a connection that never sends CONNECT', async () => {
    const server = await startVdsmServer({
      listen: { host: '127.0.0.1', port: 0 },
      tls: 'insecure',
      verbs: [],
      handshakeTimeoutMs: 200,
      logger: testLogger(),
    });
    try {
      const socket = await RawStompSocket.open(server.address.port);
      await socket.waitClosed();
      expect(server.connections()).toBe(0);
    } finally {
      await server.close();
    }
  });
});
