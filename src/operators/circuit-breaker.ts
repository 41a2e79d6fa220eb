import { Observable, type MonoTypeOperatorFunction } from 'rxjs';
import type { StreamingChunk } from '../chunk/streaming-chunk';
import { currentFlow, runWithFlow } from '../flow/flow-control';
import {
  createStreamBreaker,
  getStreamBreakerControl,
  type StreamBreaker,
  type StreamBreakerControl,
  type StreamBreakerOptions,
} from './create-stream-breaker';
import { isContentChunk } from './is-content-chunk';

/** The operator returned by {@link circuitBreaker}, with the breaker it records on. */
export interface CircuitBreakerOperator<T> extends MonoTypeOperatorFunction<T> {
  /**
   * The breaker: the one passed in, or the one made from the options. Its state and events are
   * opossum's; call `breaker.shutdown()` when done with it, to clear its timers.
   */
  readonly breaker: StreamBreaker;
}

/**
 * Guards a chunk stream with an opossum circuit breaker: a stream is recorded as one call when it
 * ends, and no stream is sent while the breaker is open.
 *
 * <span class="informal">A circuit breaker that judges a stream by how it ends, not how it starts.</span>
 *
 * 1. On subscription the breaker decides, synchronously:
 *    - closed: the source is subscribed;
 *    - open: the result errors at once with a `CircuitOpenError` (`provider`, and `retryAfterMs`
 *      = the time left until the breaker lets a trial through) and the source is never
 *      subscribed;
 *    - half-open: the first stream is the trial and is subscribed; every other stream fails with
 *      a `CircuitOpenError` until the trial has ended.
 * 2. Chunks pass through as they arrive, untouched.
 * 3. The stream is recorded when it ends, never on its first chunk, as one opossum `fire()`:
 *    - it completes: a success (it closes a half-open breaker);
 *    - it errors and the breaker's `isFailure(error)` is true: a failure, counted even after
 *      chunks (it reopens a half-open breaker). By default retryable `RouterError`s and
 *      non-`RouterError`s count;
 *    - it errors with any other error (a `RateLimitError`, a non-retryable `RouterError` such as
 *      an invalid request or a bad API key): not recorded at all;
 *    - the subscriber unsubscribes after a content chunk (see `isContentChunk`): a success; before
 *      one: not recorded, so a cancelled trial gives back its slot and the breaker stays
 *      half-open for the next stream.
 * 4. A failure is recorded, and the breaker opened if it must be, before the error is passed on,
 *    so a retry or failover that reacts synchronously already sees the new state.
 * 5. A stream in flight is in no count: the error rate is over ended streams only.
 * 6. The source is subscribed with the flow control current at subscription (`runWithFlow`), so
 *    a `for await` consumer's backpressure reaches the request. Cold; unsubscribing unsubscribes
 *    the source, which aborts the request.
 *
 * ```
 * closed:
 * source:         -r-a-b-|
 * circuitBreaker: -r-a-b-|    a success, recorded at 7
 * source:         -r-a-#
 * circuitBreaker: -r-a-#      a failure (after chunks), recorded at 5, before the error
 * source:         -r-a-!      unsubscribed after content: a success
 * source:         -r--!       unsubscribed before content: not recorded
 *
 * open:
 * source:         -r-a-|      never subscribed
 * circuitBreaker: #           CircuitOpenError, synchronously
 * ```
 *
 * ## Example
 *
 * ```ts
 * import { throwError } from 'rxjs';
 * import { ProviderError, circuitBreaker, createStreamBreaker } from 'rx-llm-router';
 *
 * const breaker = createStreamBreaker({ provider: 'flaky', volumeThreshold: 2 });
 * const down$ = throwError(() => new ProviderError('overloaded', 'Overloaded'));
 * const guarded$ = down$.pipe(circuitBreaker(breaker));
 *
 * for (const attempt of [1, 2, 3]) {
 *   guarded$.subscribe({ error: (e: unknown) => console.log(attempt, (e as Error).name) });
 * }
 * // 1 ProviderError
 * // 2 ProviderError       (2 failures of 2: the breaker opens)
 * // 3 CircuitOpenError    (not sent)
 * breaker.shutdown();
 * ```
 *
 * @see {@link createStreamBreaker}
 * @param breakerOrOptions A breaker from `createStreamBreaker` (share one per provider), or the
 * options to make one for this operator (reachable as `operator.breaker`).
 * @return A function that returns an Observable of the source's chunks, or a `CircuitOpenError`
 * when the breaker does not let the stream through.
 */
export function circuitBreaker<T extends StreamingChunk>(
  breakerOrOptions: StreamBreaker | StreamBreakerOptions = {},
): CircuitBreakerOperator<T> {
  const control = toControl(breakerOrOptions);

  const operator = (source: Observable<T>): Observable<T> =>
    new Observable<T>((subscriber) => {
      const flow = currentFlow(); // read synchronously, for the subscription below
      const ticket = control.admit();
      if (!('settle' in ticket)) {
        subscriber.error(ticket);
        return;
      }
      let sentContent = false;
      let ended = false;
      const upstream = runWithFlow(flow, () =>
        source.subscribe({
          next(chunk) {
            if (!sentContent && isContentChunk(chunk)) sentContent = true;
            subscriber.next(chunk);
          },
          error(error: unknown) {
            ended = true;
            try {
              ticket.settle(counts(control, error) ? { failure: error } : 'ignored');
            } finally {
              subscriber.error(error);
            }
          },
          complete() {
            ended = true;
            try {
              ticket.settle('success');
            } finally {
              subscriber.complete();
            }
          },
        }),
      );
      return () => {
        upstream.unsubscribe();
        if (!ended) ticket.settle(sentContent ? 'success' : 'ignored');
      };
    });

  return Object.assign(operator, { breaker: control.breaker });
}

function toControl(breakerOrOptions: StreamBreaker | StreamBreakerOptions): StreamBreakerControl {
  const breaker =
    typeof (breakerOrOptions as { fire?: unknown }).fire === 'function'
      ? breakerOrOptions
      : createStreamBreaker(breakerOrOptions);
  const control = getStreamBreakerControl(breaker);
  if (control === undefined) {
    throw new TypeError(
      'circuitBreaker: this CircuitBreaker was not made by createStreamBreaker(). A plain opossum breaker times streams out after 10 s and opens on a single failure; pass createStreamBreaker(options), or the options themselves.',
    );
  }
  return control;
}

/** The breaker's `isFailure`, where a predicate that throws counts the error as a failure. */
function counts(control: StreamBreakerControl, error: unknown): boolean {
  try {
    return control.isFailure(error);
  } catch {
    return true;
  }
}
