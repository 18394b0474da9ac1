/**
 * zod as the agent process runs it: `jitless`, imported before any schema is built (zod reads the setting
 * when a schema is made, not when it parses).
 *
 * On a schema's first parse zod generates a parser for each object schema with `new Function`, which V8
 * then compiles; it pays off over many parses of one schema. An agent parses each request schema a few
 * times in its life (a host is installed once), and on its first `Host.setupNetworks` the generated
 * parsers were about half of the first parse's CPU (docs/performance.md#the-agents-share-of-an-install).
 * What a schema accepts does not change: `jitless` parses through the same checks without generating code.
 */
import { config } from 'zod';

config({ jitless: true });
