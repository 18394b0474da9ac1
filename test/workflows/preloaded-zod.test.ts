/**
 * The workflow bundle preloads zod (worker/bundle.ts `PRELOADED_MODULES`): the SDK evaluates the preload
 * once per worker thread, before any workflow, and every run shares the modules it loaded. Here the bundle
 * the suite's workers run is evaluated in a fresh V8 context with a module cache that records what is put
 * in it, as the SDK's reusable context does: after the preload, loading every workflow's modules (as a run
 * does on its first activation) evaluates no zod module again, and the preloaded settings hold (English
 * issues, no compiled parsers).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { skipBecause } from '../helpers/skip';
import { temporalTarget, unavailableReason } from '../helpers/temporal';

const REPO = fileURLToPath(new URL('../..', import.meta.url));

interface BundleExports {
  preloadModules(): void;
  importWorkflows(): Record<string, (...args: unknown[]) => Promise<unknown>>;
}

/**
 * What the SDK does to preloaded modules before any workflow runs (its reusable context's `deepFreeze`):
 * objects are frozen with everything they hold, functions themselves only.
 */
function freezeAsTheSdkDoes(value: unknown, seen = new WeakSet<object>()): void {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function') || seen.has(value)) return;
  seen.add(value);
  if (Object.isFrozen(value)) return;
  if (typeof value === 'object') {
    for (const key of [...Object.getOwnPropertyNames(value), ...Object.getOwnPropertySymbols(value)]) {
      try {
        freezeAsTheSdkDoes((value as Record<PropertyKey, unknown>)[key], seen);
      } catch {
        // Some objects cannot be frozen (typed arrays); the SDK skips them too.
      }
    }
  }
  Object.freeze(value);
}

/** The bundle in a context of its own; `loaded` lists the module ids in the order they were evaluated. */
function evaluateBundle(path: string): { exports: BundleExports; loaded: string[]; context: vm.Context; modules: Map<string, unknown> } {
  const loaded: string[] = [];
  const modules = new Map<string, unknown>();
  const cache = new Proxy(
    {},
    {
      get: (_, id) => modules.get(String(id)),
      set: (_, id, value) => {
        loaded.push(String(id));
        modules.set(String(id), value);
        return true;
      },
      deleteProperty: (_, id) => modules.delete(String(id)),
    },
  );
  const context = vm.createContext({ __webpack_module_cache__: cache });
  vm.runInContext(readFileSync(path, 'utf8'), context, { filename: path });
  return { exports: context.__TEMPORAL__ as BundleExports, loaded, context, modules };
}

describe.skipIf(skipBecause(unavailableReason(), 'the preloaded zod test (needs the workflow bundle)'))('zod, preloaded once', () => {
  it('a run of any workflow evaluates no zod module the preload did not, and works with them frozen', async () => {
    const target = temporalTarget();
    if ('unavailable' in target) throw new Error(target.unavailable);
    const { exports, loaded, modules } = evaluateBundle(target.workflowBundlePath);
    const beforePreload = loaded.length;
    exports.preloadModules();
    const preloaded = new Set(loaded.slice(beforePreload));
    expect([...preloaded].filter((id) => id.includes('/node_modules/zod/'))).not.toEqual([]);
    for (const module of modules.values()) freezeAsTheSdkDoes(module);

    const workflows = exports.importWorkflows();
    const names = Object.keys(workflows);
    expect(names).toEqual(expect.arrayContaining(['installHost', 'hostSetupNetworks', 'refreshHostNetworks']));
    const firstRunLoad = loaded.length;
    // Each wrapper imports its workflow's module (what a run's first activation evaluates, schemas and all)
    // and calls it with an empty input, which its schema refuses. zod writing to a frozen module (its
    // settings, filled in on first use) would fail before that, with a TypeError.
    const failures: string[] = [];
    for (const name of names) {
      const failure = await workflows[name]!({}).then(
        () => 'no failure',
        (err: unknown) => String(err),
      );
      failures.push(`${name}: ${failure}`);
    }
    expect(failures.filter((f) => /TypeError|not extensible|read[ -]only/.test(f))).toEqual([]);
    expect(failures.find((f) => f.startsWith('installHost:'))).toMatch(/invalid install-host input/);
    const perRun = loaded.slice(firstRunLoad);
    expect(perRun).toContain('./workflows/install-host.ts');
    expect(perRun).toContain('./model/install-host/contract.ts');
    expect(perRun.filter((id) => id.includes('/node_modules/zod/'))).toEqual([]);
  });

  it('a host event watch and a scheduled refresh evaluate no module that builds zod schemas', async () => {
    // A watch is a long-lived execution per activated host, kept in the workflow cache with every module
    // its run evaluated; a scheduled refresh runs for every host at every interval. Neither needs a schema.
    const target = temporalTarget();
    if ('unavailable' in target) throw new Error(target.unavailable);
    for (const name of ['watchHostNetworkEvents', 'scheduledHostRefresh']) {
      const { exports, loaded } = evaluateBundle(target.workflowBundlePath);
      exports.preloadModules();
      const firstRunLoad = loaded.length;
      // Outside a workflow the call itself fails; the import before it is what a run evaluates.
      await exports.importWorkflows()[name]!({ hostId: 'h1' }).catch(() => undefined);
      const perRun = loaded.slice(firstRunLoad);
      expect(perRun).toContain('./workflows/refresh-triggers.ts');
      const buildingSchemas = perRun.filter((id) => {
        // A bare name is a package the preload did not load. A path may lead out of the checkout: a worktree
        // whose node_modules is a link to another checkout's (webpack names the target, `../main/node_modules/…`).
        if (!id.startsWith('./') && !id.startsWith('../')) return true;
        return /from ['"]zod(\/[\w/]+)?['"]/.test(readFileSync(join(REPO, id), 'utf8')); // zod, zod/mini, zod/v4…
      });
      expect(buildingSchemas, `${name} evaluates ${perRun.join(', ')}`).toEqual([]);
    }
  });

  it('the preloaded zod keeps the sandbox settings: English issues, and no parser compiled with new Function', () => {
    const target = temporalTarget();
    if ('unavailable' in target) throw new Error(target.unavailable);
    const { exports, loaded, context } = evaluateBundle(target.workflowBundlePath);
    exports.preloadModules();
    // zod compiles its parsers with `new Function` (looked up when it compiles): count those constructions.
    vm.runInContext(
      `globalThis.__compiled = 0;
      globalThis.Function = new Proxy(Function, {
        construct(target, args) { globalThis.__compiled += 1; return Reflect.construct(target, args); },
      });`,
      context,
    );
    const zodId = loaded.find((id) => /\/node_modules\/zod\/v4\/classic\/external\.js$/.test(id));
    expect(zodId).toBeDefined();
    // The classic API as model/ uses it, from the shared module: a parse that fails names its problem in English.
    const sandbox = context as unknown as { __zodCheck?: string; __compiled?: number };
    vm.runInContext(
      `__zodCheck = (() => {
        const z = __webpack_module_cache__[${JSON.stringify(zodId)}].exports;
        const r = z.object({ name: z.string(), port: z.number().int() }).safeParse({ name: 1, port: 1.5 });
        return r.error.issues.map((i) => i.message).join('; ');
      })()`,
      context,
    );
    expect(sandbox.__zodCheck).toMatch(/^Invalid input: expected string, received number; Invalid input: expected int, received number$/);
    expect(sandbox.__compiled).toBe(0);
  });
});
