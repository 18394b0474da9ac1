import type { LazyCommand } from '../run-cli';

/**
 * Sub-commands in help order. Each module exports `register(program)` and is loaded only when its command
 * runs (or for the full help): a command pays for its own dependencies only, so `hostprov agent` does not
 * load the Temporal worker (docs/performance.md#starting-the-cli).
 */
export const commands: readonly LazyCommand[] = [
  { names: ['demo'], load: async () => (await import('./demo')).register },
  { names: ['dev'], load: async () => (await import('./dev')).register },
  { names: ['worker'], load: async () => (await import('./worker')).register },
  { names: ['install-host'], load: async () => (await import('./install-host')).register },
  { names: ['networks'], load: async () => (await import('./networks')).register },
  { names: ['clusters'], load: async () => (await import('./clusters')).register },
  { names: ['hosts'], load: async () => (await import('./hosts')).register },
  { names: ['attachments'], load: async () => (await import('./attachments')).register },
  { names: ['host-networks'], load: async () => (await import('./host-networks')).register },
  { names: ['status'], load: async () => (await import('./status')).register },
  { names: ['codec', 'codec-server'], load: async () => (await import('./codec')).register },
  { names: ['agent'], load: async () => (await import('./agent')).register },
  { names: ['testbed'], load: async () => (await import('./testbed')).register },
  { names: ['schema'], load: async () => (await import('./schema')).register },
  { names: ['bench'], load: async () => (await import('./bench')).register },
];
