import {
  Observable,
  asyncScheduler,
  type MonoTypeOperatorFunction,
  type SchedulerLike,
  type Subscription,
} from 'rxjs';
import type { StreamingChunk } from '../chunk/streaming-chunk';
import { hasErrorCode, isRouterError } from '../errors/router-error';
import { currentFlow, runWithFlow } from '../flow/flow-control';
import { isContentChunk } from './is-content-chunk';

/** How the backoff delay is randomised. */
export type RetryJitter = 'full' | 'equal' | 'none';

/** What {@link RetryBackoffConfig.onRetry} is told before each wait. */
export interface RetryInfo {
  /** The attempt about to be made: 2 for the first retry (the first subscription is attempt 1). */
  attempt: number;
  /** How long the operator waits before resubscribing, in ms. */
  delayMs: number;
  /** The error that failed the previous attempt. */
  error: unknown;
}

/** Configuration of {@link retryBackoff}. */
export interface RetryBackoffConfig {
  /** Attempts in all, the first one included; 1 disables retries. Default 3. */
  maxAttempts?: number | undefined;
  /** The backoff before the first retry, before jitter, in ms. Default 500. */
  initialDelayMs?: number | undefined;
  /** The largest backoff, before jitter, in ms. Default 8 000. */
  maxDelayMs?: number | undefined;
  /** The factor between two successive backoffs. Default 2. */
  multiplier?: number | undefined;
  /**
   * How the backoff `b` is randomised: `'full'` waits `random() × b` (AWS "full jitter", the
   * best at spreading a herd of clients), `'equal'` waits `b/2 + random() × b/2`, `'none'` waits
   * `b`. Default `'full'`.
   */
  jitter?: RetryJitter | undefined;
  /**
   * The longest `retryAfterMs` hint worth waiting for, in ms. An error asking for a longer wait
   * is rethrown at once, so a failover can try another provider instead. Default 10 000.
   */
  maxRetryAfterMs?: number | undefined;
  /** The random source of the jitter, returning a number in [0, 1). Default `Math.random`. */
  random?: (() => number) | undefined;
  /** The scheduler that runs the waits. Default: `asyncScheduler` (virtual under `TestScheduler.run`). */
  scheduler?: SchedulerLike | undefined;
  /** Called before each wait, e.g. to log or count retries. If it throws, the stream errors. */
  onRetry?: ((info: RetryInfo) => void) | undefined;
  /**
   * Decides whether an error may be retried; `failedAttempt` is the number of the attempt that
   * failed (1 for the first). Default: a retryable `RouterError` (`isRetryable`) that is not a
   * `TimeoutError`. The content rule, `maxAttempts` and `maxRetryAfterMs` apply whatever it says.
   */
  shouldRetry?: ((error: unknown, failedAttempt: number) => boolean) | undefined;
}

/**
 * The default retry predicate of {@link retryBackoff}: a retryable {@link RouterError} that is
 * not a timeout. A provider that was silent once is likely to be silent again, so retrying it
 * only multiplies the wait; a failover to another provider is the better answer.
 */
function isRetryableBeforeContent(error: unknown): boolean {
  return isRouterError(error) && error.isRetryable && !hasErrorCode(error, 'RXLLM_TIMEOUT');
}

/**
 * Resubscribes to a chunk stream that failed with a transient error before it sent any content,
 * after an exponential, jittered backoff that honours the provider's `Retry-After`.
 *
 * <span class="informal">Like `retry`, but only while nothing the user could see was sent.</span>
 *
 * 1. Attempt 1 is the first subscription; at most `maxAttempts` attempts are made in all.
 * 2. Non-content chunks (role-only, empty, finish-only, usage-only: see `isContentChunk`) are held
 *    back until the attempt's first content chunk, then emitted in order before it. An attempt
 *    that completes without content emits them just before completing. An attempt that fails
 *    before any content drops them, so a role chunk is never emitted twice and a failed attempt
 *    emits nothing at all.
 * 3. An attempt's error is retried only when all of these hold; otherwise it is rethrown at once:
 *    - the attempt emitted no content chunk;
 *    - `shouldRetry(error, attempt)` is true (default: a `RouterError` with `isRetryable`, not a
 *      `TimeoutError`; so quota 429s, invalid requests and plain `Error`s are rethrown);
 *    - attempts remain (`attempt < maxAttempts`);
 *    - the error's `retryAfterMs`, if any, is at most `maxRetryAfterMs`.
 * 4. The wait before attempt `n + 1` is the backoff `min(maxDelayMs, initialDelayMs ×
 *    multiplier^(n − 1))` with `jitter` applied, rounded to whole ms, then raised to the error's
 *    `retryAfterMs` when that is longer: `max(jittered backoff, retryAfterMs)`.
 * 5. `onRetry({ attempt, delayMs, error })` is called as each wait starts.
 * 6. The resubscription runs with the flow control that was current at the first subscription
 *    (`runWithFlow`), so a `for await` consumer's backpressure reaches every attempt.
 * 7. Cold; unsubscribing unsubscribes the current attempt (aborting its request), or cancels the
 *    pending wait so no further attempt is made.
 *
 * ```
 * maxAttempts: 3, initialDelayMs: 3, jitter: 'none'   (r = role-only, a = content, # = retryable)
 *
 * attempt 1:     -r#                    fails at 2
 * attempt 2:          -r#               subscribed at 5 = 2 + 3, fails at 7
 * attempt 3:                  -ra---|   subscribed at 13 = 7 + 6
 * subscriptions: ^-!
 *                -----^-!
 *                -------------^-----!
 * retryBackoff:  ---------------(ra)|   failed attempts' r dropped; r held back until a
 * ```
 *
 * ## Example
 *
 * ```ts
 * import { defer, of, throwError } from 'rxjs';
 * import { ProviderError, retryBackoff, type StreamingChunk } from 'rx-llm-router';
 *
 * const hello: StreamingChunk = {
 *   id: 'c', object: 'chat.completion.chunk', created: 0, model: 'm', provider: 'flaky',
 *   choices: [{ index: 0, delta: { content: 'Hello' }, finish_reason: 'stop' }],
 * };
 * let calls = 0;
 * const flaky$ = defer(() =>
 *   ++calls < 3 ? throwError(() => new ProviderError('overloaded', 'Overloaded')) : of(hello),
 * );
 *
 * flaky$
 *   .pipe(
 *     retryBackoff({
 *       maxAttempts: 3,
 *       onRetry: ({ attempt, delayMs }) => console.log(`attempt ${attempt} in ${delayMs} ms`),
 *     }),
 *   )
 *   .subscribe((chunk) => console.log(chunk.choices[0]?.delta.content)); // Hello, on attempt 3
 * ```
 *
 * @see {@link timeouts}
 * @param config Attempts, backoff and the retry predicate.
 * @return A function that returns an Observable of the first attempt that succeeds or sends
 * content, or the error that could not be retried.
 */
export function retryBackoff<T extends StreamingChunk>(
  config: RetryBackoffConfig = {},
): MonoTypeOperatorFunction<T> {
  const {
    maxAttempts = 3,
    initialDelayMs = 500,
    maxDelayMs = 8_000,
    multiplier = 2,
    jitter = 'full',
    maxRetryAfterMs = 10_000,
    random = Math.random,
    scheduler = asyncScheduler,
    onRetry,
    shouldRetry = isRetryableBeforeContent,
  } = config;
  validate({ maxAttempts, initialDelayMs, maxDelayMs, multiplier, maxRetryAfterMs, jitter });

  const backoff = (retry: number): number => {
    const base = Math.min(maxDelayMs, initialDelayMs * multiplier ** (retry - 1));
    const r = Math.min(Math.max(random(), 0), 1);
    const jittered =
      jitter === 'full' ? r * base : jitter === 'equal' ? base / 2 + (r * base) / 2 : base;
    return Math.round(jittered);
  };

  return (source) =>
    new Observable<T>((subscriber) => {
      const flow = currentFlow(); // read synchronously: later attempts start from a timer
      let attempt = 0;
      let upstream: Subscription | undefined;
      let wait: Subscription | undefined;

      const start = (): void => {
        attempt++;
        const thisAttempt = attempt;
        let held: T[] = [];
        let sentContent = false;
        upstream = runWithFlow(flow, () =>
          source.subscribe({
            next(chunk) {
              if (!sentContent) {
                if (!isContentChunk(chunk)) {
                  held.push(chunk);
                  return;
                }
                sentContent = true;
                const before = held;
                held = [];
                for (const h of before) subscriber.next(h);
              }
              subscriber.next(chunk);
            },
            error(error: unknown) {
              held = [];
              const delayMs = sentContent ? undefined : retryDelay(error, thisAttempt);
              if (delayMs === undefined) {
                subscriber.error(error);
                return;
              }
              try {
                onRetry?.({ attempt: thisAttempt + 1, delayMs, error });
              } catch (callbackError: unknown) {
                subscriber.error(callbackError);
                return;
              }
              if (subscriber.closed) return; // onRetry may have unsubscribed
              wait = scheduler.schedule(() => {
                wait = undefined;
                start();
              }, delayMs);
            },
            complete() {
              const before = held;
              held = [];
              for (const h of before) subscriber.next(h);
              subscriber.complete();
            },
          }),
        );
      };

      /** The wait before the next attempt, or undefined to rethrow. */
      const retryDelay = (error: unknown, failedAttempt: number): number | undefined => {
        if (failedAttempt >= maxAttempts) return undefined;
        if (!shouldRetry(error, failedAttempt)) return undefined;
        const retryAfterMs = isRouterError(error) ? error.retryAfterMs : undefined;
        if (retryAfterMs !== undefined && retryAfterMs > maxRetryAfterMs) return undefined;
        return Math.max(backoff(failedAttempt), retryAfterMs ?? 0);
      };

      start();

      return () => {
        wait?.unsubscribe();
        upstream?.unsubscribe();
      };
    });
}

function validate(options: {
  maxAttempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
  multiplier: number;
  maxRetryAfterMs: number;
  jitter: string;
}): void {
  const { maxAttempts, initialDelayMs, maxDelayMs, multiplier, maxRetryAfterMs, jitter } = options;
  const fail = (message: string): never => {
    throw new RangeError(`retryBackoff: ${message}`);
  };
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
    fail(
      `maxAttempts must be an integer ≥ 1 (attempts in all, the first included), got ${String(maxAttempts)}.`,
    );
  }
  for (const [name, value] of [
    ['initialDelayMs', initialDelayMs],
    ['maxDelayMs', maxDelayMs],
    ['maxRetryAfterMs', maxRetryAfterMs],
  ] as const) {
    if (typeof value !== 'number' || Number.isNaN(value) || value < 0) {
      fail(`${name} must be a number of milliseconds ≥ 0, got ${String(value)}.`);
    }
  }
  if (!Number.isFinite(maxDelayMs)) fail(`maxDelayMs must be finite, got ${String(maxDelayMs)}.`);
  if (typeof multiplier !== 'number' || !(multiplier >= 1) || !Number.isFinite(multiplier)) {
    fail(`multiplier must be a finite number ≥ 1, got ${String(multiplier)}.`);
  }
  if (jitter !== 'full' && jitter !== 'equal' && jitter !== 'none') {
    fail(`jitter must be 'full', 'equal' or 'none', got ${JSON.stringify(jitter)}.`);
  }
}
