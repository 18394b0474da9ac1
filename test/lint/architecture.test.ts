/**
 * The lint guards the architecture (eslint.config.mjs): no import cycles, and no import that points up the
 * layering. Proven with the real config through ESLint's Node API: probe files that break a rule on purpose
 * are written into the real folders, linted, and removed; the real tree passes.
 *
 * Type information is switched off here (the architecture rules do not need it, and it triples the time);
 * everything else is the project's own configuration.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ARCHITECTURE_RULES = new Set([
  'import-x/no-cycle',
  'hostprov/no-type-import-cycle',
  'import-x/no-restricted-paths',
  'no-restricted-imports',
]);

const eslint = new ESLint({
  cwd: ROOT,
  overrideConfig: { languageOptions: { parserOptions: { projectService: false } } },
  ruleFilter: ({ ruleId }) => ARCHITECTURE_RULES.has(ruleId),
});

let probeCount = 0;
const token = `${process.pid}-${Date.now().toString(36)}`;

/** Writes probe files (name → code, names relative to the repo, `%` replaced by a unique token), lints the first, removes them all. */
async function lintProbe(files: Record<string, string>): Promise<Array<{ ruleId: string | null; message: string }>> {
  const unique = `${token}-${(probeCount += 1)}`;
  const paths = Object.keys(files).map((name) => join(ROOT, name.replaceAll('%', unique)));
  try {
    Object.values(files).forEach((code, i) => writeFileSync(paths[i]!, code.replaceAll('%', unique)));
    const [result] = await eslint.lintFiles([paths[0]!]);
    return (result?.messages ?? []).map(({ ruleId, message }) => ({ ruleId, message }));
  } finally {
    for (const path of paths) rmSync(path, { force: true });
  }
}

describe('the architecture lint', () => {
  it('passes on the real tree', async () => {
    const results = await eslint.lintFiles(['.']);
    const problems = results.flatMap((r) => r.messages.map((m) => `${r.filePath}:${m.line} ${m.ruleId}: ${m.message}`));
    expect(problems).toEqual([]);
    // It really looked: every layer's files were linted.
    for (const folder of [
      'model',
      'lib',
      'vdsm',
      'store',
      'agent',
      'activities',
      'workflows',
      'workflow-client',
      'worker',
      'testbed',
      'bench',
      'cli',
    ]) {
      expect(
        results.some((r) => r.filePath.startsWith(join(ROOT, folder, '/'))),
        folder,
      ).toBe(true);
    }
  }, 180_000);

  it('fails on an import cycle added on purpose', async () => {
    const messages = await lintProbe({
      'agent/backend/arch-probe-a-%.ts': "import { b } from './arch-probe-b-%';\nexport const a = (): unknown => b;\n",
      'agent/backend/arch-probe-b-%.ts': "import { a } from './arch-probe-a-%';\nexport const b = (): unknown => a;\n",
    });
    expect(messages.map((m) => m.ruleId)).toEqual(['import-x/no-cycle']);
  });

  it('fails on a cycle that a type import closes (an interface file re-exporting its implementation)', async () => {
    const messages = await lintProbe({
      'agent/backend/arch-probe-impl-%.ts':
        "import type { Probe } from './arch-probe-iface-%';\nexport const impl: Probe = { ok: true };\n",
      'agent/backend/arch-probe-iface-%.ts': "export interface Probe { ok: boolean }\nexport { impl } from './arch-probe-impl-%';\n",
    });
    expect(messages.map((m) => m.ruleId)).toEqual(['hostprov/no-type-import-cycle']);
  });

  // One upward (or sideways) import per boundary the layering draws: [folder of the probe, what it imports].
  const forbidden: Array<[string, string]> = [
    ['lib', '../workflows/messages'],
    ['model/vdsm', '../../vdsm/client/errors'],
    ['model', '../lib/logger'],
    ['vdsm', '../agent/network/journal'],
    ['vdsm', '../store/store'],
    ['store', '../vdsm/client/errors'],
    ['activities', '../agent/network/journal'],
    ['agent', '../activities/failure-mapping'],
    ['agent', '../store/store'],
    ['worker', '../agent/agent-service'],
    ['workflows', '../activities/index'],
    ['workflow-client', '../workflows/install-progress'],
    ['testbed', '../worker/main'],
    ['bench', '../cli/flags'],
    ['cli/commands', '../../agent/agent-service'],
    ['lib', '../test/helpers/skip'],
  ];
  it.each(forbidden)('fails on %s/ importing %s', async (folder, target) => {
    const messages = await lintProbe({
      [`${folder}/arch-probe-%.ts`]: `import * as upward from '${target}';\nexport const probe = upward;\n`,
    });
    // In model/ and workflows/ the determinism sandbox may object too; the layer rule must.
    expect(messages.map((m) => m.ruleId)).toContain('import-x/no-restricted-paths');
  });

  it('keeps workflows and the workflow client to type-only imports of what they may only name', async () => {
    const valueFromActivities = await lintProbe({
      'workflows/arch-probe-%.ts': "import * as activityTypes from '../activities/types';\nexport const probe = activityTypes;\n",
    });
    expect(valueFromActivities.map((m) => m.ruleId)).toEqual(['no-restricted-imports']);
    const valueFromWorkflow = await lintProbe({
      'workflow-client/arch-probe-%.ts': "import { installHost } from '../workflows/install-host';\nexport const probe = installHost;\n",
    });
    expect(valueFromWorkflow.map((m) => m.ruleId)).toEqual(['no-restricted-imports']);
  });

  it('lets through what the layering allows (so the failures above are the rules, not the probes)', async () => {
    expect(
      await lintProbe({
        'workflows/arch-probe-%.ts':
          "import type { InstallHostActivities } from '../activities/types';\nexport type Probe = InstallHostActivities;\n",
      }),
    ).toEqual([]);
    expect(
      await lintProbe({
        'activities/arch-probe-%.ts': "import { AgentRpcError } from '../vdsm/client/errors';\nexport const probe = AgentRpcError;\n",
      }),
    ).toEqual([]);
    expect(
      await lintProbe({
        'testbed/arch-probe-%.ts': "import { readJournal } from '../agent/network/journal';\nexport const probe = readJournal;\n",
      }),
    ).toEqual([]);
    expect(
      await lintProbe({ 'model/vdsm/arch-probe-%.ts': "import { VdsmCode } from './error-codes';\nexport const probe = VdsmCode;\n" }),
    ).toEqual([]);
  });
});
