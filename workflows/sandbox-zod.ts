/**
 * zod as the workflow sandbox runs it. Every workflow run parses its input once, with schemas it builds
 * itself (docs/performance.md#loading-only-the-workflow-that-runs):
 * - the parsers zod compiles with `new Function` on a schema's first parse, its JIT, were compiled for one
 *   parse and dropped with the run; `jitless` parses the same way without compiling;
 * - the install-host contract is written with `zod/mini`, which, unlike zod's classic API, sets no locale,
 *   so its issues would read "Invalid input": English, as everywhere else.
 * What a schema accepts does not change. zod reads these settings when a schema is made, so this module is
 * evaluated first: the bundle preloads it (worker/bundle.ts `PRELOADED_MODULES`), once per worker thread,
 * before any workflow, and every run shares it and the zod modules it imports. Nothing may change zod's
 * settings after that: the SDK freezes preloaded modules. So every setting zod would fill in by itself on
 * first use is set here: the classic API installs its memoizer (cycle support; stateless between parses)
 * when it builds its first object schema, and would write it into the frozen settings
 * (test/workflows/preloaded-zod.test.ts freezes them as the SDK does).
 */
import * as zod from 'zod';
import * as zodMini from 'zod/mini';
import { memoizer } from 'zod/v4/core';
import en from 'zod/v4/locales/en.js';

zodMini.config({ ...en(), jitless: true, memoizer: memoizer() });

/**
 * Both of zod's APIs as values: requiring this module then evaluates every zod module the workflows import
 * (the classic one for model/, `zod/mini` for the install-host contract). A named import alone would let
 * webpack load only the module that defines it, and each run would still evaluate the rest.
 */
export const ZOD_APIS = [zod, zodMini] as const;
