// Lint rules of our own, used by eslint.config.mjs.
import { readFileSync, statSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import ts from 'typescript';

/** Relative imports of one file (value and type, `export … from` and `import()` too), by mtime. */
const importsCache = new Map();

function projectFile(candidate) {
  for (const file of [`${candidate}.ts`, candidate, `${candidate}/index.ts`]) {
    try {
      if (file.endsWith('.ts') && statSync(file).isFile()) return file;
    } catch {
      // not this one
    }
  }
  return null;
}

function importsOf(file) {
  let mtime;
  try {
    mtime = statSync(file).mtimeMs;
  } catch {
    return [];
  }
  const cached = importsCache.get(file);
  if (cached?.mtime === mtime) return cached.imports;
  const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  const imports = importedFiles
    .filter(({ fileName }) => fileName.startsWith('.'))
    .map(({ fileName }) => projectFile(resolve(dirname(file), fileName)))
    .filter((target) => target !== null);
  importsCache.set(file, { mtime, imports });
  return imports;
}

/** The route from `start` back to `goal` over every import, or null. */
function routeBack(start, goal) {
  const seen = new Set([start]);
  const queue = [[start]];
  while (queue.length > 0) {
    const route = queue.shift();
    for (const next of importsOf(route.at(-1))) {
      if (next === goal) return route;
      if (!seen.has(next)) {
        seen.add(next);
        queue.push([...route, next]);
      }
    }
  }
  return null;
}

const isTypeOnly = (node) =>
  node.importKind === 'type' ||
  node.exportKind === 'type' ||
  (node.type === 'ImportDeclaration' && node.specifiers.length > 0 && node.specifiers.every((s) => s.importKind === 'type'));

/**
 * `import-x/no-cycle` follows value imports only, so a cycle closed by an `import type` passes it (an
 * interface file that re-exports its implementation, which imports the interface back). This rule reports
 * such a cycle at the type import: for each type-only import, is there a way back over any imports?
 */
const noTypeImportCycle = {
  meta: {
    type: 'problem',
    docs: { description: 'Forbid import cycles closed by type-only imports (import-x/no-cycle reports the others).' },
    schema: [],
    messages: { cycle: 'Import cycle through a type import: {{route}}' },
  },
  create(context) {
    const file = context.physicalFilename;
    const check = (node) => {
      if (!node.source || typeof node.source.value !== 'string' || !node.source.value.startsWith('.') || !isTypeOnly(node)) return;
      const target = projectFile(resolve(dirname(file), node.source.value));
      if (!target || target === file) return;
      const route = routeBack(target, file);
      if (route)
        context.report({
          node,
          messageId: 'cycle',
          data: { route: [file, ...route, file].map((f) => relative(context.cwd, f)).join(' → ') },
        });
    };
    return { ImportDeclaration: check, ExportNamedDeclaration: check, ExportAllDeclaration: check };
  },
};

export const hostprovRules = { rules: { 'no-type-import-cycle': noTypeImportCycle } };
