/**
 * The flags every command that talks to Temporal shares: where and how to connect
 * (lib/temporal/connection.ts), and where the payload keys are (lib/temporal/payload-keys.ts). Values the
 * flags leave out come from Temporal's environment variables and config-file profile.
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { DEFAULT_SECRETS_DIR } from '../activities/secrets';
import { resolveTemporalConfig, TemporalConfigError, type TemporalConnectionConfig } from '../lib/temporal/connection';
import { loadPayloadKeys, PayloadKeysError, type PayloadKeyRing } from '../lib/temporal/payload-keys';
import { UsageError } from './usage-error';

export function withTemporalOptions(command: Command): Command {
  return command
    .option('--address <host:port>', 'Temporal frontend, [::1]:7233 for IPv6 (default: TEMPORAL_ADDRESS, the profile, or 127.0.0.1:7233)')
    .option('--namespace <ns>', 'Temporal namespace (default: TEMPORAL_NAMESPACE, the profile, or "default")')
    .option('--tls', 'connect with TLS (implied by the other --tls-* flags and by an API key)')
    .option('--no-tls', 'connect without TLS, whatever the profile or the environment say')
    .option('--tls-cert <file>', 'client certificate (PEM) for mutual TLS; needs --tls-key')
    .option('--tls-key <file>', 'private key (PEM) of --tls-cert')
    .option('--tls-ca <file>', "CA certificate (PEM) that signed the server's certificate (default: the system roots)")
    .option('--tls-server-name <name>', "name the server's certificate must carry, if not the host of --address")
    .option('--api-key <key>', 'API key; prefer TEMPORAL_API_KEY or a profile, since arguments are visible to other local users')
    .option('--profile <name>', 'profile of the Temporal config file (default: TEMPORAL_PROFILE, or "default")')
    .option('--config-file <file>', 'Temporal config file, TOML (default: TEMPORAL_CONFIG_FILE, or ~/.config/temporalio/temporal.toml)');
}

/** The connection from the flags, the environment and the profile; a bad value is a usage error (exit 2). */
export function temporalConfigFromFlags(raw: Record<string, unknown>): TemporalConnectionConfig {
  const { address, namespace, tls, tlsCert, tlsKey, tlsCa, tlsServerName, apiKey, profile, configFile } = raw;
  try {
    return resolveTemporalConfig({ address, namespace, tls, tlsCert, tlsKey, tlsCa, tlsServerName, apiKey, profile, configFile });
  } catch (err) {
    if (err instanceof TemporalConfigError) throw new UsageError(err.message);
    throw err;
  }
}

/** `--secrets-dir` (unless the command has it already) and `--no-payload-encryption`. */
export function withPayloadKeyOptions(command: Command, { secretsDir = true }: { secretsDir?: boolean } = {}): Command {
  if (secretsDir)
    command.option('--secrets-dir <dir>', 'the directory holding payload-keys/, the payload encryption keys', DEFAULT_SECRETS_DIR);
  return command.option('--no-payload-encryption', 'leave workflow payloads unencrypted (only where the workers do the same)');
}

const PayloadKeyFlags = z.object({ secretsDir: z.string().min(1, '--secrets-dir must not be empty'), payloadEncryption: z.boolean() });

/** The keys named by `--secrets-dir`, or null with `--no-payload-encryption`. */
export function payloadKeysFromFlags(raw: Record<string, unknown>): PayloadKeyRing | null {
  const flags = PayloadKeyFlags.parse({ secretsDir: raw.secretsDir, payloadEncryption: raw.payloadEncryption });
  if (!flags.payloadEncryption) return null;
  try {
    return loadPayloadKeys(resolve(flags.secretsDir));
  } catch (err) {
    if (err instanceof PayloadKeysError) throw new UsageError(`--secrets-dir ${flags.secretsDir}: ${err.message}`);
    throw err;
  }
}
