/** The task queue every hostprov worker polls and every client starts workflows on. */
export const TASK_QUEUE = 'host-provisioning';

/** @default 'default' */
export const DEFAULT_NAMESPACE = 'default';

/** Version of the Temporal CLI built into `.tools/` by `scripts/build-temporal-cli`. */
export const TEMPORAL_CLI_VERSION = '1.5.1';
