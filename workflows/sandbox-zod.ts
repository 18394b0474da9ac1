/**
 * zod as the workflow sandbox runs it. Every workflow run evaluates its own copy of zod and parses its
 * input once (docs/performance.md#loading-only-the-workflow-that-runs):
 * - the parsers zod compiles with `new Function` on a schema's first parse, its JIT, were compiled for one
 *   parse and dropped with the run; `jitless` parses the same way without compiling;
 * - the install-host contract is written with `zod/mini`, which, unlike zod's classic API, sets no locale,
 *   so its issues would read "Invalid input": English, as everywhere else.
 * What a schema accepts does not change. zod reads these settings when a schema is made, so this module is
 * evaluated first (workflows/index.ts imports it before any workflow module).
 */
import { config } from 'zod/mini';
import en from 'zod/v4/locales/en.js';

config({ ...en(), jitless: true });
