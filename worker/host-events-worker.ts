/**
 * The worker of the host event watches (`watchHostNetworkEvents`): their one activity, on its own task queue
 * beside the worker's (model/refresh/contract.ts `hostEventsTaskQueue`), with a slot for every watch it may
 * hold. A watch keeps its activity running for as long as no event comes, so on the worker's own queue a
 * fleet's watches would take every slot and installs, setup-networks and refreshes would wait behind them.
 * A watch costs a connection to its agent and a ping every few seconds, so many fit in one worker.
 */
import { Worker, type NativeConnection } from '@temporalio/worker';
import type { DataConverter } from '@temporalio/common';
import type { RefreshActivities } from '../activities/types';
import { hostEventsTaskQueue } from '../model/refresh/contract';

/** @default 1000 watches per worker process; more hosts need more workers or a larger `maxWatches`. */
export const DEFAULT_MAX_HOST_EVENT_WATCHES = 1000;

/** Where the worker counts its watches (worker/metrics.ts). */
export interface HostEventWatchMetrics {
  watchSlots(slots: number): void;
  watchStarted(): void;
  watchEnded(): void;
}

export interface HostEventsWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  /** The worker's own task queue; the watches' queue is derived from it. */
  taskQueue: string;
  activities: Pick<RefreshActivities, 'waitForHostNetworkEvent'>;
  /** How many watches run at once in this process. @default 1000 */
  maxWatches?: number;
  dataConverter?: DataConverter;
  identity?: string;
  /** @default nowhere */
  metrics?: HostEventWatchMetrics;
}

export function createHostEventsWorker(options: HostEventsWorkerOptions): Promise<Worker> {
  const { metrics } = options;
  const slots = options.maxWatches ?? DEFAULT_MAX_HOST_EVENT_WATCHES;
  metrics?.watchSlots(slots);
  const watch = options.activities.waitForHostNetworkEvent;
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: hostEventsTaskQueue(options.taskQueue),
    activities: {
      waitForHostNetworkEvent: metrics
        ? async (input: Parameters<typeof watch>[0]) => {
            metrics.watchStarted();
            try {
              return await watch(input);
            } finally {
              metrics.watchEnded();
            }
          }
        : watch,
    },
    maxConcurrentActivityTaskExecutions: slots,
    ...(options.dataConverter ? { dataConverter: options.dataConverter } : {}),
    ...(options.identity ? { identity: options.identity } : {}),
    // A watch has nothing to finish: on shutdown it is cancelled at once and retried on another worker.
    shutdownGraceTime: 0,
  });
}
