// Lint guards the architecture: workflows stay deterministic, model stays pure, promises are awaited, no
// import cycles, and every import follows the layering below (test/lint/architecture.test.ts proves it bites).
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import globals from 'globals';
import tseslint from 'typescript-eslint';
import { hostprovRules } from './eslint-local-rules.mjs';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

/** Imports a sandboxed workflow (or the pure model) must never make. */
const sandboxRestrictions = {
  paths: nodeBuiltins.map((name) => ({ name, message: 'Workflow and model code must not use Node built-ins (determinism).' })),
  patterns: [
    { group: ['node:*'], message: 'Workflow and model code must not use Node built-ins (determinism).' },
    {
      group: ['**/agent/**', '**/agent', '**/lib/**', '**/lib', '**/cli/**', '**/worker/**', '**/testbed/**'],
      message: 'Workflow and model code may import only model/ and the Temporal workflow API.',
    },
    {
      group: ['**/activities/**', '**/activities'],
      allowTypeImports: true,
      message: 'Import activities into workflows with `import type` only.',
    },
  ],
};

/**
 * The layering, bottom up: each top-level folder and the folders it may import (its own always). Anything
 * else is an import that points up or sideways, and an error. test/ may import anything; nothing imports it.
 */
const LAYERS = {
  model: [],
  lib: ['model'],
  vdsm: ['model', 'lib'],
  store: ['model', 'lib'],
  // The agent keeps its own state (agent/persistence); the manager's store is not its business.
  agent: ['model', 'lib', 'vdsm'],
  activities: ['model', 'lib', 'vdsm', 'store'],
  // Type-only imports of activities/types.ts (see sandboxRestrictions); the worker bundles workflows by path.
  workflows: ['model'],
  'workflow-client': ['model', 'lib'],
  worker: ['model', 'lib', 'vdsm', 'store', 'activities'],
  testbed: ['model', 'lib', 'vdsm', 'agent'],
  bench: ['model', 'lib', 'vdsm', 'store', 'agent', 'activities', 'workflow-client', 'worker', 'testbed'],
  cli: ['model', 'lib', 'vdsm', 'store', 'agent', 'activities', 'workflows', 'workflow-client', 'worker', 'testbed', 'bench'],
};
const FOLDERS = [...Object.keys(LAYERS), 'test'];

/** Single files a layer may import from a folder it otherwise may not (paths relative to that folder). */
const EXCEPTIONS = {
  workflows: { activities: ['./types.ts'] },
  // Queries, and the workflow's type for a typed handle (type-only, see below).
  'workflow-client': {
    workflows: [
      './messages.ts',
      './host-event-watch-messages.ts',
      './install-host.ts',
      './host-networks-messages.ts',
      './host-networks.ts',
      './host-setup-networks.ts',
    ],
  },
};

/** Only the `agent` command starts an agent; the rest of the CLI drives the orchestration side. */
const CLI_OUTSIDE_AGENT_COMMAND = './cli/**/!(agent).ts';

const layerZones = Object.entries(LAYERS).flatMap(([layer, allowed]) =>
  FOLDERS.filter((folder) => folder !== layer && !allowed.includes(folder)).map((folder) => ({
    target: `./${layer}`,
    from: `./${folder}`,
    ...(EXCEPTIONS[layer]?.[folder] ? { except: EXCEPTIONS[layer][folder] } : {}),
    message: `${layer}/ may import only ${allowed.length ? allowed.map((f) => `${f}/`).join(', ') : 'nothing of ours'} (layering in eslint.config.mjs).`,
  })),
);
const cliAgentZone = {
  target: CLI_OUTSIDE_AGENT_COMMAND,
  from: './agent',
  message: 'Only the `agent` command (cli/commands/agent.ts) may import agent/.',
};

export default tseslint.config(
  { ignores: ['node_modules/**', '.tools/**', '.data/**', '.scratch/**', 'dist/**', 'coverage/**', 'test/interop/java-client/target/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
      globals: { ...globals.node },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['**/*.ts'],
    plugins: { 'import-x': importX, hostprov: hostprovRules },
    settings: {
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.mjs', '.js', '.json'] })],
      // Without these, import-x reads only .js files when it follows imports, and finds no cycle in TypeScript.
      'import-x/extensions': ['.ts', '.mjs', '.js'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
    },
    rules: {
      // no-cycle follows value imports; a cycle that a type import closes is reported by our own rule.
      'import-x/no-cycle': 'error',
      'hostprov/no-type-import-cycle': 'error',
      'import-x/no-restricted-paths': ['error', { basePath: import.meta.dirname, zones: [...layerZones, cliAgentZone] }],
    },
  },
  {
    files: ['workflows/**/*.ts', 'model/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', sandboxRestrictions] },
  },
  {
    files: ['workflow-client/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/workflows/install-host', '**/workflows/host-networks', '**/workflows/host-setup-networks'],
              allowTypeImports: true,
              message: 'Workflow code stays out of clients: `import type` only.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.mjs', '**/*.js', '**/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    // CommonJS modules that Temporal loads with require() (lib/temporal/failure-converter.cjs).
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
