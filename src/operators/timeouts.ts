import {
  Observable,
  asyncScheduler,
  type MonoTypeOperatorFunction,
  Subscription,
  type SchedulerAction,
  type SchedulerLike,
} from 'rxjs';
import type { StreamingChunk } from '../chunk/streaming-chunk';
import { TimeoutError, type TimeoutKind } from '../errors/timeout-error';
import { isContentChunk } from './is-content-chunk';

/** Configuration of {@link timeouts}. Every limit is in milliseconds and optional. */
export interface TimeoutsConfig {
  /**
   * Time allowed from subscription until the first **content** chunk (see `isContentChunk`).
   * Role-only, empty, finish-only and usage-only chunks do not stop this clock. Default: no limit.
   */
  firstToken?: number | undefined;
  /**
   * Longest silence allowed between subscription and the first chunk, and then between any two
   * chunks (or between the last chunk and completion). Every chunk resets it, content or not:
   * role-only and empty keep-alive chunks count as activity. Default: no limit.
   */
  idle?: number | undefined;
  /** Time allowed for the whole stream, from subscription to completion. Default: no limit. */
  total?: number | undefined;
  /**
   * The provider named in the {@link TimeoutError}. Default: the `provider` of the last chunk
   * seen, if any.
   */
  provider?: string | undefined;
  /** The scheduler that runs the clocks. Default: `asyncScheduler` (virtual under `TestScheduler.run`). */
  scheduler?: SchedulerLike | undefined;
}

/**
 * Fails a chunk stream with a {@link TimeoutError} when the first content chunk, the next chunk
 * or the end of the stream takes too long, and unsubscribes from the source (which aborts the
 * provider request).
 *
 * <span class="informal">Like `timeout`, with three clocks that fit an LLM stream.</span>
 *
 * 1. Mirrors the source while every armed clock is within its limit. A clock whose limit is
 *    `undefined` or `Infinity` is not armed.
 * 2. `firstToken` runs from subscription until the first chunk for which `isContentChunk` is
 *    true. Role-only, empty, finish-only and usage-only chunks do **not** stop it, so a provider
 *    that sends keep-alive chunks but no text still times out.
 * 3. `idle` runs from subscription and restarts at **every** chunk, content or not. It fires when
 *    `idle` ms pass without a chunk: before the first chunk, between two chunks, or between the
 *    last chunk and completion. Wire-level keep-alives (SSE comments, Anthropic `ping` events)
 *    count when the provider stream is asked to emit them as keep-alive chunks
 *    (`keepAliveChunks: true`); they carry no content, so they never stop the first-token clock.
 * 4. `total` runs from subscription until the source completes or errors.
 * 5. When a clock runs out, the operator unsubscribes from the source first (aborting the
 *    request), stops the other clocks, then errors with `new TimeoutError(kind, limitMs,
 *    { provider })`, `kind` being `'first-token'`, `'idle'` or `'total'`.
 * 6. A source error or completion stops every clock and is passed through unchanged.
 * 7. Cold: each subscription starts its own clocks. Unsubscribing stops them and unsubscribes
 *    from the source.
 *
 * Place it before `retryBackoff` to time each attempt (a `TimeoutError` is never retried, so the
 * router can fail over at once), or after it to bound the whole retried stream.
 *
 * ```
 * firstToken: 6, idle: 3    (r = role-only, e = empty keep-alive, a = b = content)
 *
 * source:    -r-e-e-e-a-|    e resets idle, but not first-token
 * timeouts:  -r-e-e#         TimeoutError('first-token', 6) at frame 6
 * upstream:  ^-----!         unsubscribed (request aborted) at the same frame
 *
 * source:    -a-----b|
 * timeouts:  -a--#           TimeoutError('idle', 3) at frame 4 = 1 + 3
 * upstream:  ^---!
 * ```
 *
 * ## Example
 *
 * ```ts
 * import { concat, of, timer, map } from 'rxjs';
 * import { timeouts, type StreamingChunk } from 'rx-llm-router';
 *
 * const chunk = (content: string): StreamingChunk => ({
 *   id: 'c', object: 'chat.completion.chunk', created: 0, model: 'm', provider: 'slow',
 *   choices: [{ index: 0, delta: { content }, finish_reason: null }],
 * });
 * // Sends a role-only chunk at once, then nothing for 5 seconds.
 * const stream$ = concat(of(chunk('')), timer(5_000).pipe(map(() => chunk('Hello'))));
 *
 * stream$.pipe(timeouts({ firstToken: 1_000, idle: 10_000, total: 60_000 })).subscribe({
 *   next: (c) => console.log(c.choices[0]?.delta.content),
 *   error: (e: unknown) => console.error(e), // TimeoutError, kind 'first-token', after 1 s
 * });
 * ```
 *
 * @see {@link retryBackoff}
 * @param config The limits, in ms, and the scheduler. Each limit is optional.
 * @return A function that returns an Observable mirroring the source, or erroring with a
 * {@link TimeoutError} when a limit is exceeded.
 */
export function timeouts<T extends StreamingChunk>(
  config: TimeoutsConfig = {},
): MonoTypeOperatorFunction<T> {
  const { firstToken, idle, total, provider, scheduler = asyncScheduler } = config;
  const firstTokenMs = checkLimit('firstToken', firstToken);
  const idleMs = checkLimit('idle', idle);
  const totalMs = checkLimit('total', total);

  return (source) =>
    new Observable<T>((subscriber) => {
      let firstTokenClock: Subscription | undefined;
      const upstream = new Subscription();
      let lastProvider: string | undefined;
      let stopped = false;

      const stopClocks = (): void => {
        stopped = true;
        firstTokenClock?.unsubscribe();
        idleClock?.unsubscribe();
        totalClock?.unsubscribe();
      };

      const arm = (kind: TimeoutKind, ms: number | undefined): Subscription | undefined =>
        ms === undefined
          ? undefined
          : scheduler.schedule(() => {
              if (stopped) return;
              stopClocks();
              upstream.unsubscribe(); // abort the request before anyone reacts to the error
              subscriber.error(new TimeoutError(kind, ms, { provider: provider ?? lastProvider }));
            }, ms);

      // The idle clock is not re-armed per chunk (a timer cleared and set per chunk is costly at
      // thousands of chunks per second): each chunk notes the time, and when the clock fires
      // early it re-arms itself for what is left of the quiet period.
      let lastActivity = scheduler.now();
      const armIdle = (ms: number | undefined): Subscription | undefined =>
        ms === undefined
          ? undefined
          : scheduler.schedule(function (this: SchedulerAction<unknown>) {
              if (stopped) return;
              const quiet = scheduler.now() - lastActivity;
              if (quiet < ms) {
                this.schedule(undefined, ms - quiet);
                return;
              }
              stopClocks();
              upstream.unsubscribe();
              subscriber.error(
                new TimeoutError('idle', ms, { provider: provider ?? lastProvider }),
              );
            }, ms);

      // Armed before subscribing, so a chunk emitted synchronously on subscription counts.
      firstTokenClock = arm('first-token', firstTokenMs);
      const idleClock = armIdle(idleMs);
      const totalClock = arm('total', totalMs);

      upstream.add(
        source.subscribe({
          next(chunk) {
            if (stopped) return;
            lastProvider = chunk.provider;
            if (firstTokenClock !== undefined && isContentChunk(chunk)) {
              firstTokenClock.unsubscribe();
              firstTokenClock = undefined;
            }
            if (idleClock !== undefined) lastActivity = scheduler.now();
            subscriber.next(chunk);
          },
          error(error: unknown) {
            stopClocks();
            subscriber.error(error);
          },
          complete() {
            stopClocks();
            subscriber.complete();
          },
        }),
      );

      return () => {
        stopClocks();
        upstream.unsubscribe();
      };
    });
}

function checkLimit(name: string, value: number | undefined): number | undefined {
  if (value === undefined || value === Infinity) return undefined;
  if (typeof value !== 'number' || Number.isNaN(value) || value <= 0) {
    throw new RangeError(
      `timeouts: ${name} must be a positive number of milliseconds (or undefined for no limit), got ${String(value)}.`,
    );
  }
  return value;
}
