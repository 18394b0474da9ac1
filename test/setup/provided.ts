/** Values the global setup hands to test files through vitest's provide/inject. */
import 'vitest';

export type ProvidedTemporal = { address: string; namespace: string; workflowBundlePath: string } | { unavailable: string };

declare module 'vitest' {
  export interface ProvidedContext {
    temporal: ProvidedTemporal;
  }
}
