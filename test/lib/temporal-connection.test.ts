/**
 * How every process reaches Temporal (lib/temporal/connection.ts, cli/temporal-flags.ts): flags over
 * Temporal's environment variables over an envconfig TOML profile; bad values refused with exit code 2 and
 * a message naming the flag, variable or profile key; real mutual TLS through a TLS-terminating proxy in
 * front of the run's dev server (the dev server itself serves no TLS); an IPv6 literal address against a
 * dev server listening on ::1.
 */
import { readFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { NativeConnection } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getLogger } from '../../lib/logger';
import { ensurePki, type Pki } from '../../lib/pki';
import { freePorts } from '../../lib/ports';
import { PROJECT_ROOT } from '../../lib/paths';
import { run } from '../../lib/process';
import {
  connectClient,
  nativeConnectionOptions,
  parseTemporalAddress,
  resolveTemporalConfig,
  TemporalConfigError,
} from '../../lib/temporal/connection';
import { startDevServer, type RunningDevServer } from '../../lib/temporal/dev-server';
import { startWorker } from '../../worker/main';
import { installTemporalRuntime } from '../../worker/runtime';
import { skipBecause } from '../helpers/skip';
import { temporalTarget, unavailableReason } from '../helpers/temporal';

const BIN = join(PROJECT_ROOT, 'bin', 'hostprov');
/** An environment without the developer's own Temporal settings (no TEMPORAL_*, a HOME with no config). */
const cleanEnv = (home: string, extra: Record<string, string> = {}): Record<string, string> => ({
  ...Object.fromEntries(
    Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined && !e[0].startsWith('TEMPORAL_')),
  ),
  HOME: home,
  XDG_CONFIG_HOME: join(home, '.config'),
  ...extra,
});

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(TemporalConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a TemporalConfigError');
}

let dir: string;
let pki: Pki;
let foreign: Pki;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hostprov-connection-'));
  // The server certificate names only a DNS name, so connecting by IP needs --tls-server-name.
  pki = await ensurePki(join(dir, 'pki'), {
    servers: [{ name: 'temporal', dnsNames: ['temporal.hostprov.test'] }],
    clients: [{ name: 'worker' }],
  });
  foreign = await ensurePki(join(dir, 'foreign'), {
    caName: 'some other CA',
    servers: [{ name: 'temporal', dnsNames: ['temporal.hostprov.test'] }],
    clients: [{ name: 'intruder' }],
  });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('Temporal addresses', () => {
  it('accept host:port, a bare host (port 7233) and bracketed IPv6 literals', () => {
    expect(parseTemporalAddress('temporal.example.com:7233', '--address')).toBe('temporal.example.com:7233');
    expect(parseTemporalAddress('10.1.2.3', '--address')).toBe('10.1.2.3:7233');
    expect(parseTemporalAddress('[::1]:7233', '--address')).toBe('[::1]:7233');
    expect(parseTemporalAddress('[fd00::5]', '--address')).toBe('[fd00::5]:7233');
  });

  it('refuse malformed ones, saying what is wrong and where the value came from', () => {
    const bad = (value: string): string => errorOf(() => parseTemporalAddress(value, 'TEMPORAL_ADDRESS'));
    expect(bad('::1:7233')).toBe('TEMPORAL_ADDRESS "::1:7233": an IPv6 address goes in brackets, e.g. [::1]:7233');
    expect(bad('http://temporal:7233')).toMatch(/without a scheme/);
    expect(bad('temporal:99999')).toMatch(/ports are 1\.\.65535/);
    expect(bad('temporal:http')).toMatch(/the port must be a number/);
    expect(bad('[temporal]:7233')).toMatch(/only an IPv6 address goes in brackets/);
    expect(bad('bad host:7233')).toMatch(/expected host:port/);
  });
});

describe('connection settings from flags, environment and envconfig profiles', () => {
  let configFile: string;
  beforeAll(() => {
    configFile = join(dir, 'temporal.toml');
    const worker = pki.client('worker');
    writeFileSync(
      configFile,
      [
        '[profile.default]',
        'address = "127.0.0.1:7999"',
        '',
        '[profile.prod]',
        'address = "temporal.prod.example:7233"',
        'namespace = "hostprov-prod"',
        'api_key = "prod-api-key"',
        '[profile.prod.tls]',
        `client_cert_path = "${worker.certFile}"`,
        `client_key_path = "${worker.keyFile}"`,
        `server_ca_cert_path = "${pki.caFile}"`,
        'server_name = "temporal.hostprov.test"',
        '[profile.prod.grpc_meta]',
        'x-hostprov-test = "yes"',
        '',
      ].join('\n'),
    );
  });

  it('reads a profile of the TOML file, TLS material, API key and gRPC headers included', () => {
    const config = resolveTemporalConfig({ configFile, profile: 'prod' }, { env: cleanEnv(dir) });
    expect(config).toMatchObject({
      address: 'temporal.prod.example:7233',
      namespace: 'hostprov-prod',
      apiKey: 'prod-api-key',
      metadata: { 'x-hostprov-test': 'yes' },
    });
    expect(config.tls?.serverNameOverride).toBe('temporal.hostprov.test');
    expect(config.tls?.clientCertPair?.crt).toEqual(readFileSync(pki.client('worker').certFile));
    expect(config.tls?.serverRootCACertificate).toEqual(readFileSync(pki.caFile));
    expect(config.origin).toMatchObject({ address: `address of profile "prod" in ${configFile}` });
  });

  it('lets environment variables override the profile, and flags override both', () => {
    const env = cleanEnv(dir, {
      TEMPORAL_CONFIG_FILE: configFile,
      TEMPORAL_PROFILE: 'prod',
      TEMPORAL_NAMESPACE: 'from-env',
      TEMPORAL_ADDRESS: '[fd00::7]:7233',
    });
    const fromEnv = resolveTemporalConfig({}, { env });
    expect(fromEnv).toMatchObject({ address: '[fd00::7]:7233', namespace: 'from-env', apiKey: 'prod-api-key' });
    expect(fromEnv.origin).toMatchObject({ address: 'TEMPORAL_ADDRESS', namespace: 'TEMPORAL_NAMESPACE' });
    const fromFlags = resolveTemporalConfig({ address: 'flag-host:7000', namespace: 'from-flag', tls: false }, { env });
    expect(fromFlags).toMatchObject({ address: 'flag-host:7000', namespace: 'from-flag', tls: null });
    // The default profile when none is named; plaintext and the default namespace when nothing says otherwise.
    expect(resolveTemporalConfig({}, { env: cleanEnv(dir, { TEMPORAL_CONFIG_FILE: configFile }) })).toMatchObject({
      address: '127.0.0.1:7999',
      namespace: 'default',
      tls: null,
    });
    expect(resolveTemporalConfig({}, { env: cleanEnv(dir) })).toMatchObject({ address: '127.0.0.1:7233', namespace: 'default', tls: null });
    // An API key alone turns TLS on (with the system roots), as in the SDK and the temporal CLI.
    expect(resolveTemporalConfig({}, { env: cleanEnv(dir, { TEMPORAL_API_KEY: 'k3y' }) }).tls).toEqual({});
  });

  it('refuses bad values before connecting, naming the flag, variable or profile key', () => {
    const env = cleanEnv(dir);
    const worker = pki.client('worker');
    expect(errorOf(() => resolveTemporalConfig({ tlsCert: join(dir, 'missing.pem'), tlsKey: worker.keyFile }, { env }))).toBe(
      `--tls-cert ${join(dir, 'missing.pem')}: file does not exist`,
    );
    expect(errorOf(() => resolveTemporalConfig({ tlsCert: worker.certFile }, { env }))).toMatch(
      /^--tls-cert needs the client certificate's private key too \(--tls-key/,
    );
    expect(errorOf(() => resolveTemporalConfig({ tlsKey: worker.keyFile }, { env }))).toMatch(
      /^--tls-key needs the client certificate too/,
    );
    expect(errorOf(() => resolveTemporalConfig({ tlsCert: worker.certFile, tlsKey: foreign.client('intruder').keyFile }, { env }))).toMatch(
      /the key does not belong to the certificate/,
    );
    expect(errorOf(() => resolveTemporalConfig({ tlsCert: configFile, tlsKey: worker.keyFile }, { env }))).toBe(
      '--tls-cert: not a PEM certificate',
    );
    expect(errorOf(() => resolveTemporalConfig({ tlsCa: worker.keyFile }, { env }))).toMatch(/^--tls-ca .*: not a PEM certificate/);
    expect(errorOf(() => resolveTemporalConfig({ tls: false, tlsCa: pki.caFile }, { env }))).toMatch(/--no-tls turns TLS off/);
    expect(errorOf(() => resolveTemporalConfig({ apiKey: 'has space' }, { env }))).toMatch(
      /^--api-key: an API key is printable ASCII without spaces/,
    );
    expect(errorOf(() => resolveTemporalConfig({ namespace: 'bad ns' }, { env }))).toMatch(/^--namespace "bad ns"/);
    expect(errorOf(() => resolveTemporalConfig({ tlsServerName: 'not a name' }, { env }))).toMatch(/^--tls-server-name "not a name"/);
    expect(errorOf(() => resolveTemporalConfig({ configFile, profile: 'nope' }, { env }))).toBe(
      `--profile nope: no such profile in ${configFile} (profiles: default, prod)`,
    );
    expect(
      errorOf(() => resolveTemporalConfig({}, { env: cleanEnv(dir, { TEMPORAL_CONFIG_FILE: configFile, TEMPORAL_PROFILE: 'nope' }) })),
    ).toMatch(/^TEMPORAL_PROFILE nope: no such profile/);
    expect(errorOf(() => resolveTemporalConfig({ configFile: join(dir, 'none.toml') }, { env }))).toBe(
      `--config-file ${join(dir, 'none.toml')}: file does not exist`,
    );
    // hostprov's own settings file handed to Temporal's option: the error says which option takes it.
    const hostprovSettings = join(dir, 'worker.json');
    writeFileSync(hostprovSettings, '{"taskQueue": "host-provisioning"}\n');
    expect(errorOf(() => resolveTemporalConfig({ configFile: hostprovSettings }, { env }))).toMatch(
      /^\/.*worker\.json: .*TOML.*\nThe file is JSON: --config-file and TEMPORAL_CONFIG_FILE take Temporal's client configuration, in TOML; hostprov's own settings file goes to --config\.$/s,
    );
    const brokenToml = join(dir, 'broken.toml');
    writeFileSync(brokenToml, 'address = \n');
    expect(errorOf(() => resolveTemporalConfig({ configFile: brokenToml }, { env }))).not.toMatch(/The file is JSON/);
    expect(errorOf(() => resolveTemporalConfig({}, { env: cleanEnv(dir, { TEMPORAL_ADDRESS: '::1:7233' }) }))).toMatch(
      /^TEMPORAL_ADDRESS "::1:7233": an IPv6 address goes in brackets/,
    );
    const broken = join(dir, 'broken.toml');
    writeFileSync(broken, '[profile.default\naddress = 1\n');
    expect(errorOf(() => resolveTemporalConfig({ configFile: broken }, { env }))).toMatch(new RegExp(`^${broken}: `));
    const badProfile = join(dir, 'bad-profile.toml');
    writeFileSync(
      badProfile,
      '[profile.default]\naddress = "::1:7233"\n[profile.default.tls]\nclient_cert_path = "/nonexistent/cert.pem"\nclient_key_path = "/nonexistent/key.pem"\n',
    );
    expect(errorOf(() => resolveTemporalConfig({ configFile: badProfile }, { env }))).toBe(
      `address of profile "default" in ${badProfile} "::1:7233": an IPv6 address goes in brackets, e.g. [::1]:7233`,
    );
    expect(errorOf(() => resolveTemporalConfig({ configFile: badProfile, address: '127.0.0.1:7233' }, { env }))).toBe(
      `tls.client_cert_path / tls.client_cert_data of profile "default" in ${badProfile} /nonexistent/cert.pem: file does not exist`,
    );
  });

  it('the CLI answers a bad value with exit code 2 and a message naming the flag, and starts nothing', async () => {
    const env = cleanEnv(dir, { HOSTPROV_LOG_LEVEL: 'warn' });
    const address = await run([BIN, 'status', '--address', '::1:7233'], { env, allowFailure: true });
    expect(address.code).toBe(2);
    expect(address.stderr).toContain('hostprov: --address "::1:7233": an IPv6 address goes in brackets, e.g. [::1]:7233');
    const worker = await run(
      [BIN, 'worker', '--tls-cert', pki.client('worker').certFile, '--data-dir', join(dir, 'never'), '--secrets-dir', dir],
      { env, allowFailure: true },
    );
    expect(worker.code).toBe(2);
    expect(worker.stderr).toContain("hostprov: --tls-cert needs the client certificate's private key too (--tls-key");
    const profile = await run([BIN, 'install-host', '--input', '-', '--config-file', configFile, '--profile', 'staging'], {
      env,
      allowFailure: true,
      input: '{}',
    });
    expect(profile.code).toBe(2);
    expect(profile.stderr).toContain(`hostprov: --profile staging: no such profile in ${configFile} (profiles: default, prod)`);
    // An input the contract refuses (zod/mini's core error, model/install-host/contract.ts): each field named,
    // in English, exit 2, before any connection.
    const refused = await run([BIN, 'install-host', '--input', '-', '--address', '127.0.0.1:1', '--no-payload-encryption'], {
      env,
      allowFailure: true,
      input: JSON.stringify({
        version: 1,
        host: { id: 'h', name: 'h', address: 'a', clusterId: 'c' },
        agent: { tls: { insecure: true } },
        managerAddress: 'm',
        clusterLevel: 'four',
        policy: { connectivityTimeoutSeconds: 0 },
      }),
    });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(
      'hostprov: clusterLevel: Invalid string: must match pattern /^\\d+\\.\\d+$/; policy.connectivityTimeoutSeconds: Too small: expected number to be >=1',
    );
  });
});

/** A TLS-terminating proxy that demands a client certificate from `ca`, in front of a plaintext gRPC port. */
async function startTlsTerminator(upstream: { host: string; port: number }, server: { certFile: string; keyFile: string; caFile: string }) {
  const peers: string[] = [];
  const sockets = new Set<Socket>();
  const proxy = createTlsServer(
    {
      cert: readFileSync(server.certFile),
      key: readFileSync(server.keyFile),
      ca: readFileSync(server.caFile),
      requestCert: true,
      rejectUnauthorized: true,
      ALPNProtocols: ['h2'],
    },
    (socket: TLSSocket) => {
      peers.push(String(socket.getPeerCertificate().subject?.CN));
      const plain = netConnect(upstream.port, upstream.host);
      for (const s of [socket, plain]) {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
        s.on('error', () => undefined);
      }
      socket.pipe(plain).pipe(socket);
    },
  );
  proxy.on('tlsClientError', () => undefined);
  const [port] = (await freePorts(1)) as [number];
  await new Promise<void>((r) => proxy.listen(port, '127.0.0.1', () => r()));
  return {
    address: `127.0.0.1:${port}`,
    peers,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        proxy.close(() => r());
      }),
  };
}

const reason = unavailableReason();
describe.skipIf(skipBecause(reason, 'Temporal connections over TLS and IPv6'))('real connections', () => {
  let proxy: Awaited<ReturnType<typeof startTlsTerminator>>;
  beforeAll(async () => {
    installTemporalRuntime();
    const target = temporalTarget();
    if ('unavailable' in target) throw new Error(target.unavailable);
    const [host, port] = target.address.split(':') as [string, string];
    proxy = await startTlsTerminator({ host, port: Number(port) }, pki.server('temporal'));
  });
  afterAll(async () => {
    await proxy?.close();
  });

  const tlsFlags = () => ({
    address: proxy.address,
    tlsCert: pki.client('worker').certFile,
    tlsKey: pki.client('worker').keyFile,
    tlsCa: pki.caFile,
    tlsServerName: 'temporal.hostprov.test',
  });

  it('mutual TLS: the client, the worker connection and a whole worker reach the server through a proxy that checks the client certificate', async () => {
    const target = temporalTarget();
    if ('unavailable' in target) throw new Error(target.unavailable);
    const config = resolveTemporalConfig({ ...tlsFlags(), namespace: target.namespace }, { env: cleanEnv(dir) });

    const { client, close } = await connectClient(config, { payloadKeys: null });
    try {
      const { namespaceInfo } = await client.connection.workflowService.describeNamespace({ namespace: target.namespace });
      expect(namespaceInfo?.name).toBe(target.namespace);
    } finally {
      await close();
    }

    const native = await NativeConnection.connect(nativeConnectionOptions(config));
    try {
      const { namespaceInfo } = await native.workflowService.describeNamespace({ namespace: target.namespace });
      expect(namespaceInfo?.name).toBe(target.namespace);
    } finally {
      await native.close();
    }

    const worker = await startWorker({
      temporal: config,
      encryptPayloads: false,
      taskQueue: `tls-${process.pid}`,
      dataDir: mkdtempSync(join(dir, 'worker-')),
      workflowBundlePath: target.workflowBundlePath,
      secrets: { secretsDir: dir },
      maxCachedWorkflows: 7,
      log: getLogger('tls-test'),
    });
    expect(worker.worker.getState()).toBe('RUNNING');
    expect(worker.worker.options.maxCachedWorkflows).toBe(7);
    await worker.shutdown();
    // Every connection that got through presented our client certificate.
    expect(proxy.peers.length).toBeGreaterThanOrEqual(3);
    expect(new Set(proxy.peers)).toEqual(new Set(['worker']));
  });

  it('is refused without a client certificate, with one from another CA, or when the server name is not checked against the certificate', async () => {
    const env = cleanEnv(dir);
    const attempt = async (flags: Record<string, unknown>) => {
      const config = resolveTemporalConfig(flags, { env });
      return connectClient(config, { payloadKeys: null, connectTimeoutMs: 3_000 }).then(
        async (c) => {
          await c.close();
          return 'connected';
        },
        (err: unknown) => (err as Error).message,
      );
    };
    const { address, tlsCa, tlsServerName } = tlsFlags();
    expect(await attempt({ address, tlsCa, tlsServerName })).not.toBe('connected');
    const intruder = foreign.client('intruder');
    expect(await attempt({ address, tlsCa, tlsServerName, tlsCert: intruder.certFile, tlsKey: intruder.keyFile })).not.toBe('connected');
    // The certificate names temporal.hostprov.test, not 127.0.0.1: without --tls-server-name it must not verify.
    const { tlsCert, tlsKey } = tlsFlags();
    expect(await attempt({ address, tlsCa, tlsCert, tlsKey })).not.toBe('connected');
    expect(await attempt({ address, tlsCa, tlsCert, tlsKey, tlsServerName })).toBe('connected');
  });

  it('the CLI honours a TOML profile chosen by TEMPORAL_PROFILE: address, namespace and TLS from the file', async () => {
    const target = temporalTarget();
    if ('unavailable' in target) throw new Error(target.unavailable);
    const worker = pki.client('worker');
    const configFile = join(dir, 'cli.toml');
    writeFileSync(
      configFile,
      [
        '[profile.lab]',
        `address = "${proxy.address}"`,
        `namespace = "${target.namespace}"`,
        '[profile.lab.tls]',
        `client_cert_path = "${worker.certFile}"`,
        `client_key_path = "${worker.keyFile}"`,
        `server_ca_cert_path = "${pki.caFile}"`,
        'server_name = "temporal.hostprov.test"',
        '',
      ].join('\n'),
    );
    const before = proxy.peers.length;
    const env = cleanEnv(dir, { TEMPORAL_CONFIG_FILE: configFile, TEMPORAL_PROFILE: 'lab', HOSTPROV_LOG_LEVEL: 'warn' });
    const status = await run([BIN, 'status', '--limit', '1'], { env, allowFailure: true });
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/^HOST\s+PHASE\s+STATUS/);
    // It went through the TLS proxy, with the profile's client certificate.
    expect(proxy.peers.length).toBeGreaterThan(before);
  });

  describe('IPv6', () => {
    let server: RunningDevServer | undefined;
    beforeAll(async () => {
      const [port, httpPort, metricsPort] = (await freePorts(3, { host: '::1' })) as [number, number, number];
      server = await startDevServer({ dataDir: null, ip: '::1', port, httpPort, metricsPort, uiPort: null }, getLogger('ipv6-test'));
    });
    afterAll(async () => {
      await server?.stop();
    });

    it('an IPv6 literal address reaches a dev server listening on ::1, from the client, the worker connection and the CLI', async () => {
      expect(server!.address).toMatch(/^\[::1\]:\d+$/);
      const config = resolveTemporalConfig({ address: server!.address }, { env: cleanEnv(dir) });
      expect(config.address).toBe(server!.address);
      const { client, close } = await connectClient(config, { payloadKeys: null });
      try {
        expect((await client.connection.workflowService.describeNamespace({ namespace: 'default' })).namespaceInfo?.name).toBe('default');
      } finally {
        await close();
      }
      const native = await NativeConnection.connect(nativeConnectionOptions(config));
      try {
        expect((await native.workflowService.describeNamespace({ namespace: 'default' })).namespaceInfo?.name).toBe('default');
      } finally {
        await native.close();
      }
      const status = await run([BIN, 'status', '--address', server!.address], {
        env: cleanEnv(dir, { HOSTPROV_LOG_LEVEL: 'warn' }),
        allowFailure: true,
      });
      expect(status.code, status.stderr).toBe(0);
      expect(status.stdout).toContain('(no installs)');
    });
  });
});
