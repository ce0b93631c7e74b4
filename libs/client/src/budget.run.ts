import { BudgetRefusedError } from './client.errors.js';
import type { CheckAllowed, CheckBody, Settled, UsageBody } from './client.types.js';
import { type CallOptions, type TokenBudgetClient, newKey } from './token-budget.client.js';

/** What the wrapped inference may use: the granted completion cap and the reservation. */
export interface Granted {
  /** Cap the inference here (`max_completion_tokens` / `max_output_tokens`), per choice. */
  max_tokens: number;
  reservation_id: string;
  /** The `models` row the service priced it with. */
  model: string;
  check: CheckAllowed;
}

export interface RunOptions extends Omit<CheckBody, 'idempotency_key'>, CallOptions {
  /** Default: a fresh key, so the client's own retries never reserve twice. */
  idempotency_key?: string;
  /**
   * Where a failed commit or refund goes once the inference itself is done; absent, it is thrown
   * (for a stream: by the iteration's end). The reservation is then settled by its expiry.
   */
  onSettleError?: (error: unknown) => void;
}

interface Collected {
  text: string[];
  usage: UsageBody | undefined;
}

/**
 * check → fn(granted) → commit, the glue every gateway writes around an inference:
 * - a refusal throws a BudgetRefusedError (with retryAfterSeconds) and fn is never called;
 * - a result with `usage` (Chat Completions or Responses) is committed with it, one without is
 *   committed with its text (the service counts it);
 * - a stream (an async iterable of OpenAI chunks or Responses events) is passed through chunk by
 *   chunk while its text and final usage are collected, then committed the same way;
 * - when fn throws, the stream fails, or the consumer stops reading, the reservation is refunded
 *   with the partial usage or text seen so far.
 */
export async function runWithBudget<T>(
  client: TokenBudgetClient,
  options: RunOptions,
  fn: (granted: Granted) => Promise<T> | T,
): Promise<T> {
  const { deadlineMs, waitForBudget, signal, onSettleError, ...check } = options;
  const call = { deadlineMs, waitForBudget, signal };
  const checked = await client.check(
    { ...check, idempotency_key: options.idempotency_key ?? newKey() },
    call,
  );
  if (!checked.allowed) {
    throw checked.refusal;
  }
  const granted: Granted = {
    max_tokens: checked.granted_max_tokens,
    reservation_id: checked.reservation_id,
    model: checked.model,
    check: checked,
  };
  const settle = async (settling: () => Promise<Settled>): Promise<void> => {
    try {
      await settling();
    } catch (error) {
      if (onSettleError === undefined) {
        throw error;
      }
      onSettleError(error);
    }
  };
  const id = checked.reservation_id;

  let result: T;
  try {
    result = await fn(granted);
  } catch (error) {
    await settle(() => client.refund({ reservation_id: id, reason: reasonOf(error) })).catch(
      () => undefined, // The inference's own error is what the caller needs to see.
    );
    throw error;
  }
  if (isAsyncIterable(result)) {
    return passThrough(result, (collected, finished, error) =>
      settle(() =>
        finished
          ? client.commit({ reservation_id: id, ...settlementOf(collected) })
          : client.refund({
              reservation_id: id,
              ...settlementOf(collected),
              reason: error === undefined ? 'stream_abandoned' : reasonOf(error),
            }),
      ),
    ) as T;
  }
  await settle(() => client.commit({ reservation_id: id, ...settlementOf(collect(result)) }));
  return result;
}

/**
 * Yields every chunk of `source` as it comes; `settled` runs once, when the source ends
 * (finished), fails, or the consumer stops reading (return() on break or abandon).
 */
function passThrough<C>(
  source: AsyncIterable<C>,
  settled: (collected: Collected, finished: boolean, error?: unknown) => Promise<void>,
): AsyncIterable<C> {
  const collected: Collected = { text: [], usage: undefined };
  async function* wrapped(): AsyncGenerator<C> {
    let finished = false;
    let failure: unknown;
    try {
      for await (const chunk of source) {
        gather(collected, chunk);
        yield chunk;
      }
      finished = true;
    } catch (error) {
      failure = error;
      throw error;
    } finally {
      // finally runs on completion, on a failure and on the consumer's return() alike.
      await settled(collected, finished, failure);
    }
  }
  return wrapped();
}

/** What a settlement says: the upstream's usage when it reported one, else the text so far. */
function settlementOf(collected: Collected): { usage: UsageBody } | { completion: string } {
  const usage = collected.usage;
  const reported =
    usage !== undefined &&
    (typeof usage.completion_tokens === 'number' || typeof usage.output_tokens === 'number');
  return reported ? { usage } : { completion: collected.text.join('') };
}

/** A whole (non-streamed) Chat Completions or Responses result. */
function collect(result: unknown): Collected {
  const body = objectOf(result) ?? {};
  const collected: Collected = { text: [], usage: objectOf(body.usage) as UsageBody | undefined };
  for (const choice of arrayOf(body.choices)) {
    const content = objectOf(objectOf(choice)?.message)?.content;
    if (typeof content === 'string') {
      collected.text.push(content);
    }
  }
  if (typeof body.output_text === 'string') {
    collected.text.push(body.output_text);
  } else {
    for (const item of arrayOf(body.output)) {
      for (const part of arrayOf(objectOf(item)?.content)) {
        const text = objectOf(part)?.text;
        if (typeof text === 'string') {
          collected.text.push(text);
        }
      }
    }
  }
  return collected;
}

/** One streamed chunk: Chat Completions deltas and usage, or Responses events. */
function gather(collected: Collected, chunk: unknown): void {
  const body = objectOf(chunk);
  if (body === undefined) {
    return;
  }
  for (const choice of arrayOf(body.choices)) {
    const delta = objectOf(objectOf(choice)?.delta);
    if (typeof delta?.content === 'string') {
      collected.text.push(delta.content);
    }
    for (const call of arrayOf(delta?.tool_calls)) {
      const args = objectOf(objectOf(call)?.function)?.arguments;
      if (typeof args === 'string') {
        collected.text.push(args);
      }
    }
  }
  const usage = objectOf(body.usage);
  if (usage !== undefined) {
    collected.usage = usage as UsageBody;
  }
  if (body.type === 'response.output_text.delta' && typeof body.delta === 'string') {
    collected.text.push(body.delta);
  }
  const responseUsage = objectOf(objectOf(body.response)?.usage);
  if (responseUsage !== undefined) {
    collected.usage = responseUsage as UsageBody;
  }
}

function reasonOf(error: unknown): string {
  if (error instanceof BudgetRefusedError) {
    return error.code;
  }
  const status = objectOf(error)?.status;
  return typeof status === 'number' ? `upstream_${status}` : 'upstream_error';
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function'
  );
}

function objectOf(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function arrayOf(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}
