/**
 * Payload encryption from the command line:
 * - `hostprov codec new-key`: a new random key in `<secrets-dir>/payload-keys/`, made the primary (or not,
 *   with `--no-primary`, to hand it to every process before it is used);
 * - `hostprov codec set-primary <key-id>`: the second step of such a rotation;
 * - `hostprov codec-server`: the Web UI's and CLI's remote codec endpoint (lib/temporal/codec-server.ts).
 * Key files and rotation: SECURITY.md, "Payload keys".
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { DEFAULT_SECRETS_DIR } from '../../activities/secrets';
import { getLogger } from '../../lib/logger';
import { DEFAULT_UI_ORIGIN, Origin, startCodecServer } from '../../lib/temporal/codec-server';
import { createPayloadKey, KEY_ID_PATTERN, loadPayloadKeys, PayloadKeysError, setPrimaryPayloadKey } from '../../lib/temporal/payload-keys';
import { portOption } from '../flags';
import { installStopHandling } from '../signals';
import { UsageError } from '../usage-error';

/** Codec server's port by default: the dev Web UI's (8233) plus one. */
export const DEFAULT_CODEC_PORT = 8234;

const secretsDirOption = z.string().min(1, '--secrets-dir must not be empty');
const keyId = z.string().regex(KEY_ID_PATTERN, 'a key id is letters, digits, ".", "_" and "-" (at most 64)');

const NewKeyFlags = z.object({ secretsDir: secretsDirOption, id: keyId.optional(), primary: z.boolean() });
const SetPrimaryFlags = z.object({ secretsDir: secretsDirOption });
const ServerFlags = z.object({
  secretsDir: secretsDirOption,
  ip: z.string().min(1),
  port: portOption,
  uiOrigin: z.array(Origin).min(1),
  tokenFile: z.string().min(1).optional(),
});

function keysError<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof PayloadKeysError) throw new UsageError(err.message);
    throw err;
  }
}

/** A token of at least 16 characters from a file (an argument would be visible to other local users). */
function readToken(path: string): string {
  let token: string;
  try {
    token = readFileSync(path, 'utf8').trim();
  } catch (err) {
    throw new UsageError(
      `--token-file ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'file does not exist' : (err as Error).message}`,
    );
  }
  if (!/^[\x21-\x7e]{16,}$/.test(token))
    throw new UsageError(`--token-file ${path}: the token must be at least 16 printable characters without spaces`);
  return token;
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

export function register(program: Command): void {
  const codec = program.command('codec').description('Payload encryption keys (AES-256-GCM) for workflow history');

  codec
    .command('new-key')
    .description('Make a new random payload key (0600) in <secrets-dir>/payload-keys/ and make it the primary')
    .option('--secrets-dir <dir>', 'the secrets directory the worker reads', DEFAULT_SECRETS_DIR)
    .option('--id <key-id>', 'key id (default: the UTC time and a random suffix)')
    .option('--no-primary', 'only add the key; make it primary later with `hostprov codec set-primary`')
    .action((raw: Record<string, unknown>) => {
      const flags = NewKeyFlags.parse(raw);
      const secretsDir = resolve(flags.secretsDir);
      const { id, path } = keysError(() =>
        createPayloadKey(secretsDir, { ...(flags.id ? { id: flags.id } : {}), makePrimary: flags.primary }),
      );
      const ring = keysError(() => loadPayloadKeys(secretsDir));
      process.stdout.write(`${id}\t${path}\n`);
      process.stdout.write(`primary: ${ring.primaryId}; keys: ${[...ring.keys.keys()].join(', ')}\n`);
    });

  codec
    .command('set-primary')
    .argument('<key-id>', 'the key new payloads are encrypted with from now on (restart the processes to apply it)')
    .description('Make an existing payload key the primary one')
    .option('--secrets-dir <dir>', 'the secrets directory the worker reads', DEFAULT_SECRETS_DIR)
    .action((id: string, raw: Record<string, unknown>) => {
      const flags = SetPrimaryFlags.parse(raw);
      const ring = keysError(() => setPrimaryPayloadKey(resolve(flags.secretsDir), keyId.parse(id)));
      process.stdout.write(`primary: ${ring.primaryId}; keys: ${[...ring.keys.keys()].join(', ')}\n`);
    });

  program
    .command('codec-server')
    .description("Serve the Web UI's remote codec endpoint (POST /encode, /decode) with the payload keys")
    .option('--secrets-dir <dir>', 'the directory holding payload-keys/', DEFAULT_SECRETS_DIR)
    .option('--ip <address>', 'address to listen on (the browser showing the Web UI must reach it)', '127.0.0.1')
    .option('--port <port>', 'port to listen on', String(DEFAULT_CODEC_PORT))
    .option('--ui-origin <origin>', `origin of the Web UI that may call it; repeat for several (default: ${DEFAULT_UI_ORIGIN})`, collect)
    .option('--token-file <file>', "require Authorization: Bearer <the token in this file> (for the temporal CLI's --codec-auth)")
    .action(async (raw: Record<string, unknown>) => {
      const flags = ServerFlags.parse({ ...raw, uiOrigin: raw.uiOrigin ?? [DEFAULT_UI_ORIGIN] });
      const keys = keysError(() => loadPayloadKeys(resolve(flags.secretsDir)));
      const token = flags.tokenFile ? readToken(flags.tokenFile) : null;
      const { resources, requested } = installStopHandling('codec-server');
      try {
        const server = await startCodecServer({
          keys,
          host: flags.ip,
          port: flags.port,
          allowedOrigins: flags.uiOrigin,
          token,
          log: getLogger('codec-server'),
        });
        resources.push('codec server', () => server.close());
        process.stdout.write(
          `codec server: ${server.url} (Web UI: --ui-codec-endpoint ${server.url}; temporal CLI: --codec-endpoint ${server.url})\n`,
        );
        await requested;
      } finally {
        await resources.unwind();
      }
    });
}
