/** Where the testbed's bash helpers live (run by ipmi_sim and dhclient, so they must not need Node). */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const TESTBED_SCRIPTS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'scripts');
