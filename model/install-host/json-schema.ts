/** The install-host contract as JSON Schema, for the Java engine and other non-TypeScript callers. */
import { z } from 'zod';
import { InstallHostInput, InstallHostResult } from './contract';

export function installHostJsonSchemas(): Record<string, unknown> {
  return {
    'install-host-input.v1.json': {
      $id: 'https://hostprov.dev/schemas/install-host-input.v1.json',
      title: 'installHost input v1',
      ...z.toJSONSchema(InstallHostInput, { io: 'input' }),
    },
    'install-host-result.v1.json': {
      $id: 'https://hostprov.dev/schemas/install-host-result.v1.json',
      title: 'installHost result v1',
      ...z.toJSONSchema(InstallHostResult),
    },
  };
}
