/**
 * Encrypted workflow history, end to end: install-host runs on namespaced hosts (agents over mutual TLS,
 * fence-reboot through a proxy host's BMC) with the payload codec on in the worker and the client; then the
 * history is read raw from the server — the gRPC history without any codec, and `temporal workflow show`
 * — and holds no host address, BMC user name or network request in plain text, in payloads, user metadata
 * (summaries), heartbeat details or failure messages. The codec server (`hostprov codec-server`) decodes
 * the very same payloads back, for the Temporal CLI as for the Web UI. After a key rotation the history
 * written with the old key still decodes.
 *
 * Search attributes are not payloads and are not encrypted: the HostName attribute stays readable (on
 * purpose, SECURITY.md "What is encrypted where"), and this test pins that down too.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@temporalio/client';
import type * as Proto from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePorts } from '../../lib/ports';
import { run } from '../../lib/process';
import { temporalCliPath } from '../../lib/paths';
import { hostprovDataConverter } from '../../lib/temporal/data-converter';
import { createPayloadKey, loadPayloadKeys, payloadKeysDir } from '../../lib/temporal/payload-keys';
import { createAgentLab, type AgentLab } from '../../testbed/agent-lab';
import { testbedUnavailableReason } from '../../testbed/requirements';
import { CliRun } from '../helpers/cli-run';
import { createInstallHarness, type InstallHarness } from '../helpers/install-harness';
import { skipBecause } from '../helpers/skip';
import { unavailableReason } from '../helpers/temporal';

const { temporal } = createRequire(import.meta.url)('@temporalio/proto') as typeof Proto;
type History = Proto.temporal.api.history.v1.IHistory;
type RawPayload = { metadata?: Record<string, Uint8Array> | null; data?: Uint8Array | null };

const reason = unavailableReason() ?? (await testbedUnavailableReason());
const TOKEN = 'encrypted-history-test-token-5f1e';
const text = (bytes: Uint8Array | null | undefined): string => Buffer.from(bytes ?? new Uint8Array()).toString('utf8');

/** The raw history as the server keeps it: every page, through a connection with no codec at all. */
async function rawHistory(client: Client, namespace: string, workflowId: string, runId: string): Promise<History> {
  const events: Proto.temporal.api.history.v1.IHistoryEvent[] = [];
  let nextPageToken: Uint8Array | undefined;
  do {
    const page = await client.workflowService.getWorkflowExecutionHistory({
      namespace,
      execution: { workflowId, runId },
      ...(nextPageToken ? { nextPageToken } : {}),
    });
    events.push(...(page.history?.events ?? []));
    nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
  } while (nextPageToken);
  return { events };
}

/** Every payload in a decoded proto object, with the path it sits at; search attributes apart. */
function payloadsOf(
  value: unknown,
  path = '',
  found: { path: string; payload: RawPayload }[] = [],
): { path: string; payload: RawPayload }[] {
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return found;
  const record = value as Record<string, unknown>;
  if (
    record.metadata &&
    typeof record.metadata === 'object' &&
    (record.metadata as Record<string, unknown>).encoding instanceof Uint8Array
  ) {
    found.push({ path, payload: record as RawPayload });
    return found;
  }
  for (const [key, child] of Object.entries(record)) payloadsOf(child, `${path}.${key}`, found);
  return found;
}

/**
 * The SDK's own bookkeeping in markers, which it writes without the data converter: a patch marker's id,
 * and a local activity's sequence number, attempt, id, type and times. Its result and failure are ours and
 * go through the codec like any other.
 */
const SDK_MARKER_DATA = /markerRecordedEventAttributes\.details\.(patch-data|data)\.payloads\.\d+$/;
const LOCAL_ACTIVITY_BOOKKEEPING = new Set([
  'seq',
  'attempt',
  'activity_id',
  'activity_type',
  'complete_time',
  'backoff',
  'original_schedule_time',
]);

const PATCH_BOOKKEEPING = new Set(['id', 'deprecated']);

/** What an SDK marker payload says: a patch's id, or only a local activity's bookkeeping. */
function isSdkBookkeeping(payload: RawPayload): boolean {
  const value: unknown = JSON.parse(Buffer.from(payload.data ?? new Uint8Array()).toString('utf8'));
  if (value === null || typeof value !== 'object') return false;
  const keys = Object.keys(value);
  return keys.every((k) => PATCH_BOOKKEEPING.has(k)) || keys.every((k) => LOCAL_ACTIVITY_BOOKKEEPING.has(k));
}

/** Every string of a JSON document, and what each decodes to when it is base64 (payload bytes). */
function jsonTexts(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') {
    out.push(value);
    if (/^[A-Za-z0-9+/]+={0,2}$/.test(value) && value.length % 4 === 0) out.push(Buffer.from(value, 'base64').toString('latin1'));
  } else if (Array.isArray(value)) for (const v of value) jsonTexts(v, out);
  else if (value && typeof value === 'object') for (const v of Object.values(value)) jsonTexts(v, out);
  return out;
}

describe.skipIf(skipBecause(reason, 'encrypted history (needs Temporal and namespaced hosts)'))('encrypted workflow history', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hostprov-encrypted-'));
  let harness: InstallHarness;
  let lab: AgentLab;
  let codecServer: CliRun;
  let codecUrl: string;
  let configured: { workflowId: string; runId: string };

  beforeAll(async () => {
    createPayloadKey(dir, { id: 'key-a' });
    harness = await createInstallHarness({ secretsDir: dir, payloadKeys: loadPayloadKeys(dir) });
    lab = await createAgentLab({ stateDir: dir, hosts: [{ name: 'enc1' }, { name: 'enc2' }] });
    await lab.waitForAgents();
    const [port] = (await freePorts(1)) as [number];
    writeFileSync(join(dir, 'codec-token'), `${TOKEN}\n`, { mode: 0o600 });
    codecServer = new CliRun([
      'codec-server',
      '--secrets-dir',
      dir,
      '--port',
      String(port),
      '--token-file',
      join(dir, 'codec-token'),
      '--ui-origin',
      'http://127.0.0.1:8233',
    ]);
    await codecServer.waitFor('codec server: ');
    codecUrl = `http://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    if (codecServer) {
      codecServer.term();
      await codecServer.closed;
    }
    await lab?.destroy();
    await harness?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const decodeThroughCodecServer = async (payloads: RawPayload[]): Promise<string[]> => {
    const body = {
      payloads: payloads.map((p) => ({
        metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
        data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
      })),
    };
    const response = await fetch(`${codecUrl}/decode`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Namespace': harness.target.namespace, Authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify(body),
    });
    expect(response.status).toBe(200);
    const decoded = (await response.json()) as { payloads: Array<{ data: string }> };
    return decoded.payloads.map((p) => Buffer.from(p.data, 'base64').toString('utf8'));
  };

  it('an install leaves no host address, BMC user name or network request in the raw history, and the codec server decodes them back', async () => {
    const request = lab.installRequest('enc1');
    const { result, handle } = await harness.install(request);
    expect(result.outcome, JSON.stringify(result, null, 2)).toBe('configured');
    const runId = (await handle.describe()).runId;
    configured = { workflowId: handle.workflowId, runId };
    const pm = request.powerManagement!;
    // What must not be readable: where the host is, how its BMC is reached and as whom, what is configured.
    const secrets = {
      'host address': request.host.address,
      'manager address': request.managerAddress,
      'BMC address': pm.address,
      'BMC user name': pm.username,
      'BMC password reference': pm.passwordRef,
      'fence proxy address': pm.proxy.agent.host!,
      'network name': 'ovirtmgmt',
    };
    expect(new Set(Object.values(secrets)).size).toBe(Object.keys(secrets).length);

    const history = await rawHistory(harness.env.client, harness.target.namespace, handle.workflowId, runId);
    const bytes = Buffer.from(temporal.api.history.v1.History.encode(history).finish());
    for (const [what, value] of Object.entries(secrets)) expect(bytes.includes(value), `${what} (${value}) in the raw history`).toBe(false);

    // Every payload outside the search attributes and the SDK's marker bookkeeping is encrypted, under
    // key-a: inputs, results (local activities' too), heartbeat details, the start's summary and details,
    // the activity summaries, failure attributes.
    const all = payloadsOf(history);
    const searchAttributes = all.filter((p) => /searchAttributes/.test(p.path));
    const bookkeeping = all.filter((p) => SDK_MARKER_DATA.test(p.path));
    for (const { path, payload } of bookkeeping) expect(isSdkBookkeeping(payload), path).toBe(true);
    expect(all.some((p) => /markerRecordedEventAttributes\.details\.result\./.test(p.path))).toBe(true);
    const payloads = all.filter((p) => !/searchAttributes/.test(p.path) && !SDK_MARKER_DATA.test(p.path));
    // An install with a reboot carries some twenty: the probe and the route share one local activity since v9.
    expect(payloads.length).toBeGreaterThan(15);
    for (const { path, payload } of payloads) {
      expect(text(payload.metadata?.encoding), path).toBe('binary/encrypted');
      expect(text(payload.metadata?.['encryption-key-id']), path).toBe('key-a');
    }
    expect(
      payloads.some(
        (p) => /workflowExecutionStartedEventAttributes.*userMetadata/.test(p.path) || /^\.events\.0\.userMetadata\.summary/.test(p.path),
      ),
    ).toBe(true);
    expect(payloads.filter((p) => /userMetadata\.summary$/.test(p.path)).length).toBeGreaterThan(5);
    // The one readable trace of the host: its name, as the HostName search attribute (not a payload the codec sees).
    expect(searchAttributes.map((p) => text(p.payload.data))).toContain(JSON.stringify(request.host.name));

    // The codec endpoint decodes the same payloads back to the plain values.
    const decoded = (await decodeThroughCodecServer(payloads.map((p) => p.payload))).join('\n');
    for (const [what, value] of Object.entries(secrets)) expect(decoded.includes(value), `${what} decoded by the codec server`).toBe(true);
  });

  it('the temporal CLI shows ciphertext without the codec server, and the plain values through it', async () => {
    const show = (extra: string[]) =>
      run([
        temporalCliPath(),
        'workflow',
        'show',
        '--address',
        harness.target.address,
        '--namespace',
        harness.target.namespace,
        '--workflow-id',
        configured.workflowId,
        '--run-id',
        configured.runId,
        '--output',
        'json',
        ...extra,
      ]);
    const request = lab.installRequest('enc1');
    const plainTexts = jsonTexts(JSON.parse((await show([])).stdout)).join('\n');
    for (const value of [request.host.address, request.powerManagement!.username, 'ovirtmgmt'])
      expect(plainTexts.includes(value), value).toBe(false);
    // `--codec-endpoint` speaks the same protocol as the Web UI's remote codec setting.
    const decodedTexts = jsonTexts(JSON.parse((await show(['--codec-endpoint', codecUrl, '--codec-auth', `Bearer ${TOKEN}`])).stdout)).join(
      '\n',
    );
    for (const value of [request.host.address, request.powerManagement!.username, 'ovirtmgmt'])
      expect(decodedTexts.includes(value), value).toBe(true);
  });

  it('a failing install keeps its failure messages encrypted too', async () => {
    const [closedPort] = (await freePorts(1)) as [number];
    const address = '127.77.0.9';
    const request = lab.installRequest('enc1', {
      host: { id: `enc-failing-${closedPort}`, name: 'enc-failing', address, clusterId: 'lab' },
      agent: { port: closedPort, tls: { insecure: true } },
      powerManagement: undefined,
      policy: { connectivityTimeoutSeconds: 10, reboot: false, commitMode: 'auto', agentWaitSeconds: 2 },
    });
    const { result, handle } = await harness.install(request);
    expect(result.outcome).toBe('failed');
    expect(result.failure?.message).toContain(address);
    const history = await rawHistory(harness.env.client, harness.target.namespace, handle.workflowId, (await handle.describe()).runId);
    // An activity's failure is in its event; a local activity's, in its marker.
    const failures = (history.events ?? []).flatMap((e) => {
      const failure = e.activityTaskFailedEventAttributes?.failure ?? e.markerRecordedEventAttributes?.failure;
      return failure ? [failure] : [];
    });
    expect(failures.length).toBeGreaterThan(0);
    for (const failure of failures) {
      expect(failure.message).toBe('Encoded failure');
      expect(text(failure.encodedAttributes?.metadata?.encoding)).toBe('binary/encrypted');
    }
    expect(Buffer.from(temporal.api.history.v1.History.encode(history).finish()).includes(address)).toBe(false);
  });

  it('after a key rotation (key-b primary), history written with key-a still decodes; without key-a it names the key', async () => {
    createPayloadKey(dir, { id: 'key-b' });
    const rotated = loadPayloadKeys(dir);
    expect(rotated.primaryId).toBe('key-b');
    const client = new Client({
      connection: harness.env.connection,
      namespace: harness.target.namespace,
      dataConverter: hostprovDataConverter(rotated),
    });
    const handle = client.workflow.getHandle(configured.workflowId, configured.runId);
    expect(await handle.result()).toMatchObject({
      outcome: 'configured',
      setupNetworksRequest: { networks: { ovirtmgmt: expect.anything() } },
    });

    // A process that has only the new key cannot read the old history, and says which key it lacks.
    const onlyB = mkdtempSync(join(dir, 'only-b-'));
    createPayloadKey(onlyB, { id: 'key-b' });
    writeFileSync(join(payloadKeysDir(onlyB), 'key-b.key'), readFileSync(join(payloadKeysDir(dir), 'key-b.key')), { mode: 0o600 });
    const lacking = new Client({
      connection: harness.env.connection,
      namespace: harness.target.namespace,
      dataConverter: hostprovDataConverter(loadPayloadKeys(onlyB)),
    });
    await expect(lacking.workflow.getHandle(configured.workflowId, configured.runId).result()).rejects.toThrow(
      /payload encrypted with key "key-a"/,
    );
  });
});
