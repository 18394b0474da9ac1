/**
 * zod as the workflow sandbox runs it. Every workflow run evaluates its own copy of zod and parses its
 * input once (docs/performance.md#loading-only-the-workflow-that-runs), so the parsers zod compiles with
 * `new Function` on a schema's first parse, its JIT, were compiled for one parse and dropped with the run.
 * `jitless` parses the same way without compiling; what a schema accepts does not change.
 */
import { z } from 'zod';

z.config({ jitless: true });
