/**
 * `--config FILE` for long-running commands (agent, worker): a JSON object whose keys are the command's
 * flags in camelCase (`stateDir` for `--state-dir`). Precedence, highest first: a flag on the command line,
 * its `HOSTPROV_*` environment variable (`HOSTPROV_STATE_DIR`), the file, the flag's documented default.
 *
 * The file is read and validated before the command starts anything: an unreadable file, bad JSON, an
 * unknown key or a bad value is a UsageError (exit 2) naming the file and the key. JSON because it needs
 * no new dependency and systemd units, Ansible and every language write it.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { z } from 'zod';
import { UsageError } from './usage-error';

/** `stateDir` → `HOSTPROV_STATE_DIR`. */
export function settingEnvName(key: string): string {
  return `HOSTPROV_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
}

/** A setting a config file may hold: a string, or a number for numeric flags (both reach the flag's own zod check). */
export const ConfigString = z.string().min(1, 'must not be empty');
export const ConfigNumber = z
  .union([z.number().int('must be a whole number').min(0, 'must be at least 0'), z.string().regex(/^\d+$/, 'must be a whole number')])
  .transform(String);

/** A line that opens a TOML table (`[profile.default]`), as Temporal's client configuration files begin. */
const TOML_TABLE_RE = /^\s*\[[A-Za-z0-9_.-]+\]\s*$/m;

/** A UsageError (exit 2, no stack trace) about the file given with --config. */
export class ConfigFileError extends UsageError {}

/** Reads and validates `file` against `schema` (a strict object: unknown keys are errors). */
export function readConfigFile(file: string, schema: z.ZodObject): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigFileError(`--config ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    const hint = TOML_TABLE_RE.test(text) ? "; it reads as TOML: Temporal's client configuration goes to --config-file" : '';
    throw new ConfigFileError(`--config ${file}: not JSON (${(err as Error).message})${hint}`);
  }
  const parsed = schema.strict().safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      if (issue.code === 'unrecognized_keys')
        return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')} (allowed: ${Object.keys(schema.shape).join(', ')})`;
      return issue.path.length ? `key "${issue.path.join('.')}": ${issue.message}` : issue.message;
    });
    throw new ConfigFileError(`--config ${file}: ${problems.join('; ')}`);
  }
  return parsed.data as Record<string, string>;
}

/**
 * Adds `--config FILE` to `command`, and a `HOSTPROV_*` variable to each flag the schema names. Before the
 * action runs, every setting of the file whose flag came neither from the command line nor from its
 * variable takes the flag's place.
 */
export function withConfigFile(command: Command, schema: z.ZodObject): Command {
  for (const key of Object.keys(schema.shape)) {
    const option = command.options.find((o) => o.attributeName() === key);
    if (!option) throw new Error(`config key ${key} is no flag of hostprov ${command.name()}`);
    option.env(settingEnvName(key));
    // Commander listens for an option's variable only when the option is added with it; these were added
    // before, so listen here (the value is a string, as on the command line).
    command.on(`optionEnv:${option.name()}`, (value: string) => command.setOptionValueWithSource(key, value, 'env'));
  }
  command.option(
    '--config <file>',
    'JSON file of settings, keys named like the flags in camelCase (stateDir); flags and HOSTPROV_* variables override it',
  );
  command.hook('preAction', (cmd) => {
    const file = cmd.getOptionValue('config') as string | undefined;
    if (!file) return;
    for (const [key, value] of Object.entries(readConfigFile(file, schema))) {
      const source = cmd.getOptionValueSource(key);
      if (source === undefined || source === 'default') cmd.setOptionValueWithSource(key, value, 'config');
    }
  });
  return command;
}
