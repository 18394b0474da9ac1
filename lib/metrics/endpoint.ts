/**
 * The HTTP endpoint Prometheus scrapes: `GET /metrics` (the registry in the text exposition format) and
 * `GET /healthz` (200 when healthy, 503 otherwise, a one-line reason either way). A listener of its own,
 * apart from the service's real traffic, loopback unless the operator says otherwise.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { MetricsListenError, type MetricsListen } from './listen';

// The flag's schema lives apart, so a command can parse the flag without loading node:http.
export { DEFAULT_METRICS_HOST, MetricsListen, MetricsListenError } from './listen';

export interface Health {
  healthy: boolean;
  detail: string;
}

export interface MetricsEndpoint {
  /** `http://host:port` (the bound port when 0 was asked for). */
  readonly url: string;
  close(): Promise<void>;
}

export async function startMetricsEndpoint(options: {
  listen: MetricsListen;
  registry: Registry;
  health?: () => Health;
}): Promise<MetricsEndpoint> {
  const { registry } = options;
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
    } else if (path === '/metrics') {
      const body = await registry.metrics();
      res.writeHead(200, { 'content-type': registry.contentType }).end(req.method === 'HEAD' ? undefined : body);
    } else if (path === '/healthz' && options.health) {
      const health = options.health();
      res
        .writeHead(health.healthy ? 200 : 503, { 'content-type': 'text/plain; charset=utf-8' })
        .end(`${health.healthy ? 'ok' : 'unhealthy'}: ${health.detail}\n`);
    } else {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
    }
  };
  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolvePromise, reject) => {
    server.once('error', (err) =>
      reject(new MetricsListenError(`metrics endpoint ${options.listen.host}:${options.listen.port}: ${err.message}`)),
    );
    server.listen({ host: options.listen.host, port: options.listen.port }, () => resolvePromise());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    close: () =>
      new Promise<void>((resolvePromise) => {
        server.closeAllConnections();
        server.close(() => resolvePromise());
      }),
  };
}
