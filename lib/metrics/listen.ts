/**
 * Where a metrics endpoint listens (`--metrics-listen`), as a flag's schema: apart from lib/metrics/endpoint.ts
 * so that parsing the flag loads neither node:http nor prom-client.
 */
import { z } from 'zod';

/** Where a metrics endpoint listens when only a port is given. @default '127.0.0.1' */
export const DEFAULT_METRICS_HOST = '127.0.0.1';

export class MetricsListenError extends Error {
  override readonly name = 'MetricsListenError';
}

/** `PORT`, `HOST:PORT` or `[IPv6]:PORT`; a bare port listens on loopback. */
export const MetricsListen = z.string().transform((value, ctx) => {
  const m = /^(?:(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):)?(\d{1,5})$/.exec(value);
  const port = Number(m?.[3]);
  if (!m || port < 1 || port > 65_535) {
    ctx.addIssue({ code: 'custom', message: `expected PORT, HOST:PORT or [IPv6]:PORT (port 1..65535): ${JSON.stringify(value)}` });
    return z.NEVER;
  }
  return { host: m[1] ?? m[2] ?? DEFAULT_METRICS_HOST, port };
});
export type MetricsListen = z.output<typeof MetricsListen>;
