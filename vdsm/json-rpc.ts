/**
 * JSON-RPC 2.0 dispatcher over the agent's verb registry (docs/vdsm-wire-protocol.md#json-rpc-20).
 *
 * Written here rather than on the `json-rpc-2.0` package (1.8.1): its server answers a batch whose only
 * response is one object with a bare object instead of an array, throws on a `null` batch entry, does not
 * check that `method` is a string or that `id` has a legal type, maps unknown exceptions to code 0 and
 * omits `result` for verbs returning nothing. Working around each of those would be more code than this.
 */
import { z } from 'zod';
import type { Logger } from '../lib/logger';
import { JsonRpcCode, VdsmError } from '../model/vdsm/error-codes';
import type { RpcContext, VerbDefinition } from './verbs';
import { DEFAULT_TRANSPORT_LIMITS } from './limits';

export type JsonRpcId = string | number | null;

export interface JsonRpcSuccess {
  readonly jsonrpc: '2.0';
  readonly id: JsonRpcId;
  readonly result: unknown;
}

export interface JsonRpcFailure {
  readonly jsonrpc: '2.0';
  readonly id: JsonRpcId;
  readonly error: { readonly code: number; readonly message: string };
}

export type JsonRpcResponse = JsonRpcSuccess | JsonRpcFailure;

/** What the transport knows about the connection a request arrived on; the dispatcher adds `requestId`. */
export type ConnectionContext = Omit<RpcContext, 'requestId'>;

const idSchema = z.union([z.string(), z.number(), z.null()]);

/** The request envelope. Unknown members are ignored; `params` is checked by each verb. */
const requestSchema = z.object({
  jsonrpc: z.literal('2.0'),
  method: z.string().min(1),
  params: z.union([z.record(z.string(), z.unknown()), z.array(z.unknown())]).optional(),
  id: idSchema.optional(),
});
type JsonRpcRequest = z.infer<typeof requestSchema>;

/** Raised inside the dispatcher to answer with a protocol error code. */
class RpcFailure extends Error {
  override readonly name = 'RpcFailure';
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

export interface JsonRpcDispatcherOptions {
  /** Requests running at once per `connectionId`; more are answered with -32000 and not run. @default 32 */
  maxRequestsInFlight?: number;
  /** Requests in one batch; a larger batch runs nothing and each member is answered with -32001. @default 32 */
  maxBatchSize?: number;
  logger?: Logger;
}

export class JsonRpcDispatcher {
  readonly #verbs: ReadonlyMap<string, VerbDefinition>;
  readonly #log: Logger | undefined;
  readonly #maxInFlight: number;
  readonly #maxBatchSize: number;
  /** Requests running per connection; a connection with none has no entry, so closed ones leave nothing behind. */
  readonly #inFlight = new Map<string, number>();

  constructor(verbs: readonly VerbDefinition[], options: JsonRpcDispatcherOptions = {}) {
    const byMethod = new Map<string, VerbDefinition>();
    for (const verb of verbs) {
      if (byMethod.has(verb.method)) throw new Error(`verb ${verb.method} is registered twice`);
      byMethod.set(verb.method, verb);
    }
    this.#verbs = byMethod;
    this.#log = options.logger;
    this.#maxInFlight = options.maxRequestsInFlight ?? DEFAULT_TRANSPORT_LIMITS.maxRequestsInFlight;
    this.#maxBatchSize = options.maxBatchSize ?? DEFAULT_TRANSPORT_LIMITS.maxBatchSize;
  }

  /** Requests of `connectionId` whose verb is still running. */
  inFlight(connectionId: string): number {
    return this.#inFlight.get(connectionId) ?? 0;
  }

  /**
   * Handles one message body. Resolves with the response text, or `null` when nothing must be sent back
   * (a notification, or a batch of notifications). Never rejects: every failure becomes a JSON-RPC error.
   */
  async handleText(body: string, ctx: ConnectionContext): Promise<string | null> {
    let message: unknown;
    try {
      message = JSON.parse(body);
    } catch (err) {
      return JSON.stringify(failure(null, JsonRpcCode.PARSE_ERROR, `Parse error: ${(err as Error).message}`));
    }
    const response = await this.handleMessage(message, ctx);
    if (response === null) return null;
    return Array.isArray(response) ? `[${response.map(serialize).join(',')}]` : serialize(response);
  }

  /** Handles a parsed message: a single request or a batch. */
  async handleMessage(message: unknown, ctx: ConnectionContext): Promise<JsonRpcResponse | JsonRpcResponse[] | null> {
    if (!Array.isArray(message)) return this.#handleOne(message, ctx);
    // JSON-RPC 2.0: an empty batch is not a batch, and is answered with one error object, not an array.
    if (message.length === 0) return failure(null, JsonRpcCode.INVALID_REQUEST, 'Invalid request: empty batch');
    if (message.length > this.#maxBatchSize) return this.#refuseBatch(message);
    // Members run concurrently, like VDSM's worker pool (docs/vdsm-wire-protocol.md#concurrency).
    const responses = await Promise.all(message.map((entry) => this.#handleOne(entry, ctx)));
    const answered = responses.filter((r): r is JsonRpcResponse => r !== null);
    return answered.length > 0 ? answered : null;
  }

  async #handleOne(raw: unknown, ctx: ConnectionContext): Promise<JsonRpcResponse | null> {
    const parsed = requestSchema.safeParse(raw);
    if (!parsed.success) {
      const id = idOf(raw);
      return failure(id, JsonRpcCode.INVALID_REQUEST, `Invalid request: ${summarizeIssues(parsed.error)}`);
    }
    const request = parsed.data;
    // Only a request without an `id` member is a notification; `"id": null` still gets an answer.
    const isNotification = request.id === undefined;
    const id = request.id ?? null;
    // Taken before the first await, so the members of a batch are admitted in order.
    if (!this.#admit(ctx.connectionId)) {
      this.#log?.warn(
        { method: request.method, connectionId: ctx.connectionId, limit: this.#maxInFlight },
        'too many requests in flight; refused',
      );
      const message = `Too many requests in flight on this connection (at most ${this.#maxInFlight}); send it again after an answer arrives`;
      return isNotification ? null : failure(id, JsonRpcCode.TOO_MANY_REQUESTS, message);
    }
    try {
      const result = await this.#invoke(request, { ...ctx, requestId: id });
      // VDSM habit: a verb that returns nothing answers `true` (docs/vdsm-wire-protocol.md#requests-and-responses).
      return isNotification ? null : { jsonrpc: '2.0', id, result: result ?? true };
    } catch (err) {
      const { code, message } = this.#toError(request.method, err);
      return isNotification ? null : failure(id, code, message);
    } finally {
      this.#release(ctx.connectionId);
    }
  }

  /** An oversized batch runs nothing; every member that is not a notification learns why (JSON-RPC 2.0: an array). */
  #refuseBatch(batch: readonly unknown[]): JsonRpcResponse[] | null {
    this.#log?.warn({ size: batch.length, limit: this.#maxBatchSize }, 'JSON-RPC batch too large; refused');
    const message = `Batch too large: ${batch.length} requests, at most ${this.#maxBatchSize}; nothing was run`;
    const answers = batch
      .filter((entry) => !isNotification(entry))
      .map((entry) => failure(idOf(entry), JsonRpcCode.BATCH_TOO_LARGE, message));
    return answers.length > 0 ? answers : null;
  }

  #admit(connectionId: string): boolean {
    const running = this.inFlight(connectionId);
    if (running >= this.#maxInFlight) return false;
    this.#inFlight.set(connectionId, running + 1);
    return true;
  }

  #release(connectionId: string): void {
    const running = this.inFlight(connectionId) - 1;
    if (running > 0) this.#inFlight.set(connectionId, running);
    else this.#inFlight.delete(connectionId);
  }

  async #invoke(request: JsonRpcRequest, ctx: RpcContext): Promise<unknown> {
    const verb = this.#verbs.get(request.method);
    if (!verb) throw new RpcFailure(JsonRpcCode.METHOD_NOT_FOUND, `Method not found: ${request.method}`);
    return verb.handler(namedParams(verb, request.params), ctx);
  }

  #toError(method: string, err: unknown): { code: number; message: string } {
    if (err instanceof RpcFailure) return { code: err.code, message: err.message };
    if (err instanceof VdsmError) {
      this.#log?.info({ method, code: err.code, err: err.message }, 'verb failed');
      return { code: err.code, message: err.message };
    }
    if (err instanceof z.core.$ZodError) {
      return { code: JsonRpcCode.INVALID_PARAMS, message: `Invalid params: ${summarizeIssues(err)}` };
    }
    this.#log?.error({ method, err }, 'verb raised an unexpected exception');
    return { code: JsonRpcCode.INTERNAL_ERROR, message: err instanceof Error ? err.message : String(err) };
  }
}

/** Named params as the verb receives them; positional params are mapped onto `verb.params` order. */
function namedParams(verb: VerbDefinition, params: JsonRpcRequest['params']): Record<string, unknown> {
  if (params === undefined) return {};
  if (!Array.isArray(params)) return params;
  if (params.length > verb.params.length) {
    throw new RpcFailure(
      JsonRpcCode.INVALID_PARAMS,
      `Invalid params: ${verb.method} takes ${verb.params.length} positional parameter(s), got ${params.length}`,
    );
  }
  const named: Record<string, unknown> = {};
  params.forEach((value, index) => {
    const name = verb.params[index];
    if (name !== undefined) named[name] = value;
  });
  return named;
}

/** A result that cannot be written as JSON (a BigInt, a cycle) becomes an internal error for that request only. */
function serialize(response: JsonRpcResponse): string {
  try {
    return JSON.stringify(response);
  } catch (err) {
    return JSON.stringify(failure(response.id, JsonRpcCode.INTERNAL_ERROR, `result is not JSON-serializable: ${(err as Error).message}`));
  }
}

function failure(id: JsonRpcId, code: number, message: string): JsonRpcFailure {
  return { jsonrpc: '2.0', id, error: { code, message } };
}

/** A well-formed request without `id`: it gets no answer, not even an error. */
function isNotification(raw: unknown): boolean {
  const parsed = requestSchema.safeParse(raw);
  return parsed.success && parsed.data.id === undefined;
}

/** The request's id if it has a legal one, so even an invalid request's error can be correlated. */
function idOf(raw: unknown): JsonRpcId {
  if (typeof raw !== 'object' || raw === null || !('id' in raw)) return null;
  const parsed = idSchema.safeParse(raw.id);
  return parsed.success ? parsed.data : null;
}

function summarizeIssues(error: z.core.$ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => (issue.path.length > 0 ? `${issue.path.map(String).join('.')}: ${issue.message}` : issue.message))
    .join('; ');
}
