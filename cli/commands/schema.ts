/** `hostprov schema [--out DIR]`: writes (or prints) the JSON Schemas of the workflow contracts (install-host, hostSetupNetworks). */
import { writeFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { hostSetupNetworksJsonSchemas } from '../../model/host-setup-networks/json-schema';
import { installHostJsonSchemas } from '../../model/install-host/json-schema';

export function register(program: Command): void {
  program
    .command('schema')
    .description('Write the JSON Schemas of the workflow contracts (install-host, hostSetupNetworks and the host network change Update)')
    .option('--out <dir>', 'directory to write into (prints to stdout without it)')
    .action((flags: { out?: string }) => {
      const schemas = { ...installHostJsonSchemas(), ...hostSetupNetworksJsonSchemas() };
      if (!flags.out) {
        process.stdout.write(`${JSON.stringify(schemas, null, 2)}\n`);
        return;
      }
      const dir = resolve(flags.out);
      mkdirSync(dir, { recursive: true });
      for (const [name, schema] of Object.entries(schemas)) writeFileSync(join(dir, name), `${JSON.stringify(schema, null, 2)}\n`);
      process.stdout.write(`wrote ${Object.keys(schemas).join(', ')} to ${dir}\n`);
    });
}
