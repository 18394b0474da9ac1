/**
 * A VDSM listener: TLS (or explicitly insecure TCP) → STOMP → JSON-RPC → verbs, like VDSM on port 54321
 * (docs/vdsm-wire-protocol.md#tls-and-the-port). The only place that knows all three layers; the host agent serves
 * its verbs with it.
 */
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { getLogger, type Logger } from '../lib/logger';
import { PortInUseError } from '../lib/ports';
import { JsonRpcDispatcher } from './json-rpc';
import { resolveTransportLimits, type TransportLimits } from './limits';
import { StompServer, type StompRequest } from './stomp/server';
import { loadTlsMaterial, serverTlsOptions, warnInsecureConnection, warnInsecureListener, type TlsFiles } from './tls';
import { Destination } from './stomp/destinations';
import type { AgentEvent, VerbDefinition } from './verbs';
import type { ConnectionContext } from './json-rpc';

/** Every limit is optional; see {@link TransportLimits} for what each bounds and its default. */
export interface VdsmServerOptions extends Partial<TransportLimits> {
  /** Where to listen; port 0 picks a free port (see {@link VdsmServer.address}). */
  listen: { host: string; port: number };
  /** PEM files for mutual TLS, or `'insecure'` for plain TCP (development and tests only; logs loud warnings). */
  tls: TlsFiles | 'insecure';
  verbs: readonly VerbDefinition[];
  /**
   * Budget for the TLS handshake plus the STOMP CONNECT frame; VDSM closes sockets that have not finished
   * TLS and protocol detection within 10 s (docs/vdsm-wire-protocol.md#connecting). @default 10000
   */
  handshakeTimeoutMs?: number;
  /** The `server` header of STOMP CONNECTED; VDSM sends none. @default none */
  serverHeader?: string;
  /** @default getLogger('agent-transport') */
  logger?: Logger;
  /**
   * Started when the listener goes from no TCP connection to one; the function it returns is called when the
   * last one closes, and at {@link VdsmServer.close}. For work that must not wake an agent nobody talks to
   * (the agent's event-loop stall watch). @default nothing
   */
  whileConnected?: () => () => void;
}

export interface VdsmServer {
  /** The bound address (the real port when `listen.port` was 0). */
  readonly address: { host: string; port: number };
  /** Stops listening and ends every connection. */
  close(): Promise<void>;
  /** Sends a JSON-RPC notification to every `jms.queue.events` subscriber (docs/vdsm-wire-protocol.md#events); returns how many got it. */
  publishEvent(event: AgentEvent): number;
  /** STOMP connections currently open. */
  connections(): number;
  /** The limits in force (the given ones over the defaults). */
  readonly limits: TransportLimits;
}

export async function startVdsmServer(options: VdsmServerOptions): Promise<VdsmServer> {
  const log = options.logger ?? getLogger('agent-transport');
  const handshakeTimeoutMs = options.handshakeTimeoutMs ?? 10_000;
  const limits = resolveTransportLimits({
    maxConnections: options.maxConnections,
    maxRequestsInFlight: options.maxRequestsInFlight,
    maxBatchSize: options.maxBatchSize,
    maxFrameBytes: options.maxFrameBytes,
    maxOutgoingBytes: options.maxOutgoingBytes,
  });
  const dispatcher = new JsonRpcDispatcher(options.verbs, {
    logger: log,
    maxRequestsInFlight: limits.maxRequestsInFlight,
    maxBatchSize: limits.maxBatchSize,
  });
  const stomp = new StompServer({
    onRequest: (request) => dispatcher.handleText(request.body, connectionContext(request)),
    maxFrameBytes: limits.maxFrameBytes,
    maxConnections: limits.maxConnections,
    maxOutgoingBytes: limits.maxOutgoingBytes,
    connectTimeoutMs: handshakeTimeoutMs,
    ...(options.serverHeader !== undefined ? { serverHeader: options.serverHeader } : {}),
    logger: log,
  });

  const rawSockets = new Set<Socket>();
  let endConnectedWork: (() => void) | null = null;
  /** Accept time per TCP peer, so the CONNECT deadline also covers the TLS handshake. */
  const acceptedAt = new Map<string, number>();
  const track = (socket: Socket): void => {
    // Replies, events and heart-beats are small frames written as they come. With Nagle's algorithm a reply
    // written while an earlier frame (an event) is still unacknowledged waits for the caller's delayed ACK,
    // up to 40 ms on Linux (docs/performance.md#the-confirm-loop).
    socket.setNoDelay(true);
    rawSockets.add(socket);
    if (rawSockets.size === 1 && options.whileConnected) endConnectedWork = options.whileConnected();
    const key = peerKey(socket);
    acceptedAt.set(key, Date.now());
    socket.once('close', () => {
      rawSockets.delete(socket);
      acceptedAt.delete(key);
      if (rawSockets.size === 0) stopConnectedWork();
    });
  };
  const stopConnectedWork = (): void => {
    endConnectedWork?.();
    endConnectedWork = null;
  };
  const serve = (socket: Socket | TLSSocket): void => {
    const started = acceptedAt.get(peerKey(socket)) ?? Date.now();
    const peer = { localAddress: plainAddress(socket.localAddress), remoteAddress: plainAddress(socket.remoteAddress) };
    stomp.attach(socket, peer, handshakeTimeoutMs - (Date.now() - started));
  };

  let server: Server;
  if (options.tls === 'insecure') {
    server = createTcpServer((socket) => {
      track(socket);
      warnInsecureConnection(log, plainAddress(socket.remoteAddress));
      serve(socket);
    });
  } else {
    const material = await loadTlsMaterial(options.tls);
    const tlsServer = createTlsServer({ ...serverTlsOptions(material), handshakeTimeout: handshakeTimeoutMs });
    tlsServer.on('connection', track);
    tlsServer.on('secureConnection', serve);
    tlsServer.on('tlsClientError', (err: NodeJS.ErrnoException, socket) => {
      // A missing or foreign client certificate ends up here (TLS 1.2), as do scanners and timeouts. A peer
      // that hangs up before saying anything (a port probe, a load balancer's health check) is not worth a
      // warning: it is logged at debug so real handshake failures stand out.
      const hungUp = err.code === 'ECONNRESET';
      log[hungUp ? 'debug' : 'warn'](
        { err: err.message, remoteAddress: plainAddress(socket.remoteAddress) },
        hungUp ? 'peer closed before the TLS handshake' : 'TLS handshake failed',
      );
    });
    server = tlsServer;
  }
  // Backstop under the STOMP limit: sockets still in their TLS handshake are not STOMP connections yet, and a
  // flood of them must not grow without bound either. Node closes sockets beyond this at accept.
  server.maxConnections = 2 * limits.maxConnections;
  server.on('drop', (dropped) =>
    log.warn(
      { remoteAddress: plainAddress(dropped?.remoteAddress), limit: server.maxConnections },
      'too many TCP connections; closed one at accept',
    ),
  );

  const address = await listen(server, options.listen);
  server.on('error', (err) => log.error({ err }, 'agent listener error'));
  if (options.tls === 'insecure') warnInsecureListener(log, address);
  else log.info({ ...address, limits }, 'agent listening (mutual TLS)');

  let closing: Promise<void> | undefined;
  return {
    address,
    limits,
    connections: () => stomp.connectionCount(),
    publishEvent(event) {
      // VDSM stamps events with a monotonic millisecond clock (docs/vdsm-wire-protocol.md#events).
      const params = { notify_time: Number(process.hrtime.bigint() / 1_000_000n), ...event.params };
      const delivered = stomp.publish(Destination.EVENTS, JSON.stringify({ jsonrpc: '2.0', method: event.method, params }));
      log.debug({ method: event.method, delivered }, 'event published');
      return delivered;
    },
    close() {
      closing ??= new Promise<void>((resolvePromise) => {
        server.close(() => resolvePromise());
        stomp.closeAll();
        for (const socket of rawSockets) socket.destroy();
        stopConnectedWork();
      }).then(() => log.info(address, 'agent stopped listening'));
      return closing;
    },
  };
}

function connectionContext(request: StompRequest): ConnectionContext {
  const flowId = request.headers.ovirtCorrelationId;
  return { ...request.connection, ...(flowId !== undefined ? { flowId } : {}) };
}

/** Every address, IPv4 ones included on a dual-stack socket: the agent's default (`--listen [::]:54321`). */
const UNSPECIFIED_IPV6 = '::';

/** `::` asked for on a kernel without IPv6. */
export class NoIpv6ListenError extends Error {
  override readonly name = 'NoIpv6ListenError';
  constructor(
    readonly port: number,
    readonly boundInstead: string,
  ) {
    super(`cannot listen on [::]:${port}: this kernel has no IPv6 (net bound ${boundInstead} instead)`);
  }
}

function listen(server: Server, at: { host: string; port: number }): Promise<{ host: string; port: number }> {
  return new Promise((resolvePromise, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      reject(err.code === 'EADDRINUSE' ? new PortInUseError(at.host, at.port, 'agent') : err);
    };
    server.once('error', onError);
    // net resolves every host it is given, even an IP literal (dns.lookup: loading node:dns, and its check
    // for an IPv6 literal compiles a large pattern): some 5-8 ms of an agent's start. Given no host, it binds
    // the unspecified IPv6 address (dual stack) itself, which is what `::` asks for.
    const unspecifiedV6 = at.host === UNSPECIFIED_IPV6;
    server.listen(unspecifiedV6 ? { port: at.port } : { host: at.host, port: at.port }, () => {
      server.off('error', onError);
      const bound = server.address();
      // Without a host, a kernel without IPv6 gets 0.0.0.0 instead, where `::` refused to listen: refuse still.
      if (unspecifiedV6 && typeof bound === 'object' && bound && bound.family !== 'IPv6') {
        server.close();
        reject(new NoIpv6ListenError(at.port, bound.address));
        return;
      }
      const port = typeof bound === 'object' && bound ? bound.port : at.port;
      resolvePromise({ host: at.host, port });
    });
  });
}

/** IPv4 peers of a dual-stack socket show up as `::ffff:a.b.c.d`; verbs want the plain address. */
function plainAddress(address: string | undefined): string {
  if (!address) return '';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice('::ffff:'.length) : address;
}

function peerKey(socket: Socket): string {
  return `${socket.remoteAddress ?? ''}|${socket.remotePort ?? ''}`;
}
