import {
  Observable,
  Subscription,
  asyncScheduler,
  type MonoTypeOperatorFunction,
  type SchedulerLike,
  type Subscriber,
} from 'rxjs';
import { IncompleteStreamError } from '../errors/incomplete-stream-error';
import { currentFlow, runWithFlow } from '../flow/flow-control';

/** What a subscriber arriving after a {@link SharedStream} was abandoned gets. */
export type AfterAbandon = 'error' | 'restart';

/** Where a {@link SharedStream} is in its life. */
export type SharedStreamStatus =
  /** Nobody has subscribed yet (or, with `afterAbandon: 'restart'`, since it was abandoned). */
  | 'idle'
  /** The upstream request is running. */
  | 'streaming'
  /** The upstream completed; every subscriber gets the replay, then the completion. */
  | 'completed'
  /** The upstream failed; every subscriber gets the replay, then the error. */
  | 'errored'
  /** Every subscriber left before the end, so the upstream request was aborted. */
  | 'abandoned'
  /** {@link SharedStream.cancel} stopped it. */
  | 'cancelled';

/**
 * How a {@link SharedStream} keeps its recording small: each value is recorded as what `pack`
 * returns, and rebuilt with `unpack` for a subscriber that reads it from the recording. The
 * subscriber that gets a value live gets the original object.
 *
 * `unpack(pack(value, previous), previous)` must equal `value` (deeply) for every value, given
 * the value before it (undefined for the first). See `compactChunkRecording` for chunks.
 */
export interface RecordingCodec<T> {
  /** What to record for `value`, which follows `previous`: a smaller form, or `value` itself. */
  pack(value: T, previous: T | undefined): unknown;
  /** Rebuilds a value from what {@link RecordingCodec.pack} returned, given the value before it. */
  unpack(recorded: unknown, previous: T | undefined): T;
}

/** Configuration of {@link shareStream} and {@link SharedStream}. */
export interface ShareStreamConfig<T = unknown> {
  /**
   * What a subscriber gets when it arrives after every earlier subscriber left mid-stream (which
   * aborted the paid request):
   * - `'error'` (default): the chunks that had arrived, then an {@link IncompleteStreamError}.
   *   An aborted answer is never passed off as complete, and a new paid call is never made
   *   behind the caller's back; a retry or failover further down the pipe may still decide to.
   * - `'restart'`: the shared state is dropped and the subscriber starts a new upstream request
   *   (what `share()` with `resetOnRefCountZero: true` does).
   */
  afterAbandon?: AfterAbandon;
  /**
   * How long the upstream keeps running after the last subscriber left, in ms, so that a client
   * that reconnects at once (a page reload, an SSE reconnect) finds the stream still live. The
   * request is aborted only if nobody attached in the meantime. Default 0: aborted at once.
   */
  keepAliveMs?: number;
  /** The scheduler of the `keepAliveMs` wait. Default: `asyncScheduler` (virtual under `TestScheduler.run`). */
  scheduler?: SchedulerLike;
  /**
   * Whose backpressure the upstream follows:
   * - `'none'` (default): the provider's pace; one slow `for await` consumer does not pause the
   *   others, and the recording absorbs the difference.
   * - `'first'`: the flow control of the subscriber that started the upstream (see
   *   `toAsyncIterable`), so a slow primary consumer pauses the socket; later subscribers read
   *   from the recording and never pause it.
   */
  upstreamFlow?: 'none' | 'first';
  /**
   * Records values in a compact form (see {@link RecordingCodec}). Default: values are recorded
   * as they are.
   */
  recording?: RecordingCodec<T>;
}

interface Reader<T> {
  subscriber: Subscriber<T>;
  /** The index of the next value this subscriber gets. */
  cursor: number;
  /** True while a drain loop runs for this reader, so a re-entrant emission does not reorder. */
  draining: boolean;
  /**
   * With a recording codec: the last value this reader got (readers go in order, so it is the
   * value before `cursor`), or undefined before the first.
   */
  previous: T | undefined;
}

/**
 * One upstream stream, recorded and shared: every value is kept, in order, so that any number
 * of subscribers can {@link SharedStream.attach | attach} at any time, from any index, and get
 * the same values without a second upstream subscription (a second paid request).
 *
 * This is the state behind {@link shareStream}; create one directly when you need more than
 * one view of the stream: `attach(fromIndex)` for a reconnecting client, `status`, `length`,
 * `snapshot()` and `cancel()` for a sessions list.
 *
 * ```ts
 * const session = new SharedStream(provider.stream(request));
 * session.attach().subscribe(render); // starts the request
 * // later, a client reconnects after having seen 12 chunks:
 * session.attach(12).subscribe(sendToClient); // chunks 12.. so far, then the live ones
 * ```
 */
export class SharedStream<T> {
  readonly #source: Observable<T>;
  readonly #afterAbandon: AfterAbandon;
  readonly #keepAliveMs: number;
  readonly #scheduler: SchedulerLike;
  readonly #upstreamFlow: 'none' | 'first';
  readonly #codec: RecordingCodec<T> | undefined;
  /** What is recorded for each value: the value itself, or its packed form with a codec. */
  #recorded: unknown[] = [];
  /** The last value, as it arrived: what a reader that is caught up gets. */
  #last: T | undefined;
  readonly #readers = new Set<Reader<T>>();
  #status: SharedStreamStatus = 'idle';
  #error: unknown;
  #connection: Subscription | undefined;
  #pendingAbandon: Subscription | undefined;

  constructor(source: Observable<T>, config: ShareStreamConfig<T> = {}) {
    const {
      afterAbandon = 'error',
      keepAliveMs = 0,
      scheduler = asyncScheduler,
      upstreamFlow = 'none',
      recording,
    } = config;
    validate(afterAbandon, keepAliveMs);
    if ((upstreamFlow as unknown) !== 'none' && (upstreamFlow as unknown) !== 'first') {
      throw new RangeError(
        `SharedStream: upstreamFlow must be 'none' or 'first', got ${JSON.stringify(upstreamFlow)}.`,
      );
    }
    this.#upstreamFlow = upstreamFlow;
    this.#codec = recording;
    this.#source = source;
    this.#afterAbandon = afterAbandon;
    this.#keepAliveMs = keepAliveMs;
    this.#scheduler = scheduler;
  }

  /** Where the stream is in its life. */
  get status(): SharedStreamStatus {
    return this.#status;
  }

  /** How many values have arrived so far (the index the next live value will have). */
  get length(): number {
    return this.#recorded.length;
  }

  /** How many subscribers are attached right now. */
  get subscriberCount(): number {
    return this.#readers.size;
  }

  /** A copy of the values that have arrived so far. */
  snapshot(): T[] {
    return this.#unpacked(this.#recorded.length);
  }

  /**
   * An Observable of the stream from value `fromIndex` on (default 0, the whole stream).
   *
   * 1. The first subscription to any attached Observable subscribes to the upstream, once.
   * 2. Each subscriber gets, synchronously, the values from `fromIndex` that have arrived, then
   *    the live ones, then the end of the stream (completion or error), in order. If `fromIndex`
   *    is past what has arrived, values are skipped until the stream reaches it.
   * 3. When the last subscriber leaves before the end, the upstream is unsubscribed (the request
   *    aborted), after `keepAliveMs`; see {@link ShareStreamConfig.afterAbandon} for what a later
   *    subscriber gets.
   *
   * @param fromIndex The index of the first value to get: a whole number ≥ 0.
   */
  attach(fromIndex = 0): Observable<T> {
    if (!Number.isInteger(fromIndex) || fromIndex < 0) {
      throw new RangeError(
        `SharedStream.attach: fromIndex must be a whole number ≥ 0 (the index of the first value to replay), got ${String(fromIndex)}.`,
      );
    }
    return new Observable<T>((subscriber) => {
      const reader: Reader<T> = {
        subscriber,
        cursor: fromIndex,
        draining: false,
        previous: undefined,
      };
      this.#readers.add(reader);
      this.#pendingAbandon?.unsubscribe();
      this.#pendingAbandon = undefined;
      // Added before connecting, so that a subscriber that leaves during a synchronous
      // emission (`take(1)`) is counted out at once.
      subscriber.add(() => {
        this.#readers.delete(reader);
        if (this.#readers.size === 0 && this.#status === 'streaming') this.#leave();
      });
      if (this.#status === 'idle') this.#connect();
      this.#drain(reader);
    });
  }

  /**
   * Stops the stream for good: aborts the upstream request if it is running, and ends every
   * present and future subscriber with the values so far, then `reason` (default: an
   * {@link IncompleteStreamError}). Does nothing once the stream has ended.
   */
  cancel(reason?: unknown): void {
    if (this.#status !== 'idle' && this.#status !== 'streaming') return;
    this.#pendingAbandon?.unsubscribe();
    this.#pendingAbandon = undefined;
    const connection = this.#connection;
    this.#connection = undefined;
    this.#status = 'cancelled';
    this.#error =
      reason ??
      new IncompleteStreamError(
        `The shared stream was cancelled after ${this.#recorded.length} values, before it finished.`,
        { partialText: partialText(this.snapshot()) },
      );
    connection?.unsubscribe();
    this.#broadcast();
  }

  #connect(): void {
    this.#status = 'streaming';
    const connection = new Subscription();
    this.#connection = connection;
    const live = (): boolean => this.#connection === connection;
    // By default the upstream runs at the provider's pace: one slow subscriber's backpressure (a
    // `for await` loop) must not pause the others, and the recording absorbs the difference.
    // With `upstreamFlow: 'first'`, the subscriber connecting now (we are inside its subscribe)
    // keeps its flow control.
    const flow = this.#upstreamFlow === 'first' ? currentFlow() : undefined;
    const upstream = runWithFlow(flow, () =>
      this.#source.subscribe({
        next: (value) => {
          if (!live()) return;
          const codec = this.#codec;
          this.#recorded.push(codec === undefined ? value : codec.pack(value, this.#last));
          this.#last = value;
          this.#broadcast();
        },
        error: (error: unknown) => {
          if (live()) this.#end('errored', error);
        },
        complete: () => {
          if (live()) this.#end('completed', undefined);
        },
      }),
    );
    // If every subscriber left during a synchronous emission, `connection` is already closed
    // and this unsubscribes the upstream at once.
    connection.add(upstream);
  }

  #end(status: 'completed' | 'errored', error: unknown): void {
    this.#connection = undefined;
    this.#status = status;
    this.#error = error;
    this.#broadcast();
  }

  #leave(): void {
    if (this.#keepAliveMs === 0) {
      this.#abandon();
      return;
    }
    this.#pendingAbandon = this.#scheduler.schedule(() => {
      this.#pendingAbandon = undefined;
      if (this.#readers.size === 0 && this.#status === 'streaming') this.#abandon();
    }, this.#keepAliveMs);
  }

  #abandon(): void {
    const connection = this.#connection;
    this.#connection = undefined;
    if (this.#afterAbandon === 'restart') {
      this.#status = 'idle';
      this.#recorded = [];
      this.#last = undefined;
    } else {
      this.#status = 'abandoned';
      this.#error = new IncompleteStreamError(
        `The shared stream was abandoned after ${this.#recorded.length} values: every subscriber ` +
          `left before it finished, so its request was aborted. A later subscriber gets what had ` +
          `arrived, then this error; use \`afterAbandon: 'restart'\` to send a new request instead.`,
        { partialText: partialText(this.snapshot()) },
      );
    }
    connection?.unsubscribe();
  }

  #broadcast(): void {
    // No copy: a reader that leaves during the loop is skipped, one that joins is drained
    // already (its cursor guards against a second delivery).
    for (const reader of this.#readers) this.#drain(reader);
  }

  /** The value at `index` for `reader`: as recorded, as it arrived, or rebuilt by the codec. */
  #valueFor(reader: Reader<T>, index: number): T {
    const codec = this.#codec;
    if (codec === undefined) return this.#recorded[index] as T;
    let value: T;
    if (index === this.#recorded.length - 1) {
      value = this.#last as T;
    } else {
      // A reader that joined mid-recording has no value before its first: it is rebuilt.
      const previous = index === 0 ? undefined : (reader.previous ?? this.#unpacked(index).at(-1));
      value = codec.unpack(this.#recorded[index], previous);
    }
    reader.previous = value;
    return value;
  }

  /** The first `end` values, rebuilt from the recording in order. */
  #unpacked(end: number): T[] {
    const codec = this.#codec;
    const recorded = this.#recorded.slice(0, end);
    if (codec === undefined) return recorded as T[];
    let previous: T | undefined;
    return recorded.map((item) => (previous = codec.unpack(item, previous)));
  }

  #drain(reader: Reader<T>): void {
    if (reader.draining) return; // the outer loop of this reader picks the new value up
    const { subscriber } = reader;
    reader.draining = true;
    try {
      while (!subscriber.closed && reader.cursor < this.#recorded.length) {
        subscriber.next(this.#valueFor(reader, reader.cursor++));
      }
    } finally {
      reader.draining = false;
    }
    if (subscriber.closed) return;
    if (this.#status === 'completed') subscriber.complete();
    else if (
      this.#status === 'errored' ||
      this.#status === 'abandoned' ||
      this.#status === 'cancelled'
    ) {
      subscriber.error(this.#error);
    }
  }
}

/**
 * Multicasts a paid stream: one upstream request, however many subscribers, each of which gets
 * the whole stream from its first value.
 *
 * <span class="informal">Like `share()` with a full replay, that never re-runs a request that
 * completed or failed.</span>
 *
 * 1. The first subscriber subscribes to the upstream; later ones never do while it runs.
 * 2. A late subscriber gets, synchronously, every value so far, then the live ones.
 * 3. After the upstream completes, a new subscriber gets the replay and the completion; after it
 *    fails, the replay and the same error. The request is never re-run (`share()` re-runs it
 *    after completion, `share({ resetOnError: true })` after an error).
 * 4. When the last subscriber leaves before the end, the upstream is unsubscribed, which aborts
 *    the request (after `keepAliveMs`, default 0). A subscriber arriving after that gets the
 *    values that had arrived, then an {@link IncompleteStreamError} (`afterAbandon: 'error'`,
 *    the default), or starts a new request (`afterAbandon: 'restart'`).
 * 5. Memory: the values of this one stream, kept while the returned Observable is reachable.
 * 6. The upstream is subscribed with no flow control, so one slow `for await` consumer does not
 *    pause the others; the recording absorbs the difference (`upstreamFlow: 'first'` lets the
 *    first subscriber's backpressure through).
 *
 * Each call of the returned operator function makes one {@link SharedStream}; use that class
 * directly to attach from an index or to cancel.
 *
 * ```
 * source:       -a-b----c|
 * first:        -a-b----c|
 * late (at 4):  ----(ab)c|        the replay at once, then live
 * after (at 10):----------(abc|)  the replay and the completion, no new request
 * source subs:  ^--------!        one subscription, however many subscribers
 *
 * source:       -a-b-c|
 * only one:     ^--!              leaves at 3: the request is aborted
 * late (at 5):  -----(a#)         # = IncompleteStreamError (afterAbandon: 'error')
 * source subs:  ^--!
 * ```
 *
 * A subscriber that leaves and one that arrives in the same tick (a resubscribing consumer) see
 * the request aborted in between, as with `share()`; give `keepAliveMs` a few ms to hand over.
 *
 * ## Example
 *
 * ```ts
 * import { Observable, interval, map, take } from 'rxjs';
 * import { shareStream } from 'rx-llm-router';
 *
 * let requests = 0;
 * const paid$ = new Observable<string>((subscriber) => {
 *   requests++; // one paid request per upstream subscription
 *   return interval(100)
 *     .pipe(take(3), map((i) => ['Hello', ' shared', ' world'][i] ?? ''))
 *     .subscribe(subscriber);
 * }).pipe(shareStream());
 *
 * paid$.subscribe((word) => console.log('first:', word));
 * setTimeout(() => {
 *   paid$.subscribe((word) => console.log('late:', word)); // "Hello" at once, then the rest
 * }, 150);
 * setTimeout(() => {
 *   paid$.subscribe({ complete: () => console.log('requests:', requests) }); // requests: 1
 * }, 500);
 * ```
 *
 * @see {@link SharedStream}
 * @param config What happens after every subscriber left, and how long to wait before aborting.
 * @return A function that returns an Observable sharing one subscription to the source, with a
 * full replay for late subscribers.
 */
export function shareStream<T>(config: ShareStreamConfig<T> = {}): MonoTypeOperatorFunction<T> {
  const { afterAbandon = 'error', keepAliveMs = 0 } = config;
  validate(afterAbandon, keepAliveMs); // fail at pipe time, not at the first subscription
  return (source) => new SharedStream(source, config).attach();
}

function validate(afterAbandon: unknown, keepAliveMs: unknown): void {
  if (afterAbandon !== 'error' && afterAbandon !== 'restart') {
    throw new RangeError(
      `shareStream: afterAbandon must be 'error' or 'restart', got ${JSON.stringify(afterAbandon)}.`,
    );
  }
  if (typeof keepAliveMs !== 'number' || !Number.isFinite(keepAliveMs) || keepAliveMs < 0) {
    throw new RangeError(
      `shareStream: keepAliveMs must be a finite number of milliseconds ≥ 0, got ${String(keepAliveMs)}.`,
    );
  }
}

/** The text of chunk-shaped values (choice 0's content), for an error's `partialText`. */
function partialText(values: readonly unknown[]): string {
  let text = '';
  for (const value of values) {
    if (typeof value !== 'object' || value === null) continue;
    const { choices } = value as { choices?: unknown };
    if (!Array.isArray(choices)) continue;
    for (const choice of choices as unknown[]) {
      const c = choice as { index?: unknown; delta?: { content?: unknown } } | null;
      if (c?.index === 0 && typeof c.delta?.content === 'string') text += c.delta.content;
    }
  }
  return text;
}
