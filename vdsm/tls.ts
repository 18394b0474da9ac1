/**
 * TLS material and options for the agent and its clients. Like VDSM (docs/vdsm-wire-protocol.md#tls-and-the-port) the server
 * demands a client certificate signed by its CA: the certificate is the only authentication there is.
 */
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import type { ConnectionOptions, SecureContext, TlsOptions } from 'node:tls';
import type { Logger } from '../lib/logger';

/** PEM files: this side's certificate and key, and the CA that signs the peer's certificate. */
export interface TlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
  readonly caFile: string;
}

export interface TlsMaterial {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca: Buffer;
}

export class TlsMaterialError extends Error {
  override readonly name = 'TlsMaterialError';
  constructor(
    readonly path: string,
    readonly role: 'certificate' | 'key' | 'CA certificate',
    options?: { cause?: unknown },
  ) {
    super(`cannot read TLS ${role} ${path}: ${(options?.cause as Error | undefined)?.message ?? 'unknown error'}`, options);
  }
}

/** The engine defaults to TLSv1.2 (docs/vdsm-wire-protocol.md#tls-and-the-port); nothing older is offered or accepted. */
export const MIN_TLS_VERSION = 'TLSv1.2';

export async function loadTlsMaterial(files: TlsFiles): Promise<TlsMaterial> {
  const read = async (path: string, role: TlsMaterialError['role']): Promise<Buffer> => {
    try {
      return await readFile(path);
    } catch (err) {
      throw new TlsMaterialError(path, role, { cause: err });
    }
  };
  const [cert, key, ca] = await Promise.all([
    read(files.certFile, 'certificate'),
    read(files.keyFile, 'key'),
    read(files.caFile, 'CA certificate'),
  ]);
  return { cert, key, ca };
}

export interface ServerTlsOptions {
  /** Demand a client certificate signed by the CA. @default true */
  requireClientCert?: boolean;
}

export function serverTlsOptions(material: TlsMaterial, { requireClientCert = true }: ServerTlsOptions = {}): TlsOptions {
  return {
    cert: material.cert,
    key: material.key,
    ca: material.ca,
    requestCert: requireClientCert,
    rejectUnauthorized: requireClientCert,
    minVersion: MIN_TLS_VERSION,
  };
}

/**
 * Options for `tls.connect`: present our certificate, trust only the agent CA (both in `context`) and verify
 * the server's name. `serverName` (SNI and the name checked) defaults to `host`; an IP host is checked
 * against IP SANs. `session` is a previous session with this agent, offered for resumption.
 */
export function clientTlsOptions(
  context: SecureContext,
  target: { host: string; port: number; serverName?: string },
  session?: Buffer,
): ConnectionOptions {
  const isIp = isIP(target.host) !== 0;
  return {
    host: target.host,
    port: target.port,
    secureContext: context,
    minVersion: MIN_TLS_VERSION,
    rejectUnauthorized: true,
    ...(session ? { session } : {}),
    // Node refuses SNI with an IP address; the identity check then uses `host`.
    ...(target.serverName ? { servername: target.serverName } : isIp ? {} : { servername: target.host }),
  };
}

/** The marker an operator greps for: insecure mode is for development and tests on loopback only. */
export const INSECURE_WARNING =
  'INSECURE MODE: the agent accepts plain-TCP STOMP without TLS or client certificates; anyone who can reach this port can reconfigure the host network';

/** Logs the startup warning for insecure mode. */
export function warnInsecureListener(log: Logger, address: { host: string; port: number }): void {
  log.warn({ ...address, insecure: true }, `${INSECURE_WARNING} (listening on ${address.host}:${address.port})`);
}

/** Logs the per-connection warning for insecure mode. */
export function warnInsecureConnection(log: Logger, remoteAddress: string): void {
  log.warn({ remoteAddress, insecure: true }, `${INSECURE_WARNING} (unauthenticated connection from ${remoteAddress})`);
}
