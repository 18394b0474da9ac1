// Lint guards the architecture: workflows stay deterministic, model stays pure, promises are awaited.
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

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
    files: ['workflows/**/*.ts', 'model/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', sandboxRestrictions] },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    ...tseslint.configs.disableTypeChecked,
  },
);
