/** Where the testbed's bash helpers live (run by ipmi_sim and dhclient, so they must not need Node). */
import { join } from 'node:path';
import { PROJECT_ROOT } from '../lib/paths';

// From PROJECT_ROOT, not import.meta.url: the build bundles this module into dist/ (cli/build.ts).
export const TESTBED_SCRIPTS_DIR = join(PROJECT_ROOT, 'testbed', 'scripts');
