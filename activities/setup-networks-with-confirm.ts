/**
 * `Host.setupNetworks` under a connectivity check, with the confirm loop the engine runs beside it
 * (docs/engine-host-networking.md#the-confirm-loop): while the call is in flight, `Host.confirmConnectivity` every
 * ~500 ms over a *fresh* connection, proving the manager reaches the host over the new configuration. Our
 * agent also announces when the change is in the kernel, and the loop then confirms at once
 * (vdsm/confirmation-signal.ts).
 *
 * Survives what a management change does to sessions and workers:
 * - the session that carries the call may die when the management address moves: we reconnect and send the
 *   same request id again; our agent treats a repeated id as the same request (joins it or returns its
 *   result), so the host applies once;
 * - the worker may die: Temporal retries this activity on another worker well before the host's own
 *   rollback timer (short heartbeat timeout); the retry sends the same id and takes over confirming.
 * A real VDSM does not know the id trick and answers 40 ("resource unavailable") while the first call runs:
 * we then confirm until the host's window has certainly closed and read the outcome from its capabilities.
 */
import { Context } from '@temporalio/activity';
import { AgentConnectionError, AgentRpcError, AgentTimeoutError } from '../vdsm/client/errors';
import { Capabilities } from '../model/vdsm/capabilities';
import { VdsmCode } from '../model/vdsm/error-codes';
import { announcesAwaitingConfirmation, awaitingConfirmationEvent } from '../vdsm/confirmation-signal';
import type { AgentEvent } from '../vdsm/verbs';
import { connectVdsmAgent, withFreshAgentConnection, type AgentConnection, type ConnectAgent } from './agent-connection';
import { clientEndpoint, type AgentAccess } from './agent-endpoint';
import { toActivityFailure } from './failure-mapping';
import { NO_APPLY_METRICS, type ApplyMetrics } from './metrics';
import { hostProbeOf } from './host-probe';
import type { HostProbe, SetupNetworksInput, SetupNetworksOutcome } from './types';

export interface ConfirmLoopOptions {
  /** @default 500 */
  confirmIntervalMs?: number;
  /** Per-poll budget, connect included (the engine's SetupNetworksPollingTimeout). @default 3000 */
  confirmTimeoutMs?: number;
  /**
   * How long past the host's connectivity timeout its window counts as possibly open (the host's clock, the
   * rollback itself, a late first send). Bounds reconnecting and, against a stock VDSM that answers 40 to a
   * resent request, how long to keep confirming before reading the outcome. @default 15000
   */
  windowSlackMs?: number;
}

/** Confirm polls out at once, at most: enough that one stalled poll never delays the next. @default 3 */
export const MAX_POLLS_IN_FLIGHT = 3;

/**
 * How far into an attempt its progress is first sent as a heartbeat. Not at the start: the heartbeat timeout
 * counts from the start anyway, and an apply is usually over long before, so that beat cost every install a
 * heartbeat call and a write on the server (docs/performance.md#heartbeats-of-short-activities). What it
 * carries, when the request was first sent, only bounds a takeover: one that finds none counts the host's
 * window from its own start, later than the host does, and so keeps trying a little longer, never shorter.
 * @default 1000
 */
export const FIRST_PROGRESS_BEAT_MS = 1000;

/**
 * Against an agent that announces when its change is in the kernel, how long after the call the cadence
 * starts without an announcement: it is only the fallback for a lost one. Polling from the start, as the
 * engine does, opened a mutual-TLS connection every half second that confirmed nothing whenever an apply
 * took longer than that (20 installs at once on two cores: over a second). Never more than a quarter of the
 * host's window, so a lost announcement still leaves most of it for the fallback's polls. @default 3000
 */
export const ANNOUNCED_FALLBACK_AFTER_MS = 3000;

/** Budget of the capabilities read after the apply (`readCapabilitiesAfter`), well inside the heartbeat timeout. */
export const READ_BACK_TIMEOUT_MS = 5_000;

interface Progress {
  requestId: string;
  /** When the first attempt sent the request (ms since epoch). */
  sentAt: number;
  confirmations: number;
}

/** `connect` opens connections to the agent: the VDSM client unless a test answers for the host. */
export function createSetupNetworksActivity(
  access: AgentAccess,
  options: ConfirmLoopOptions = {},
  connect: ConnectAgent = connectVdsmAgent,
  metrics: ApplyMetrics = NO_APPLY_METRICS,
) {
  const interval = options.confirmIntervalMs ?? 500;
  const pollTimeout = options.confirmTimeoutMs ?? 3000;

  return async function setupNetworksWithConfirm(input: SetupNetworksInput): Promise<SetupNetworksOutcome> {
    const ctx = Context.current();
    const endpoint = clientEndpoint(input.endpoint, access);
    const previous = ctx.info.heartbeatDetails as Progress | undefined;
    const progress: Progress = {
      requestId: input.requestId,
      sentAt: previous?.sentAt ?? Date.now(),
      confirmations: previous?.confirmations ?? 0,
    };
    const takingOver = ctx.info.attempt > 1;
    const windowEnds = progress.sentAt + input.connectivityTimeoutSeconds * 1000 + (options.windowSlackMs ?? 15_000);
    const log = ctx.log;
    const attemptStarted = Date.now();
    // Every beat below goes through here: none before FIRST_PROGRESS_BEAT_MS, then the SDK's throttle.
    const beat = (): void => {
      if (Date.now() - attemptStarted >= FIRST_PROGRESS_BEAT_MS) ctx.heartbeat(progress);
    };
    const firstBeat = setTimeout(() => ctx.heartbeat(progress), FIRST_PROGRESS_BEAT_MS);

    // Confirmations only count once the host has applied the change, so the loop starts with the call. An
    // apply takes tens of milliseconds: against a host that does not announce it, the first second polls
    // fast, so the first useful confirmation is not a whole interval late; then the engine's pace. Polls
    // start on that cadence whether or not the previous one has answered (at most MAX_POLLS_IN_FLIGHT at
    // once): a poll whose packets were lost while the host moved its address waits out a TCP
    // retransmission, and the next poll must not wait behind it
    // (docs/performance.md#the-confirm-loop). The pause ends at once when the call is answered; polls still
    // out then finish on their own, within their budget, and count for nothing.
    let done = false;
    let wake: () => void = () => undefined;
    const stopped = new Promise<void>((r) => (wake = r));
    const stopConfirming = (): void => {
      done = true;
      wake();
    };
    let confirmLoop: Promise<void> | undefined;
    const inFlight = new Set<Promise<void>>();
    const poll = async (): Promise<void> => {
      try {
        const sent = performance.now();
        await withFreshAgentConnection(connect, endpoint, (c) => c.call('Host.confirmConnectivity', {}, { timeoutMs: pollTimeout }), {
          connectTimeoutMs: pollTimeout,
          heartBeatMs: 0,
        });
        if (done) return;
        metrics.confirmAnswered((performance.now() - sent) / 1000);
        progress.confirmations += 1;
      } catch {
        // While the host rebuilds its management path, polls fail; the host's own timer decides.
      }
      if (!done) beat();
    };
    const startPoll = (): void => {
      const polling: Promise<void> = poll().finally(() => inFlight.delete(polling));
      inFlight.add(polling);
    };
    // Our agent says when the change is in the kernel (vdsm/confirmation-signal.ts): one poll then. For such an
    // agent the cadence is only the fallback for a lost announcement, or for a poll on it that failed: it
    // keeps the engine's pace from the announcement on, or from ANNOUNCED_FALLBACK_AFTER_MS without one.
    const awaiting = awaitingConfirmationEvent(input.requestId);
    let announced = false;
    const onEvent = (event: AgentEvent): void => {
      if (event.method !== awaiting || done) return;
      announced = true;
      startPoll();
    };
    const fallbackAfterMs = Math.min(ANNOUNCED_FALLBACK_AFTER_MS, (input.connectivityTimeoutSeconds * 1000) / 4);
    const startConfirming = (signalled: boolean): Promise<void> =>
      (confirmLoop ??= (async () => {
        const started = Date.now();
        const cadenceDue = () => !signalled || announced || Date.now() - started >= fallbackAfterMs;
        let pollNow = !signalled;
        while (!done) {
          if (pollNow && inFlight.size < MAX_POLLS_IN_FLIGHT) startPoll();
          // The SDK throttles heartbeats; this one keeps them going while every poll out is stalled.
          beat();
          const pause = signalled || Date.now() - started >= 1000 ? interval : Math.min(100, interval);
          await Promise.race([stopped, new Promise((r) => setTimeout(r, pause))]);
          pollNow = cadenceDue();
        }
      })());

    const params = { networks: input.networks, bondings: input.bondings, options: input.options };
    const callTimeoutMs = (input.connectivityTimeoutSeconds + 60) * 1000;
    try {
      for (let session = 1; ; session += 1) {
        // Heart-beats off for the call, as the engine does while the management network changes. The connect
        // budget stays below the activity's heartbeat timeout (8 s), and every attempt heartbeats.
        beat();
        const client = await connect(endpoint, { heartBeatMs: 0, connectTimeoutMs: 5_000, onEvent }).catch((err: unknown) => err as Error);
        if (client instanceof Error) {
          if (Date.now() > windowEnds) throw client;
          await new Promise((r) => setTimeout(r, 1000));
          continue;
        }
        const sent = performance.now();
        const applySeconds = () => (performance.now() - sent) / 1000;
        try {
          const call = client.call('Host.setupNetworks', params, { id: input.requestId, timeoutMs: callTimeoutMs });
          void startConfirming(announcesAwaitingConfirmation(client.server));
          await call;
          metrics.applyFinished(applySeconds(), 'applied');
          const applied = {
            status: 'applied',
            confirmations: progress.confirmations,
            tookOverInFlight: takingOver || session > 1,
          } as const;
          if (!input.readCapabilitiesAfter) return applied;
          stopConfirming();
          const capabilities = await capabilitiesAfter(client, log);
          return capabilities ? { ...applied, capabilities } : applied;
        } catch (err) {
          if (err instanceof AgentRpcError && err.code === VdsmCode.LOST_CONNECTION) {
            metrics.applyFinished(applySeconds(), 'rolled-back');
            return { status: 'rolled-back', code: err.code, message: err.rpcMessage, confirmations: progress.confirmations };
          }
          if (err instanceof AgentRpcError && err.code === VdsmCode.RESOURCE_UNAVAILABLE && (takingOver || session > 1)) {
            log.warn('agent is still running an earlier setupNetworks and does not join repeated ids; confirming until its window closes');
            return await outcomeAfterWindow(endpoint, input, progress, windowEnds, takingOver);
          }
          if ((err instanceof AgentConnectionError || err instanceof AgentTimeoutError) && Date.now() < windowEnds) {
            log.warn(`session lost during setupNetworks (${err.message}); reconnecting with the same request id`);
            continue;
          }
          metrics.applyFinished(applySeconds(), 'failed');
          throw err;
        } finally {
          await client.close();
        }
      }
    } catch (err) {
      throw toActivityFailure(err);
    } finally {
      stopConfirming();
      clearTimeout(firstBeat);
      await confirmLoop;
    }
  };

  /**
   * The host's capabilities, read on the session that carried the apply, just after its answer. A read that
   * fails or is slow costs the apply nothing: the caller then reads them in a step of its own. Short, since
   * nothing heart-beats meanwhile.
   */
  async function capabilitiesAfter(client: AgentConnection, log: Context['log']): Promise<HostProbe['capabilities'] | undefined> {
    try {
      return hostProbeOf(await client.call('Host.getCapabilities', {}, { timeoutMs: READ_BACK_TIMEOUT_MS })).capabilities;
    } catch (err) {
      log.warn(
        `capabilities after the apply could not be read (${err instanceof Error ? err.message : String(err)}); the verification reads them`,
      );
      return undefined;
    }
  }

  /** Keep confirming until the host's check window is over, then read whether the change stayed. */
  async function outcomeAfterWindow(
    endpoint: ReturnType<typeof clientEndpoint>,
    input: SetupNetworksInput,
    progress: Progress,
    windowEnds: number,
    takingOver: boolean,
  ): Promise<SetupNetworksOutcome> {
    while (Date.now() < windowEnds) await new Promise((r) => setTimeout(r, interval));
    const caps = Capabilities.parse(
      await withFreshAgentConnection(connect, endpoint, (c) => c.call('Host.getCapabilities', {}, { timeoutMs: 60_000 })),
    );
    const kept = Object.entries(input.networks).every(([name, attrs]) =>
      'remove' in attrs ? !caps.networks[name] : Boolean(caps.networks[name]),
    );
    return kept
      ? { status: 'applied', confirmations: progress.confirmations, tookOverInFlight: takingOver }
      : {
          status: 'rolled-back',
          code: VdsmCode.LOST_CONNECTION,
          message: 'connectivity check failed (observed after the fact)',
          confirmations: progress.confirmations,
        };
  }
}
