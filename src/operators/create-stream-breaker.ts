import CircuitBreaker from 'opossum';
import { CircuitOpenError } from '../errors/circuit-open-error';
import { hasErrorCode, isRouterError } from '../errors/router-error';

/**
 * What a {@link StreamBreaker} runs: a function whose promise settles the way the stream ended.
 * The breaker's action is `(task) => task()`; {@link circuitBreaker} fires it once per stream,
 * when the stream has ended.
 */
export type StreamBreakerTask = () => Promise<void>;

/** An opossum `CircuitBreaker` made by {@link createStreamBreaker}. */
export type StreamBreaker = CircuitBreaker<[task: StreamBreakerTask], void>;

/** Options of {@link createStreamBreaker}. Every field is optional; see the defaults. */
export interface StreamBreakerOptions {
  /** The provider the breaker guards, put on every `CircuitOpenError` it raises. */
  provider?: string;
  /** The breaker's name in opossum's stats and events. Default: `provider`, else a UUID. */
  name?: string;
  /**
   * The error rate, in percent of the streams recorded in the window, above which the breaker
   * opens. Default 50.
   */
  errorThresholdPercentage?: number;
  /**
   * How many streams must have been recorded in the window before the error rate can open the
   * breaker. Default 5 (opossum's 0 opens a fresh breaker on its first failure).
   */
  volumeThreshold?: number;
  /** How long the breaker stays open before it lets one trial stream through, in ms. Default 30 000. */
  resetTimeout?: number;
  /**
   * The length of the rolling window of recorded outcomes, in ms. Default 30 000, equal to
   * `resetTimeout`, so the failures that opened the breaker have left the window when it closes
   * again (opossum never clears the window on close).
   */
  rollingCountTimeout?: number;
  /** How many buckets the window rotates through. Default 6 (one every 5 s). */
  rollingCountBuckets?: number;
  /** Ignore every failure during the first window after creation. Default false. */
  allowWarmUp?: boolean;
  /** Emit opossum's `snapshot` event on the status at every bucket. Default false (one timer less). */
  enableSnapshots?: boolean;
  /** Rotates the buckets of many breakers from one emitter (`'rotate'`) instead of a timer each. */
  rotateBucketController?: CircuitBreaker.Options['rotateBucketController'];
  /**
   * Only `false` is accepted, and it is the default: opossum's `timeout` rejects the call without
   * stopping the stream, and a long answer is not a failure. Use `timeouts()` upstream.
   */
  timeout?: false;
  /**
   * Decides whether a stream's error counts as a failure. Errors it returns false for are not
   * recorded at all: neither a failure nor a success. Default: {@link isBreakerFailure}.
   */
  isFailure?: (error: unknown) => boolean;
}

/** The defaults {@link createStreamBreaker} applies, with opossum's in the comments. */
export const STREAM_BREAKER_DEFAULTS = {
  /** opossum: 50. */
  errorThresholdPercentage: 50,
  /** opossum: 0, which opens a fresh breaker on its first failure. */
  volumeThreshold: 5,
  /** opossum: 30 000. */
  resetTimeout: 30_000,
  /** opossum: 10 000. */
  rollingCountTimeout: 30_000,
  /** opossum: 10. */
  rollingCountBuckets: 6,
  /** opossum: false. */
  allowWarmUp: false,
  /** opossum: true. */
  enableSnapshots: false,
} as const;

/**
 * The default `isFailure` of {@link createStreamBreaker}: whether a stream's error says the
 * provider is unhealthy.
 *
 * - Counted: retryable {@link RouterError}s (network errors, 5xx and overloaded, timeouts, parse
 *   errors, streams cut short) and any error that is not a `RouterError`.
 * - Not counted: `RateLimitError` (the router's cooldown handles 429s, quota ones included),
 *   `CircuitOpenError` (nothing was sent) and every non-retryable `RouterError`: invalid request,
 *   context length, content filter, not found, authentication, validation, budget. The request
 *   or our configuration is at fault there, and opening the breaker would hide that error behind
 *   a retryable `CircuitOpenError`.
 */
export function isBreakerFailure(error: unknown): boolean {
  if (!isRouterError(error)) return true;
  if (hasErrorCode(error, 'RXLLM_RATE_LIMITED') || hasErrorCode(error, 'RXLLM_CIRCUIT_OPEN')) {
    return false;
  }
  return error.isRetryable;
}

/**
 * Creates an opossum `CircuitBreaker` set up for streams, with the defaults in
 * {@link STREAM_BREAKER_DEFAULTS} and `timeout: false`. Pass it to {@link circuitBreaker}; share
 * one per provider (or per candidate) between every stream that goes there.
 *
 * <span class="informal">opossum, with the stream traps taken out.</span>
 *
 * 1. `timeout` is forced to `false`. Options that are traps for streams throw a `TypeError`
 *    that says what to use instead: a numeric `timeout`, `errorFilter`, `abortController`,
 *    `autoRenewAbortController`, `capacity`, `cache*`, `coalesce*`, `maxFailures`. Any other
 *    unknown option throws too.
 * 2. Latency percentiles are off: the breaker records each stream when it has ended, so
 *    opossum's latencies would all read 0.
 * 3. Its events (`open`, `halfOpen`, `close`, `success`, `failure`, `reject`, `shutdown`), its
 *    state (`opened`, `halfOpen`, `closed`) and its `stats` are opossum's, for health checks.
 * 4. `breaker.shutdown()` clears every timer it has (the reset timer and the bucket timers). Do
 *    not call `breaker.healthCheck()`: opossum never clears its interval.
 *
 * ## Example
 *
 * ```ts
 * import { circuitBreaker, createStreamBreaker } from 'rx-llm-router';
 *
 * const breaker = createStreamBreaker({ provider: 'openai', volumeThreshold: 10 });
 * breaker.on('open', () => console.warn('openai: breaker open'));
 * const guarded$ = gpt.stream(request).pipe(circuitBreaker(breaker));
 * // ...
 * breaker.shutdown(); // when the provider is removed or the process stops
 * ```
 *
 * @see {@link circuitBreaker}
 * @param options Thresholds, windows and the failure predicate.
 * @return An opossum breaker for {@link circuitBreaker}.
 */
export function createStreamBreaker(options: StreamBreakerOptions = {}): StreamBreaker {
  rejectTraps(options);
  const {
    provider,
    name = provider,
    errorThresholdPercentage = STREAM_BREAKER_DEFAULTS.errorThresholdPercentage,
    volumeThreshold = STREAM_BREAKER_DEFAULTS.volumeThreshold,
    resetTimeout = STREAM_BREAKER_DEFAULTS.resetTimeout,
    rollingCountTimeout = STREAM_BREAKER_DEFAULTS.rollingCountTimeout,
    rollingCountBuckets = STREAM_BREAKER_DEFAULTS.rollingCountBuckets,
    allowWarmUp = STREAM_BREAKER_DEFAULTS.allowWarmUp,
    enableSnapshots = STREAM_BREAKER_DEFAULTS.enableSnapshots,
    rotateBucketController,
    isFailure = isBreakerFailure,
  } = options;
  validate({
    errorThresholdPercentage,
    volumeThreshold,
    resetTimeout,
    rollingCountTimeout,
    rollingCountBuckets,
  });
  if (typeof isFailure !== 'function') {
    throw new TypeError('createStreamBreaker: isFailure must be a function (error) => boolean.');
  }

  const breaker: StreamBreaker = new CircuitBreaker((task: StreamBreakerTask) => task(), {
    ...(name === undefined ? {} : { name }),
    timeout: false,
    errorThresholdPercentage,
    volumeThreshold,
    resetTimeout,
    rollingCountTimeout,
    rollingCountBuckets,
    allowWarmUp,
    enableSnapshots,
    rotateBucketController,
    rollingPercentilesEnabled: false,
  });
  Object.defineProperty(breaker, controlKey, {
    value: new StreamBreakerControl(breaker, provider, resetTimeout, isFailure),
  });
  return breaker;
}

/** True when `value` is a breaker made by {@link createStreamBreaker} (of any copy of the package). */
export function isStreamBreaker(value: unknown): value is StreamBreaker {
  return getStreamBreakerControl(value) !== undefined;
}

// ---------------------------------------------------------------------------------------------
// Internals shared with circuitBreaker: admission and recording, per breaker.

/** The property that holds a stream breaker's {@link StreamBreakerControl}. */
const controlKey = Symbol.for('rx-llm-router.StreamBreakerControl');

/**
 * How a stream ended, for the breaker: a success, a failure, or an outcome that is not recorded
 * at all (`'ignored'`: a cancel before any content, a rate limit, a client error).
 *
 * @internal
 */
export type StreamOutcome = 'success' | 'ignored' | { failure: unknown };

/**
 * The breaker's permission for one stream. `settle` records how the stream ended; only the
 * first call counts.
 *
 * @internal
 */
export interface StreamTicket {
  settle(outcome: StreamOutcome): void;
}

/** @internal The control of a breaker made by {@link createStreamBreaker}, or undefined. */
export function getStreamBreakerControl(value: unknown): StreamBreakerControl | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const control = (value as Record<symbol, unknown>)[controlKey];
  // Duck-typed rather than instanceof, so a breaker made by another copy of the package works.
  return typeof (control as Partial<StreamBreakerControl> | undefined)?.admit === 'function'
    ? (control as StreamBreakerControl)
    : undefined;
}

const noop = (): void => undefined;
const succeed: StreamBreakerTask = () => Promise.resolve();

/**
 * Admits streams and records their outcomes on one opossum breaker.
 *
 * A stream is admitted by looking at the breaker's state, and recorded with one `fire()` when it
 * ends, whose task settles at once: a failure throws synchronously (opossum records it, and
 * opens the breaker if need be, before `fire()` returns), a success resolves (recorded a
 * microtask later). An ignored outcome fires nothing. So opossum's `fires` counts recorded
 * streams only, never streams in flight, and a cancelled or rate-limited stream leaves no trace.
 *
 * Half-open, the trial slot is ours: opossum's own slot (`pendingClose`) stays free while the
 * trial stream runs, so an ignored trial gives the slot back by clearing ours, and the next
 * stream may be the trial. The trial's recording `fire()` takes opossum's slot and closes or
 * reopens the breaker.
 *
 * @internal
 */
export class StreamBreakerControl {
  readonly breaker: StreamBreaker;
  readonly provider: string | undefined;
  readonly resetTimeout: number;
  readonly isFailure: (error: unknown) => boolean;
  /** When the breaker last opened (`Date.now()`); opossum's own `lastTimerAt` is its creation. */
  #openedAt: number | undefined;
  /** The half-open trial's ticket, while a trial stream runs. */
  #trial: object | undefined;
  #inFlight = 0;

  constructor(
    breaker: StreamBreaker,
    provider: string | undefined,
    resetTimeout: number,
    isFailure: (error: unknown) => boolean,
  ) {
    this.breaker = breaker;
    this.provider = provider;
    this.resetTimeout = resetTimeout;
    this.isFailure = isFailure;
    // A state change ends any trial: a stream admitted before it records as a normal stream.
    breaker.on('open', () => {
      this.#openedAt = Date.now();
      this.#trial = undefined;
    });
    breaker.on('halfOpen', () => (this.#trial = undefined));
    breaker.on('close', () => (this.#trial = undefined));
  }

  /** Streams admitted and not yet ended. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Time until the open breaker lets a trial through, in ms; undefined unless open. */
  retryAfterMs(): number | undefined {
    if (!this.breaker.opened || this.#openedAt === undefined) return undefined;
    return Math.max(0, this.#openedAt + this.resetTimeout - Date.now());
  }

  /** A ticket for one stream, or the error to fail it with, synchronously. */
  admit(): StreamTicket | CircuitOpenError {
    const { breaker } = this;
    const of = this.provider === undefined ? '' : ` for ${this.provider}`;
    if (breaker.isShutdown) {
      return new CircuitOpenError(
        `The circuit breaker${of} has been shut down, so the stream was not sent. Use a new breaker (createStreamBreaker) to send again.`,
        { provider: this.provider },
      );
    }
    if (breaker.enabled && breaker.opened) {
      const retryAfterMs = this.retryAfterMs();
      const when =
        retryAfterMs === undefined
          ? ''
          : ` It lets a trial stream through in ${(retryAfterMs / 1000).toFixed(1)} s;`;
      return this.#reject(
        new CircuitOpenError(
          `The circuit breaker${of} is open after recent failures, so the stream was not sent.${when} use another provider meanwhile.`,
          { provider: this.provider, retryAfterMs },
        ),
      );
    }
    if (breaker.enabled && breaker.halfOpen) {
      if (this.#trial !== undefined || !breaker.pendingClose) {
        return this.#reject(
          new CircuitOpenError(
            `The circuit breaker${of} is half-open and its one trial stream is still running, so the stream was not sent. Use another provider until the trial ends.`,
            { provider: this.provider },
          ),
        );
      }
      const token = {};
      this.#trial = token;
      return this.#ticket(token);
    }
    return this.#ticket(undefined);
  }

  /** Counts a rejection in opossum's stats (`rejects`) without counting a fire. */
  #reject(error: CircuitOpenError): CircuitOpenError {
    this.breaker.emit('reject', error);
    return error;
  }

  #ticket(token: object | undefined): StreamTicket {
    this.#inFlight++;
    let settled = false;
    return {
      settle: (outcome) => {
        if (settled) return;
        settled = true;
        this.#inFlight--;
        try {
          if (outcome !== 'ignored') this.#record(outcome);
        } finally {
          if (token !== undefined && this.#trial === token) this.#trial = undefined;
        }
      },
    };
  }

  #record(outcome: 'success' | { failure: unknown }): void {
    const { breaker } = this;
    // Open (or half-open with opossum's slot taken), the outcome would only be rejected by
    // fire() and counted as one more reject: the breaker has decided already. Disabled, opossum
    // records nothing anyway.
    const recordable =
      breaker.enabled &&
      !breaker.isShutdown &&
      (breaker.closed || (breaker.halfOpen && breaker.pendingClose));
    if (!recordable) return;
    if (outcome === 'success') {
      breaker.fire(succeed).catch(noop);
    } else {
      const { failure } = outcome;
      // Thrown synchronously, so opossum records it (and opens) before fire() returns. The
      // rejected promise is handled here: without a fallback it would be an unhandled rejection.
      breaker
        .fire(() => {
          throw failure;
        })
        .catch(noop);
    }
  }
}

/** Options that are traps for streams, and what to do instead. */
const trapOptions: Record<string, string> = {
  errorFilter:
    "an errorFilter'd error counts as a success in opossum, and closes a half-open breaker. Use isFailure(error) instead: the errors it rejects are not recorded at all.",
  abortController:
    'the breaker-wide AbortController aborts every call in flight on any one timeout. Each stream is aborted by unsubscribing from it.',
  autoRenewAbortController:
    'the breaker-wide AbortController aborts every call in flight on any one timeout. Each stream is aborted by unsubscribing from it.',
  capacity:
    'opossum counts a call over capacity as a failure, which would open the breaker under load. Limit concurrency before the breaker.',
  maxFailures: 'it is deprecated in opossum. Use errorThresholdPercentage and volumeThreshold.',
};
for (const key of ['cache', 'cacheTTL', 'cacheGetKey', 'cacheTransport', 'cacheSize']) {
  trapOptions[key] = 'a breaker cannot cache a stream. Use shareStream() to share one.';
}
for (const key of ['coalesce', 'coalesceTTL', 'coalesceSize', 'coalesceResetOn']) {
  trapOptions[key] = 'a breaker cannot coalesce streams. Use shareStream() to share one.';
}

const knownOptions: ReadonlySet<string> = new Set([
  'provider',
  'name',
  'errorThresholdPercentage',
  'volumeThreshold',
  'resetTimeout',
  'rollingCountTimeout',
  'rollingCountBuckets',
  'allowWarmUp',
  'enableSnapshots',
  'rotateBucketController',
  'timeout',
  'isFailure',
]);

function rejectTraps(options: StreamBreakerOptions): void {
  const timeout: unknown = options.timeout;
  if (timeout !== undefined && timeout !== false) {
    throw new TypeError(
      `createStreamBreaker: timeout must be false for streams, got ${typeof timeout === 'number' ? timeout : typeof timeout}. opossum's timeout rejects the call but does not stop the stream, and a long answer is not a failure. Put timeouts({ firstToken, idle, total }) upstream of circuitBreaker instead.`,
    );
  }
  for (const key of Object.keys(options)) {
    const trap = trapOptions[key];
    if (trap !== undefined) {
      throw new TypeError(`createStreamBreaker: option ${key} is not supported: ${trap}`);
    }
    if (!knownOptions.has(key)) {
      throw new TypeError(
        `createStreamBreaker: unknown option ${key}. Known options: ${[...knownOptions].join(', ')}.`,
      );
    }
  }
}

function validate(values: {
  errorThresholdPercentage: number;
  volumeThreshold: number;
  resetTimeout: number;
  rollingCountTimeout: number;
  rollingCountBuckets: number;
}): void {
  const fail = (message: string): never => {
    throw new RangeError(`createStreamBreaker: ${message}`);
  };
  const { errorThresholdPercentage, volumeThreshold, rollingCountBuckets } = values;
  if (
    typeof errorThresholdPercentage !== 'number' ||
    !(errorThresholdPercentage >= 0 && errorThresholdPercentage < 100)
  ) {
    fail(
      `errorThresholdPercentage must be a number in [0, 100) (the breaker opens above it), got ${String(errorThresholdPercentage)}.`,
    );
  }
  if (!Number.isInteger(volumeThreshold) || volumeThreshold < 0) {
    fail(`volumeThreshold must be an integer ≥ 0, got ${String(volumeThreshold)}.`);
  }
  for (const key of ['resetTimeout', 'rollingCountTimeout'] as const) {
    const value = values[key];
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      fail(`${key} must be a positive number of ms, got ${String(value)}.`);
    }
  }
  if (!Number.isInteger(rollingCountBuckets) || rollingCountBuckets < 1) {
    fail(`rollingCountBuckets must be an integer ≥ 1, got ${String(rollingCountBuckets)}.`);
  }
  if (values.rollingCountTimeout / rollingCountBuckets < 1) {
    fail('rollingCountTimeout / rollingCountBuckets must be at least 1 ms (one bucket).');
  }
}
