import {
  Observable,
  Subscription,
  asyncScheduler,
  isObservable,
  type ObservableNotification,
  type SchedulerLike,
} from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import type { StreamingChunk } from '../chunk/streaming-chunk';
import type { Provider, ProviderStreamOptions } from '../providers/provider';
import type { ChatRequest } from '../request/chat-request';
import { FAKE_PROVIDER, textChunk } from './chunk-builders';
import { httpError } from './error-builders';

/**
 * One scripted answer, as a marble diagram (rxjs marble syntax, as in `cold()`).
 *
 * - A letter emits `values[letter]`; a letter missing from `values` emits
 *   `textChunk(letter, { provider: <the fake's name> })`.
 * - `#` errors with `error`: a number is an HTTP status turned into the typed error the real
 *   HTTP layer raises ({@link httpError}: `503` → retryable `ProviderError`, `429` →
 *   `RateLimitError`, ...); anything else is used as is; missing, it is `httpError(500)`.
 * - `|` completes; `-` is one frame; `(ab)` groups; `10ms` time progression works (after a space).
 * - No `^` and no `!`: a provider stream is cold, it starts when subscribed.
 */
export interface FakeAttemptScript {
  marble: string;
  values?: Readonly<Record<string, StreamingChunk>>;
  error?: unknown;
}

/** What a function attempt is called with. */
export interface FakeAttemptContext {
  /** The attempt's number, from 0. */
  attempt: number;
  request: ChatRequest;
  signal: AbortSignal | undefined;
}

/**
 * One attempt of a {@link fakeProvider}: a marble string (`'-a-b|'`, letters as text chunks),
 * a {@link FakeAttemptScript}, any Observable (`cold(...)` from `TestScheduler.run`, `of(...)`),
 * or a function that builds the attempt's Observable.
 */
export type FakeAttempt =
  | string
  | FakeAttemptScript
  | Observable<StreamingChunk>
  | ((context: FakeAttemptContext) => Observable<StreamingChunk>);

/** Options of {@link fakeProvider}. */
export interface FakeProviderOptions {
  /** The provider's name, used by default chunks and shorthand errors. Default `'fake'`. */
  name?: string;
  /**
   * The script: attempt `i` (the `i`-th subscription to `stream()`, from 0) plays `attempts[i]`,
   * and the last one repeats. A single attempt may be given without the array.
   */
  attempts: FakeAttempt | readonly FakeAttempt[];
  /**
   * The scheduler that plays marble scripts and stamps attempt frames. Default `asyncScheduler`:
   * virtual time inside `TestScheduler.run`, real time (one frame = 10 ms, rxjs's frame factor)
   * outside it.
   */
  scheduler?: SchedulerLike;
}

/** How an attempt ended: still running, completed, errored, unsubscribed by the consumer, or aborted through its `signal`. */
export type FakeAttemptOutcome = 'active' | 'completed' | 'errored' | 'unsubscribed' | 'aborted';

/** What a {@link fakeProvider} recorded of one attempt. Updated live as the attempt runs. */
export interface FakeAttemptRecord {
  /** The attempt's number, from 0. */
  readonly attempt: number;
  readonly request: ChatRequest;
  readonly signal: AbortSignal | undefined;
  /** `scheduler.now()` at subscription: the frame under `TestScheduler.run`. */
  readonly subscribedFrame: number;
  /** `scheduler.now()` when the attempt ended, for whatever reason; `Infinity` while active. */
  readonly unsubscribedFrame: number;
  readonly outcome: FakeAttemptOutcome;
  /** Chunks emitted so far. */
  readonly emitted: number;
  /** The error the attempt ended with, if any. */
  readonly error: unknown;
}

/** The subscription log type of `expectSubscriptions` (not exported by `rxjs/testing`). */
export type FakeSubscriptionLog = Parameters<TestScheduler['expectSubscriptions']>[0][number];

/** A {@link Provider} that plays scripted attempts and records them. */
export interface FakeProvider extends Provider {
  /** Every attempt so far, in order; each record is updated live. */
  readonly attempts: readonly FakeAttemptRecord[];
  /** The requests of the attempts, in order. */
  readonly requests: readonly ChatRequest[];
  /**
   * Subscription logs of the attempts, for `expectSubscriptions(provider.subscriptions)`
   * inside `TestScheduler.run`. The array is live: it fills as attempts run.
   */
  readonly subscriptions: FakeSubscriptionLog[];
}

interface MutableRecord {
  attempt: number;
  request: ChatRequest;
  signal: AbortSignal | undefined;
  subscribedFrame: number;
  unsubscribedFrame: number;
  outcome: FakeAttemptOutcome;
  emitted: number;
  error: unknown;
}

/**
 * A scripted {@link Provider} for tests: each call's answer is a marble diagram (or any
 * Observable), played on the scheduler, so pipelines can be marble-tested under virtual time.
 *
 * 1. `stream()` is cold, like a real provider: each subscription is one attempt, which plays
 *    `attempts[i]` (the last one repeats), e.g. "first attempt 503, then an answer".
 * 2. Every attempt is recorded (`attempts`, `requests`, `subscriptions`): its request, the frame
 *    it was subscribed and ended at, how it ended, and how many chunks it emitted.
 * 3. Unsubscribing stops the script (as aborting a request does). An aborted `signal` errors the
 *    attempt with `signal.reason`, as the provider contract says.
 * 4. It uses no test-runner API, and runs in real time outside `TestScheduler.run`.
 *
 * ```ts
 * const provider = fakeProvider({
 *   name: 'p1',
 *   attempts: [
 *     { marble: '--#', error: 503 }, // first attempt: HTTP 503, retryable
 *     { marble: '-a-b|', values: { a: textChunk('Hi'), b: finishChunk('stop') } },
 *   ],
 * });
 * ```
 */
export function fakeProvider(options: FakeProviderOptions): FakeProvider {
  const { name = FAKE_PROVIDER, scheduler = asyncScheduler } = options;
  const script: readonly FakeAttempt[] = isAttemptList(options.attempts)
    ? options.attempts
    : [options.attempts];
  if (script.length === 0) {
    throw new RangeError('fakeProvider: `attempts` is empty; give at least one attempt.');
  }
  const plays = script.map((attempt, i) => compile(attempt, i, name, scheduler));
  const records: MutableRecord[] = [];
  const logs: FakeSubscriptionLog[] = [];

  const stream = (
    request: ChatRequest,
    streamOptions: ProviderStreamOptions = {},
  ): Observable<StreamingChunk> =>
    new Observable<StreamingChunk>((subscriber) => {
      const { signal } = streamOptions;
      const attempt = records.length;
      const record: MutableRecord = {
        attempt,
        request,
        signal,
        subscribedFrame: scheduler.now(),
        unsubscribedFrame: Infinity,
        outcome: 'active',
        emitted: 0,
        error: undefined,
      };
      // A genuine SubscriptionLog (the class is not exported), for strict-equality runners too.
      const log = TestScheduler.parseMarblesAsSubscriptions(null);
      log.subscribedFrame = record.subscribedFrame;
      records.push(record);
      logs.push(log);

      const end = (outcome: FakeAttemptOutcome, error?: unknown): void => {
        if (record.outcome !== 'active') return;
        record.outcome = outcome;
        record.error = error;
      };
      const subscription = new Subscription(() => {
        end('unsubscribed');
        record.unsubscribedFrame = scheduler.now();
        log.unsubscribedFrame = record.unsubscribedFrame;
      });
      subscriber.add(subscription);

      if (signal?.aborted === true) {
        end('aborted', signal.reason);
        subscriber.error(signal.reason);
        return;
      }
      if (signal !== undefined) {
        const onAbort = (): void => {
          end('aborted', signal.reason);
          subscriber.error(signal.reason);
        };
        signal.addEventListener('abort', onAbort, { once: true });
        subscription.add(() => {
          signal.removeEventListener('abort', onAbort);
        });
      }
      const play = plays[Math.min(attempt, plays.length - 1)] as Play;
      subscription.add(
        play({ attempt, request, signal }).subscribe({
          next: (chunk) => {
            record.emitted++;
            subscriber.next(chunk);
          },
          error: (error: unknown) => {
            end('errored', error);
            subscriber.error(error);
          },
          complete: () => {
            end('completed');
            subscriber.complete();
          },
        }),
      );
    });

  return {
    name,
    stream,
    attempts: records,
    get requests() {
      return records.map((r) => r.request);
    },
    subscriptions: logs,
  };
}

type Play = (context: FakeAttemptContext) => Observable<StreamingChunk>;

function isAttemptList(value: FakeProviderOptions['attempts']): value is readonly FakeAttempt[] {
  return Array.isArray(value);
}

function compile(
  attempt: FakeAttempt,
  index: number,
  name: string,
  scheduler: SchedulerLike,
): Play {
  if (typeof attempt === 'function') return attempt;
  if (isObservable(attempt)) return () => attempt;
  const { marble, values, error } = typeof attempt === 'string' ? { marble: attempt } : attempt;
  if (typeof marble !== 'string') {
    throw new TypeError(
      `fakeProvider: attempt ${index} is not a marble string, a { marble, values, error } script, an Observable or a function.`,
    );
  }
  for (const forbidden of ['^', '!']) {
    if (marble.includes(forbidden)) {
      throw new SyntaxError(
        `fakeProvider: attempt ${index}'s marble ${JSON.stringify(marble)} has a "${forbidden}": a provider stream is cold and starts when subscribed, so remove it.`,
      );
    }
  }
  const errorValue =
    error === undefined
      ? httpError(500, { provider: name })
      : typeof error === 'number'
        ? httpError(error, { provider: name })
        : error;
  return () => playMarble(marble, values ?? {}, errorValue, name, scheduler);
}

/** Plays a marble diagram on `scheduler`, relative to the subscription, like `cold()` does. */
function playMarble(
  marble: string,
  values: Readonly<Record<string, StreamingChunk>>,
  error: unknown,
  name: string,
  scheduler: SchedulerLike,
): Observable<StreamingChunk> {
  return new Observable<StreamingChunk>((subscriber) => {
    // Parsed at subscription time, so the frame factor is the one in force (1 inside `run`).
    const messages = TestScheduler.parseMarbles(marble, undefined, undefined, false, true);
    const deliver = (notification: ObservableNotification<string>): void => {
      switch (notification.kind) {
        case 'N': {
          const letter = notification.value;
          subscriber.next(values[letter] ?? textChunk(letter, { provider: name }));
          break;
        }
        case 'E':
          subscriber.error(error);
          break;
        case 'C':
          subscriber.complete();
          break;
      }
    };
    const subscription = new Subscription();
    for (const { frame, notification } of messages) {
      subscription.add(
        scheduler.schedule(() => {
          deliver(notification as ObservableNotification<string>);
        }, frame),
      );
    }
    return subscription;
  });
}

/** Options of {@link chunkScript}. */
export interface ChunkScriptOptions {
  /** Frames (dashes) before each chunk. Default 1. */
  gap?: number;
  /** How the script ends: `'|'` completes (default), `'#'` errors with `error`, `''` never ends. */
  end?: '|' | '#' | '';
  /** The error of a `'#'` end, as in {@link FakeAttemptScript.error}. */
  error?: unknown;
}

const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

/**
 * A {@link FakeAttemptScript} that plays `chunks` one by one, `gap` frames apart, then `end`:
 * `chunkScript(chunksFromText('Hello world'))` is `{ marble: '-a-b-c-d|', values: {a: …, …} }`.
 */
export function chunkScript(
  chunks: readonly StreamingChunk[],
  options: ChunkScriptOptions = {},
): FakeAttemptScript {
  const { gap = 1, end = '|', error } = options;
  if (!Number.isInteger(gap) || gap < 0) {
    throw new RangeError(`chunkScript: gap must be a whole number of frames ≥ 0, got ${gap}.`);
  }
  if (chunks.length > LETTERS.length) {
    throw new RangeError(
      `chunkScript: at most ${LETTERS.length} chunks fit in one marble, got ${chunks.length}; write the marble by hand or use an Observable attempt.`,
    );
  }
  const values: Record<string, StreamingChunk> = {};
  let marble = '';
  chunks.forEach((chunk, i) => {
    const letter = LETTERS[i] as string;
    values[letter] = chunk;
    marble += '-'.repeat(gap) + letter;
  });
  marble += end;
  return error === undefined ? { marble, values } : { marble, values, error };
}
