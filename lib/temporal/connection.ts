/**
 * How every hostprov process reaches Temporal: the worker, the CLI and the client helpers all resolve their
 * connection here, from (highest first) command-line flags, Temporal's standard environment variables
 * (`TEMPORAL_ADDRESS`, `TEMPORAL_NAMESPACE`, `TEMPORAL_API_KEY`, `TEMPORAL_TLS_*`, `TEMPORAL_PROFILE`,
 * `TEMPORAL_CONFIG_FILE`, `TEMPORAL_GRPC_META_*`) and a profile of Temporal's TOML config file (by default
 * `~/.config/temporalio/temporal.toml`), read with the SDK's `@temporalio/envconfig` so the file means what
 * it means to the `temporal` CLI.
 *
 * Every value is checked before anything connects, and a bad one is reported with where it came from
 * (`--tls-cert`, `TEMPORAL_TLS_CLIENT_CERT_PATH`, or the profile key): a malformed address, a file that is not
 * there or is not PEM, a certificate without its key (or not matching it), an unknown profile.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection, type ConnectionOptions } from '@temporalio/client';
import type { TLSConfig } from '@temporalio/client';
import { loadClientConfig, loadClientConfigProfile, type ClientConfigProfile, type ConfigDataSource } from '@temporalio/envconfig';
import type { NativeConnectionOptions } from '@temporalio/worker';
import { z } from 'zod';
import { DEFAULT_NAMESPACE } from './constants';
import { hostprovDataConverter } from './data-converter';
import type { PayloadKeyRing } from './payload-keys';

/** @default when neither a flag, a variable nor a profile names one */
export const DEFAULT_TEMPORAL_ADDRESS = '127.0.0.1:7233';
/** Temporal's frontend port, used when an address has none. */
export const DEFAULT_TEMPORAL_PORT = 7233;

/** A setting that cannot be used; the message names the flag, variable or profile key it came from. */
export class TemporalConfigError extends Error {
  override readonly name = 'TemporalConfigError';
}

/** The connection flags as commander hands them over (every one optional). */
export const TemporalFlags = z.object({
  address: z.string().optional(),
  namespace: z.string().optional(),
  /** `--tls` / `--no-tls`: force TLS on (system roots) or off. */
  tls: z.boolean().optional(),
  tlsCert: z.string().optional(),
  tlsKey: z.string().optional(),
  tlsCa: z.string().optional(),
  tlsServerName: z.string().optional(),
  apiKey: z.string().optional(),
  profile: z.string().optional(),
  configFile: z.string().optional(),
});
export type TemporalFlags = z.infer<typeof TemporalFlags>;

export interface TemporalTls {
  /** The client certificate and its key, for servers that require mutual TLS. */
  clientCertPair?: { crt: Buffer; key: Buffer };
  /** The CA that signed the server's certificate; the system roots when absent. */
  serverRootCACertificate?: Buffer;
  /** The name the server's certificate must carry, when it is not the address's host. */
  serverNameOverride?: string;
}

export interface TemporalConnectionConfig {
  /** `host:port` or `[ipv6]:port`. */
  address: string;
  namespace: string;
  /** null: plaintext gRPC (a dev server on loopback). */
  tls: TemporalTls | null;
  apiKey?: string;
  /** Extra gRPC headers (`TEMPORAL_GRPC_META_*`, a profile's `grpc_meta`). */
  metadata?: Record<string, string>;
  /** Where each setting came from, for the start-up log line. Never holds a secret. */
  origin?: Record<string, string>;
}

/** A plaintext connection to a server we started ourselves (dev stack, demo, tests). */
export function plainConnection(address: string, namespace: string = DEFAULT_NAMESPACE): TemporalConnectionConfig {
  return { address, namespace, tls: null };
}

const DNS_NAME = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;
const NAMESPACE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/;
const PROFILE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** It goes into an HTTP header: printable ASCII, no spaces. */
const API_KEY = /^[\x21-\x7e]+$/;

/**
 * `host`, `host:port`, `[ipv6]` or `[ipv6]:port` (port 7233 when absent); returns `host:port` or
 * `[ipv6]:port`. `source` names where the value came from, for the error.
 */
export function parseTemporalAddress(value: string, source: string): string {
  const bad = (why: string): TemporalConfigError => new TemporalConfigError(`${source} ${JSON.stringify(value)}: ${why}`);
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(value)) throw bad('give host:port without a scheme, e.g. temporal.example.com:7233');
  let host: string;
  let port: string | undefined;
  const bracketed = /^\[([^\]]*)\](?::(.*))?$/.exec(value);
  if (bracketed) {
    host = bracketed[1] ?? '';
    port = bracketed[2];
    if (isIP(host) !== 6) throw bad('only an IPv6 address goes in brackets, e.g. [::1]:7233');
  } else {
    const parts = value.split(':');
    if (parts.length > 2) throw bad('an IPv6 address goes in brackets, e.g. [::1]:7233');
    host = parts[0] ?? '';
    port = parts[1];
    if (!(isIP(host) === 4 || DNS_NAME.test(host))) throw bad('expected host:port, where host is a DNS name or an IP address');
  }
  if (port !== undefined && !/^\d{1,5}$/.test(port)) throw bad('the port must be a number');
  const portNumber = port === undefined ? DEFAULT_TEMPORAL_PORT : Number(port);
  if (portNumber < 1 || portNumber > 65_535) throw bad('ports are 1..65535');
  return `${host.includes(':') ? `[${host}]` : host}:${portNumber}`;
}

/** The environment variables Temporal's envconfig reads for each setting (the first one set wins there too). */
const ENV = {
  address: ['TEMPORAL_ADDRESS'],
  namespace: ['TEMPORAL_NAMESPACE'],
  apiKey: ['TEMPORAL_API_KEY'],
  tls: ['TEMPORAL_TLS'],
  clientCert: ['TEMPORAL_TLS_CLIENT_CERT_PATH', 'TEMPORAL_TLS_CLIENT_CERT_DATA'],
  clientKey: ['TEMPORAL_TLS_CLIENT_KEY_PATH', 'TEMPORAL_TLS_CLIENT_KEY_DATA'],
  serverCACert: ['TEMPORAL_TLS_SERVER_CA_CERT_PATH', 'TEMPORAL_TLS_SERVER_CA_CERT_DATA'],
  serverName: ['TEMPORAL_TLS_SERVER_NAME'],
} as const;

const PROFILE_KEYS: Record<keyof typeof ENV, string> = {
  address: 'address',
  namespace: 'namespace',
  apiKey: 'api_key',
  tls: 'tls.disabled',
  clientCert: 'tls.client_cert_path / tls.client_cert_data',
  clientKey: 'tls.client_key_path / tls.client_key_data',
  serverCACert: 'tls.server_ca_cert_path / tls.server_ca_cert_data',
  serverName: 'tls.server_name',
};

export interface ResolveTemporalOptions {
  /** @default process.env */
  env?: NodeJS.ProcessEnv;
}

/** Flags over environment over config-file profile over defaults; throws {@link TemporalConfigError}. */
export function resolveTemporalConfig(rawFlags: unknown, { env = process.env }: ResolveTemporalOptions = {}): TemporalConnectionConfig {
  const parsedFlags = TemporalFlags.safeParse(rawFlags);
  if (!parsedFlags.success)
    throw new TemporalConfigError(parsedFlags.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  const flags = parsedFlags.data;
  const envVars = Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));

  const { profile, profileLabel } = loadProfile(flags, envVars);
  const sourceOf = (setting: keyof typeof ENV, flag: string | undefined): string =>
    flag ?? ENV[setting].find((name) => envVars[name] !== undefined) ?? `${PROFILE_KEYS[setting]} of ${profileLabel}`;

  const origin: Record<string, string> = {};
  const address = flags.address ?? profile.address;
  origin.address = address === undefined ? 'default' : sourceOf('address', flags.address === undefined ? undefined : '--address');
  const resolvedAddress = address === undefined ? DEFAULT_TEMPORAL_ADDRESS : parseTemporalAddress(address, origin.address);

  const namespace = flags.namespace ?? profile.namespace ?? DEFAULT_NAMESPACE;
  const namespaceSource =
    flags.namespace === undefined && profile.namespace === undefined
      ? 'default'
      : sourceOf('namespace', flags.namespace === undefined ? undefined : '--namespace');
  if (!NAMESPACE.test(namespace))
    throw new TemporalConfigError(`${namespaceSource} ${JSON.stringify(namespace)}: a namespace is letters, digits, ".", "_" and "-"`);
  origin.namespace = namespaceSource;

  const apiKey = flags.apiKey ?? profile.apiKey;
  if (apiKey !== undefined) {
    const source = sourceOf('apiKey', flags.apiKey === undefined ? undefined : '--api-key');
    if (!API_KEY.test(apiKey))
      throw new TemporalConfigError(`${source}: an API key is printable ASCII without spaces (it is sent as an HTTP header)`);
    origin.apiKey = source;
  }

  const tls = resolveTls(flags, profile, apiKey !== undefined, sourceOf, origin);
  return {
    address: resolvedAddress,
    namespace,
    tls,
    ...(apiKey !== undefined ? { apiKey } : {}),
    ...(profile.grpcMeta && Object.keys(profile.grpcMeta).length ? { metadata: profile.grpcMeta } : {}),
    origin,
  };
}

function loadProfile(flags: TemporalFlags, env: Record<string, string>): { profile: ClientConfigProfile; profileLabel: string } {
  const fileSource =
    flags.configFile !== undefined ? '--config-file' : env.TEMPORAL_CONFIG_FILE !== undefined ? 'TEMPORAL_CONFIG_FILE' : null;
  const file = flags.configFile ?? env.TEMPORAL_CONFIG_FILE ?? defaultConfigFile(env);
  // envconfig quietly skips a missing file; one the operator named must exist.
  if (fileSource && !existsSync(file)) throw new TemporalConfigError(`${fileSource} ${file}: file does not exist`);
  const profileName = flags.profile ?? env.TEMPORAL_PROFILE;
  const profileSource = flags.profile !== undefined ? '--profile' : 'TEMPORAL_PROFILE';
  if (profileName !== undefined && !PROFILE.test(profileName))
    throw new TemporalConfigError(`${profileSource} ${JSON.stringify(profileName)}: a profile name is letters, digits, ".", "_" and "-"`);
  const configSource: ConfigDataSource | undefined = fileSource ? { path: file } : undefined;
  const profileLabel = `profile "${profileName ?? 'default'}" in ${file}`;
  try {
    return {
      profile: loadClientConfigProfile({
        ...(profileName !== undefined ? { profile: profileName } : {}),
        ...(configSource ? { configSource } : {}),
        overrideEnvVars: env,
      }),
      profileLabel,
    };
  } catch (err) {
    const message = (err as Error).message;
    if (/Profile '.*' not found/.test(message)) {
      const known = Object.keys(loadClientConfig({ ...(configSource ? { configSource } : {}), overrideEnvVars: env }).profiles);
      throw new TemporalConfigError(
        `${profileSource} ${profileName}: no such profile in ${file} (${known.length ? `profiles: ${known.join(', ')}` : 'it has none'})`,
      );
    }
    throw new TemporalConfigError(`${file}: ${message.trimEnd()}${looksLikeJson(file) ? `\n${JSON_CONFIG_HINT}` : ''}`);
  }
}

/** Told to whoever hands Temporal's TOML option a JSON file: most likely hostprov's own settings file. */
const JSON_CONFIG_HINT =
  "The file is JSON: --config-file and TEMPORAL_CONFIG_FILE take Temporal's client configuration, in TOML; hostprov's own settings file goes to --config.";

function looksLikeJson(file: string): boolean {
  try {
    return readFileSync(file, 'utf8').trimStart().startsWith('{');
  } catch {
    return false;
  }
}

/** Where envconfig looks when no file is named (Linux: $XDG_CONFIG_HOME or ~/.config). */
function defaultConfigFile(env: Record<string, string>): string {
  return join(env.XDG_CONFIG_HOME ?? join(env.HOME ?? homedir(), '.config'), 'temporalio', 'temporal.toml');
}

type SourceOf = (setting: keyof typeof ENV, flag: string | undefined) => string;

function resolveTls(
  flags: TemporalFlags,
  profile: ClientConfigProfile,
  hasApiKey: boolean,
  sourceOf: SourceOf,
  origin: Record<string, string>,
): TemporalTls | null {
  const material = {
    clientCert:
      flags.tlsCert !== undefined
        ? { source: '--tls-cert', data: { path: flags.tlsCert } }
        : from(profile.tls?.clientCert, sourceOf('clientCert', undefined)),
    clientKey:
      flags.tlsKey !== undefined
        ? { source: '--tls-key', data: { path: flags.tlsKey } }
        : from(profile.tls?.clientKey, sourceOf('clientKey', undefined)),
    serverCACert:
      flags.tlsCa !== undefined
        ? { source: '--tls-ca', data: { path: flags.tlsCa } }
        : from(profile.tls?.serverCACert, sourceOf('serverCACert', undefined)),
  };
  const serverName = flags.tlsServerName ?? profile.tls?.serverName;
  const anyTlsFlag = [flags.tlsCert, flags.tlsKey, flags.tlsCa, flags.tlsServerName].some((v) => v !== undefined);
  if (flags.tls === false) {
    if (anyTlsFlag)
      throw new TemporalConfigError(
        '--no-tls turns TLS off; it cannot be combined with --tls-cert, --tls-key, --tls-ca or --tls-server-name',
      );
    origin.tls = '--no-tls';
    return null;
  }
  const profileTls = profile.tls !== undefined && profile.tls.disabled !== true;
  const enabled = flags.tls === true || anyTlsFlag || (profile.tls?.disabled !== true && (profileTls || hasApiKey));
  if (!enabled) {
    origin.tls = profile.tls?.disabled === true ? sourceOf('tls', undefined) : 'off (default)';
    return null;
  }
  origin.tls =
    flags.tls === true ? '--tls' : anyTlsFlag ? 'TLS flags' : profileTls ? sourceOf('tls', undefined) : 'on because of the API key';

  if (material.clientCert && !material.clientKey)
    throw new TemporalConfigError(
      `${material.clientCert.source} needs the client certificate's private key too (--tls-key, TEMPORAL_TLS_CLIENT_KEY_PATH or tls.client_key_path)`,
    );
  if (material.clientKey && !material.clientCert)
    throw new TemporalConfigError(
      `${material.clientKey.source} needs the client certificate too (--tls-cert, TEMPORAL_TLS_CLIENT_CERT_PATH or tls.client_cert_path)`,
    );
  const tls: TemporalTls = {};
  if (material.clientCert && material.clientKey) {
    const crt = readPem(material.clientCert);
    const key = readPem(material.clientKey);
    const certificate = parseCertificate(crt, material.clientCert.source);
    let privateKey;
    try {
      privateKey = createPrivateKey(key);
    } catch {
      throw new TemporalConfigError(`${describe(material.clientKey)}: not a PEM private key`);
    }
    if (!certificate.checkPrivateKey(privateKey))
      throw new TemporalConfigError(
        `${describe(material.clientCert)} and ${describe(material.clientKey)}: the key does not belong to the certificate`,
      );
    tls.clientCertPair = { crt, key };
    origin.clientCert = material.clientCert.source;
  }
  if (material.serverCACert) {
    const ca = readPem(material.serverCACert);
    parseCertificate(ca, describe(material.serverCACert));
    tls.serverRootCACertificate = ca;
    origin.serverCA = material.serverCACert.source;
  }
  if (serverName !== undefined) {
    const source = sourceOf('serverName', flags.tlsServerName === undefined ? undefined : '--tls-server-name');
    if (!DNS_NAME.test(serverName) && isIP(serverName) === 0)
      throw new TemporalConfigError(`${source} ${JSON.stringify(serverName)}: expected a DNS name or an IP address`);
    tls.serverNameOverride = serverName;
    origin.serverName = source;
  }
  return tls;
}

interface Material {
  source: string;
  data: ConfigDataSource;
}

function from(data: ConfigDataSource | undefined, source: string): Material | undefined {
  return data === undefined ? undefined : { source, data };
}

function describe(material: Material): string {
  return 'path' in material.data ? `${material.source} ${material.data.path}` : material.source;
}

function readPem(material: Material): Buffer {
  if (!('path' in material.data)) return Buffer.from(material.data.data);
  try {
    return readFileSync(material.data.path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'file does not exist'
        : code === 'EACCES'
          ? 'permission denied'
          : code === 'EISDIR'
            ? 'is a directory'
            : (err as Error).message;
    throw new TemporalConfigError(`${describe(material)}: ${why}`);
  }
}

function parseCertificate(pem: Buffer, source: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch {
    throw new TemporalConfigError(`${source}: not a PEM certificate`);
  }
}

/** Options for the client's `Connection.connect` (gRPC in Node). */
export function clientConnectionOptions(config: TemporalConnectionConfig): ConnectionOptions {
  return {
    address: config.address,
    tls: config.tls ? tlsConfig(config.tls) : false,
    ...(config.apiKey !== undefined ? { apiKey: config.apiKey } : {}),
    ...(config.metadata ? { metadata: config.metadata } : {}),
  };
}

/** Options for the worker's `NativeConnection.connect` (gRPC in the SDK's Rust core). */
export function nativeConnectionOptions(config: TemporalConnectionConfig): NativeConnectionOptions {
  return {
    address: config.address,
    tls: config.tls ? tlsConfig(config.tls) : false,
    ...(config.apiKey !== undefined ? { apiKey: config.apiKey } : {}),
    ...(config.metadata ? { metadata: config.metadata } : {}),
  };
}

function tlsConfig(tls: TemporalTls): TLSConfig {
  return {
    ...(tls.clientCertPair ? { clientCertPair: tls.clientCertPair } : {}),
    ...(tls.serverRootCACertificate ? { serverRootCACertificate: tls.serverRootCACertificate } : {}),
    ...(tls.serverNameOverride ? { serverNameOverride: tls.serverNameOverride } : {}),
  };
}

/** What a start-up log line may show: no keys, no certificates. */
export function describeTemporalConfig(config: TemporalConnectionConfig): Record<string, unknown> {
  return {
    address: config.address,
    namespace: config.namespace,
    tls: config.tls
      ? {
          clientCert: Boolean(config.tls.clientCertPair),
          serverCA: Boolean(config.tls.serverRootCACertificate),
          serverName: config.tls.serverNameOverride,
        }
      : false,
    apiKey: config.apiKey !== undefined,
    ...(config.origin ? { from: config.origin } : {}),
  };
}

export interface TemporalClient {
  readonly client: Client;
  readonly connection: Connection;
  close(): Promise<void>;
}

export interface ConnectClientOptions {
  /** The payload keys (lib/temporal/payload-keys.ts); null leaves payloads unencrypted. */
  payloadKeys: PayloadKeyRing | null;
  /** @default the SDK's (10 s) */
  connectTimeoutMs?: number;
}

/** A client with hostprov's data converter (payload codec, failure converter) on this connection. */
export async function connectClient(config: TemporalConnectionConfig, options: ConnectClientOptions): Promise<TemporalClient> {
  const connection = await Connection.connect({
    ...clientConnectionOptions(config),
    ...(options.connectTimeoutMs !== undefined ? { connectTimeout: options.connectTimeoutMs } : {}),
  });
  const client = new Client({ connection, namespace: config.namespace, dataConverter: hostprovDataConverter(options.payloadKeys) });
  return { client, connection, close: () => connection.close() };
}
