import CircuitBreaker from 'opossum';
import { Observable, Subject, defer, throwError } from 'rxjs';
import type { TestScheduler } from 'rxjs/testing';
import type { StreamingChunk } from '../../src/chunk/streaming-chunk';
import { CircuitOpenError } from '../../src/errors/circuit-open-error';
import { NetworkError } from '../../src/errors/network-error';
import { ProviderError } from '../../src/errors/provider-error';
import { RateLimitError } from '../../src/errors/rate-limit-error';
import { hasErrorCode } from '../../src/errors/router-error';
import { TimeoutError } from '../../src/errors/timeout-error';
import { ValidationError } from '../../src/errors/validation-error';
import { currentFlow, runWithFlow, type FlowControl } from '../../src/flow/flow-control';
import { circuitBreaker } from '../../src/operators/circuit-breaker';
import {
  STREAM_BREAKER_DEFAULTS,
  createStreamBreaker,
  isBreakerFailure,
  isStreamBreaker,
  type StreamBreaker,
  type StreamBreakerOptions,
} from '../../src/operators/create-stream-breaker';
import { captureUnhandledRejections, type RejectionCapture } from '../helpers/leaks';
import { createScheduler, streamValues } from '../helpers/marbles';

/** r: role-only (not content), a/b: content. */
const values: Record<string, StreamingChunk> = {
  r: streamValues.r,
  a: streamValues.a,
  b: streamValues.b,
};

const serverError = (): ProviderError =>
  new ProviderError('server_error', 'Internal server error', { provider: 'p', status: 500 });
const invalidRequest = (): ProviderError =>
  new ProviderError('invalid_request', 'Bad request', { provider: 'p', status: 400 });
const authError = (): ProviderError =>
  new ProviderError('authentication', 'Invalid API key', { provider: 'p', status: 401 });
const rateLimited = (): RateLimitError =>
  new RateLimitError('Rate limited', { provider: 'p', status: 429, retryAfterMs: 1_000 });

/** Lets opossum settle: a success is recorded a microtask after the stream ends. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

/** A stream the test drives by hand, counting its subscriptions. */
function manual(): {
  stream$: Observable<StreamingChunk>;
  subject: Subject<StreamingChunk>;
  subscribed: () => number;
} {
  const subject = new Subject<StreamingChunk>();
  let count = 0;
  const stream$ = defer(() => {
    count++;
    return subject;
  });
  return { stream$, subject, subscribed: () => count };
}

/** Subscribes and records what arrives. */
function watch(stream$: Observable<StreamingChunk>): {
  values: StreamingChunk[];
  error: () => unknown;
  completed: () => boolean;
  unsubscribe: () => void;
} {
  const seen: StreamingChunk[] = [];
  let error: unknown;
  let completed = false;
  const subscription = stream$.subscribe({
    next: (v) => seen.push(v),
    error: (e: unknown) => (error = e),
    complete: () => (completed = true),
  });
  return {
    values: seen,
    error: () => error,
    completed: () => completed,
    unsubscribe: () => {
      subscription.unsubscribe();
    },
  };
}

const fail$ = (error: unknown): Observable<StreamingChunk> => throwError(() => error);

describe('circuitBreaker', () => {
  let breakers: StreamBreaker[];
  let rejections: RejectionCapture;

  /** A stream breaker, shut down after the test even if the test fails. */
  const make = (options: StreamBreakerOptions = {}): StreamBreaker => {
    const breaker = createStreamBreaker({ provider: 'p', ...options });
    breakers.push(breaker);
    return breaker;
  };

  /** Opens a fresh breaker the way traffic would: `volumeThreshold` failures. */
  const openWithFailures = (breaker: StreamBreaker): void => {
    for (let i = 0; i < breaker.volumeThreshold; i++) {
      watch(fail$(serverError()).pipe(circuitBreaker(breaker)));
    }
    expect(breaker.opened).toBe(true);
  };

  beforeAll(() => {
    rejections = captureUnhandledRejections();
  });
  afterAll(() => {
    rejections.stop();
  });
  beforeEach(() => {
    jest.useFakeTimers();
    breakers = [];
  });
  afterEach(() => {
    for (const breaker of breakers) breaker.shutdown();
    jest.useRealTimers();
  });

  describe('the Observable contract (marbles)', () => {
    let testScheduler: TestScheduler;

    beforeEach(() => {
      testScheduler = createScheduler();
    });

    it('should pass chunks through and record a success when the stream completes', async () => {
      const breaker = make();
      testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold('-r-a-b-|', values);
        const subs = '        ^------!';
        const expected = '    -r-a-b-|';
        expectObservable(source.pipe(circuitBreaker(breaker))).toBe(expected, values);
        expectSubscriptions(source.subscriptions).toBe(subs);
      });
      await settle();
      expect(breaker.stats).toMatchObject({ fires: 1, successes: 1, failures: 0 });
      breaker.shutdown();
    });

    it('should record a failure that comes after chunks', () => {
      const breaker = make();
      const error = serverError();
      testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold('-r-a-#', values, error);
        const subs = '        ^----!';
        const expected = '    -r-a-#';
        expectObservable(source.pipe(circuitBreaker(breaker))).toBe(expected, values, error);
        expectSubscriptions(source.subscriptions).toBe(subs);
      });
      expect(breaker.stats).toMatchObject({ fires: 1, successes: 0, failures: 1 });
      breaker.shutdown();
    });

    it('should error at once with CircuitOpenError and never subscribe while open', () => {
      const breaker = make();
      breaker.open();
      testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold('-r-a-|', values);
        const expected = '    #';
        expectObservable(source.pipe(circuitBreaker(breaker))).toBe(
          expected,
          undefined,
          expect.objectContaining({
            name: 'CircuitOpenError',
            code: 'RXLLM_CIRCUIT_OPEN',
            provider: 'p',
            retryAfterMs: 30_000,
            isRetryable: true,
          }),
        );
        expectSubscriptions(source.subscriptions).toBe([]);
      });
      expect(breaker.stats).toMatchObject({ fires: 0, rejects: 1 });
      breaker.shutdown();
    });

    it('should record a success when unsubscribed after a content chunk', async () => {
      const breaker = make();
      testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold('-r-a---', values);
        const unsub = '       ^----!';
        const expected = '    -r-a--';
        expectObservable(source.pipe(circuitBreaker(breaker)), unsub).toBe(expected, values);
        expectSubscriptions(source.subscriptions).toBe(unsub);
      });
      await settle();
      expect(breaker.stats).toMatchObject({ fires: 1, successes: 1, failures: 0 });
      breaker.shutdown();
    });

    it('should record nothing when unsubscribed before any content chunk', async () => {
      const breaker = make();
      testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold('-r-----', values);
        const unsub = '       ^----!';
        const expected = '    -r----';
        expectObservable(source.pipe(circuitBreaker(breaker)), unsub).toBe(expected, values);
        expectSubscriptions(source.subscriptions).toBe(unsub);
      });
      await settle();
      expect(breaker.stats).toMatchObject({ fires: 0, successes: 0, failures: 0 });
      breaker.shutdown();
    });
  });

  describe('opening', () => {
    it('should not open on a first failure, and open after volumeThreshold (5) failures', () => {
      const breaker = make();
      expect(breaker.volumeThreshold).toBe(5);
      for (let i = 1; i <= 4; i++) {
        watch(fail$(serverError()).pipe(circuitBreaker(breaker)));
        expect(breaker.closed).toBe(true);
      }
      watch(fail$(serverError()).pipe(circuitBreaker(breaker)));
      expect(breaker.opened).toBe(true);
      expect(breaker.stats).toMatchObject({ fires: 5, failures: 5 });
      breaker.shutdown();
    });

    it('should count a failure after chunks (a stream cut mid-way)', () => {
      const breaker = make({ volumeThreshold: 1 });
      const { stream$, subject } = manual();
      const seen = watch(stream$.pipe(circuitBreaker(breaker)));
      subject.next(values.a!);
      subject.next(values.b!);
      expect(breaker.closed).toBe(true);
      subject.error(new NetworkError('Connection reset', { provider: 'p' }));
      expect(seen.values).toHaveLength(2);
      expect(breaker.opened).toBe(true);
      breaker.shutdown();
    });

    it('should record a failure, and open, before the error reaches the subscriber', () => {
      const breaker = make({ volumeThreshold: 1 });
      let openWhenHeard: boolean | undefined;
      fail$(serverError())
        .pipe(circuitBreaker(breaker))
        .subscribe({ error: () => (openWhenHeard = breaker.opened) });
      expect(openWhenHeard).toBe(true);
      breaker.shutdown();
    });

    it('should record a success only at completion, not while the stream is in flight', async () => {
      const breaker = make();
      const { stream$, subject } = manual();
      const seen = watch(stream$.pipe(circuitBreaker(breaker)));
      subject.next(values.r!);
      subject.next(values.a!);
      await settle();
      expect(breaker.stats).toMatchObject({ fires: 0, successes: 0 });
      subject.complete();
      await settle();
      expect(seen.completed()).toBe(true);
      expect(breaker.stats).toMatchObject({ fires: 1, successes: 1 });
      breaker.shutdown();
    });

    it('should measure the error rate over ended streams: long streams in flight do not dilute it', () => {
      // opossum's own pattern counts a call in `fires` as it starts: 10 streams in flight plus
      // 5 fast failures would read 5/15 = 33% and stay closed.
      const breaker = make();
      const { stream$, subject } = manual();
      for (let i = 0; i < 10; i++) watch(stream$.pipe(circuitBreaker(breaker)));
      subject.next(values.a!);
      for (let i = 0; i < 5; i++) watch(fail$(serverError()).pipe(circuitBreaker(breaker)));
      expect(breaker.opened).toBe(true);
      expect(breaker.stats).toMatchObject({ fires: 5, failures: 5 });
      breaker.shutdown();
    });

    it('should stay closed while the error rate is at or under 50%', async () => {
      const breaker = make();
      for (let i = 0; i < 3; i++) {
        watch(defer(() => [values.a!]).pipe(circuitBreaker(breaker)));
      }
      await settle();
      for (let i = 0; i < 3; i++) watch(fail$(serverError()).pipe(circuitBreaker(breaker)));
      expect(breaker.closed).toBe(true); // 3 of 6 = 50%
      watch(fail$(serverError()).pipe(circuitBreaker(breaker)));
      expect(breaker.opened).toBe(true); // 4 of 7 = 57%
      breaker.shutdown();
    });

    it('should treat a stream of 15 minutes as a success, never as a timeout', async () => {
      const breaker = make();
      const timeouts: unknown[] = [];
      breaker.on('timeout', (e) => timeouts.push(e));
      const { stream$, subject } = manual();
      const seen = watch(stream$.pipe(circuitBreaker(breaker)));
      for (let minute = 0; minute < 15; minute++) {
        subject.next(values.a!);
        jest.advanceTimersByTime(60_000);
      }
      subject.complete();
      await settle();
      expect(seen.error()).toBeUndefined();
      expect(timeouts).toEqual([]);
      expect(breaker.stats).toMatchObject({ successes: 1, failures: 0, timeouts: 0 });
      breaker.shutdown();
    });
  });

  describe('open', () => {
    it('should fail fast with CircuitOpenError, counting down retryAfterMs, without subscribing', () => {
      const breaker = make();
      openWithFailures(breaker);
      const { stream$, subscribed } = manual();
      jest.advanceTimersByTime(10_000);
      const seen = watch(stream$.pipe(circuitBreaker(breaker)));
      const error = seen.error();
      expect(error).toBeInstanceOf(CircuitOpenError);
      expect(error).toMatchObject({ provider: 'p', retryAfterMs: 20_000 });
      expect((error as Error).message).toMatch(/open after recent failures.*20\.0 s/);
      expect(subscribed()).toBe(0);
      // Counted as a reject, not as a fire: rejections do not dilute the error rate later.
      expect(breaker.stats).toMatchObject({ fires: 5, rejects: 1 });
      breaker.shutdown();
    });

    it('should not record a stream that ends while the breaker is open', () => {
      const breaker = make();
      const { stream$, subject } = manual();
      watch(stream$.pipe(circuitBreaker(breaker)));
      openWithFailures(breaker);
      subject.error(serverError());
      expect(breaker.stats).toMatchObject({ fires: 5, failures: 5, rejects: 0 });
      breaker.shutdown();
    });
  });

  describe('half-open', () => {
    const halfOpen = (breaker: StreamBreaker): void => {
      openWithFailures(breaker);
      jest.advanceTimersByTime(30_000);
      expect(breaker.halfOpen).toBe(true);
    };

    it('should let exactly one trial stream through', () => {
      const breaker = make();
      halfOpen(breaker);
      const { stream$, subscribed } = manual();
      const trial = watch(stream$.pipe(circuitBreaker(breaker)));
      const others = [1, 2, 3].map(() => watch(stream$.pipe(circuitBreaker(breaker))));
      expect(trial.error()).toBeUndefined();
      expect(subscribed()).toBe(1);
      for (const other of others) {
        expect(other.error()).toBeInstanceOf(CircuitOpenError);
        expect(other.error()).toMatchObject({ retryAfterMs: undefined });
        expect((other.error() as Error).message).toMatch(/trial stream is still running/);
      }
      breaker.shutdown();
    });

    it('should close when the trial completes', async () => {
      const breaker = make();
      halfOpen(breaker);
      const { stream$, subject } = manual();
      watch(stream$.pipe(circuitBreaker(breaker)));
      subject.next(values.a!);
      expect(breaker.halfOpen).toBe(true); // not on the first chunk
      subject.complete();
      await settle();
      expect(breaker.closed).toBe(true);
      const next = watch(fail$(serverError()).pipe(circuitBreaker(breaker)));
      expect(next.error()).toBeInstanceOf(ProviderError); // sent, not rejected
      breaker.shutdown();
    });

    it('should start the closed breaker with a clean window (rollingCountTimeout = resetTimeout)', async () => {
      const breaker = make();
      halfOpen(breaker);
      watch(defer(() => [values.a!]).pipe(circuitBreaker(breaker)));
      await settle();
      expect(breaker.closed).toBe(true);
      // The 5 failures that opened it have left the window: one more failure does not reopen it.
      watch(fail$(serverError()).pipe(circuitBreaker(breaker)));
      expect(breaker.closed).toBe(true);
      expect(breaker.stats).toMatchObject({ fires: 2, successes: 1, failures: 1 });
      breaker.shutdown();
    });

    it('should reopen when the trial fails, even after chunks', () => {
      const breaker = make();
      halfOpen(breaker);
      const { stream$, subject } = manual();
      watch(stream$.pipe(circuitBreaker(breaker)));
      subject.next(values.a!);
      subject.error(new TimeoutError('idle', 5_000, { provider: 'p' }));
      expect(breaker.opened).toBe(true);
      const next = watch(stream$.pipe(circuitBreaker(breaker)));
      expect(next.error()).toMatchObject({ code: 'RXLLM_CIRCUIT_OPEN', retryAfterMs: 30_000 });
      breaker.shutdown();
    });

    it('should give back the trial when it is unsubscribed before its first content chunk', async () => {
      const breaker = make();
      halfOpen(breaker);
      const { stream$, subject, subscribed } = manual();
      const trial = watch(stream$.pipe(circuitBreaker(breaker)));
      subject.next(values.r!); // role-only: not content
      trial.unsubscribe();
      await settle();
      expect(breaker.halfOpen).toBe(true); // neither closed nor reopened
      // Nothing recorded (the failures that opened it have left the 30 s window).
      expect(breaker.stats).toMatchObject({ fires: 0, successes: 0, failures: 0 });
      const next = watch(stream$.pipe(circuitBreaker(breaker))); // the next stream is the trial
      expect(next.error()).toBeUndefined();
      expect(subscribed()).toBe(2);
      subject.next(values.a!);
      subject.complete();
      await settle();
      expect(breaker.closed).toBe(true);
      breaker.shutdown();
    });

    it('should close when the trial is unsubscribed after content', async () => {
      const breaker = make();
      halfOpen(breaker);
      const { stream$, subject } = manual();
      const trial = watch(stream$.pipe(circuitBreaker(breaker)));
      subject.next(values.a!);
      trial.unsubscribe();
      await settle();
      expect(breaker.closed).toBe(true);
      breaker.shutdown();
    });

    it.each([
      ['an invalid request (400)', invalidRequest],
      ['a bad API key (401)', authError],
      ['a rate limit (429)', rateLimited],
    ])('should neither close nor reopen when the trial fails with %s', async (_, error) => {
      const breaker = make();
      halfOpen(breaker);
      const trial = watch(fail$(error()).pipe(circuitBreaker(breaker)));
      expect(trial.error()).toBeInstanceOf(error().constructor);
      await settle();
      expect(breaker.halfOpen).toBe(true);
      expect(breaker.stats).toMatchObject({ fires: 0, successes: 0, failures: 0 });
      const { stream$, subscribed } = manual();
      const next = watch(stream$.pipe(circuitBreaker(breaker)));
      expect(next.error()).toBeUndefined();
      expect(subscribed()).toBe(1);
      breaker.shutdown();
    });
  });

  describe('what does not count', () => {
    it('should not count client unsubscribes as failures', async () => {
      const breaker = make({ volumeThreshold: 1 });
      const { stream$, subject } = manual();
      for (let i = 0; i < 10; i++) watch(stream$.pipe(circuitBreaker(breaker))).unsubscribe();
      const late = watch(stream$.pipe(circuitBreaker(breaker)));
      subject.next(values.a!);
      late.unsubscribe();
      await settle();
      expect(breaker.closed).toBe(true);
      expect(breaker.stats).toMatchObject({ fires: 1, successes: 1, failures: 0 });
      breaker.shutdown();
    });

    it('should not count 4xx errors or rate limits, however many', async () => {
      const breaker = make({ volumeThreshold: 1 });
      for (let i = 0; i < 10; i++) {
        for (const error of [invalidRequest(), authError(), rateLimited()]) {
          const seen = watch(fail$(error).pipe(circuitBreaker(breaker)));
          expect(seen.error()).toBe(error);
        }
      }
      await settle();
      expect(breaker.closed).toBe(true);
      expect(breaker.stats).toMatchObject({ fires: 0, successes: 0, failures: 0 });
      breaker.shutdown();
    });

    it('should let isFailure decide, and count an error when isFailure throws', () => {
      const breaker = make({
        volumeThreshold: 1,
        isFailure: (e) => isBreakerFailure(e) || hasErrorCode(e, 'RXLLM_AUTHENTICATION'),
      });
      watch(fail$(authError()).pipe(circuitBreaker(breaker)));
      expect(breaker.opened).toBe(true);
      const throwing = make({
        volumeThreshold: 1,
        isFailure: () => {
          throw new Error('bug');
        },
      });
      watch(fail$(invalidRequest()).pipe(circuitBreaker(throwing)));
      expect(throwing.opened).toBe(true);
      breaker.shutdown();
      throwing.shutdown();
    });

    it('should classify errors by default: retryable and unknown count, 429 and 4xx do not', () => {
      expect(isBreakerFailure(serverError())).toBe(true);
      expect(isBreakerFailure(new ProviderError('overloaded', 'Overloaded'))).toBe(true);
      expect(isBreakerFailure(new NetworkError('reset'))).toBe(true);
      expect(isBreakerFailure(new TimeoutError('first-token', 1_000))).toBe(true);
      expect(isBreakerFailure(new Error('boom'))).toBe(true);
      expect(isBreakerFailure(rateLimited())).toBe(false);
      expect(isBreakerFailure(new RateLimitError('quota', { quotaExceeded: true }))).toBe(false);
      expect(isBreakerFailure(invalidRequest())).toBe(false);
      expect(isBreakerFailure(authError())).toBe(false);
      expect(isBreakerFailure(new CircuitOpenError('open'))).toBe(false);
      expect(isBreakerFailure(new ValidationError([{ path: 'model', message: 'required' }]))).toBe(
        false,
      );
    });
  });

  describe('createStreamBreaker and the opossum traps', () => {
    it('should apply the stream defaults and force timeout: false', () => {
      const breaker = make();
      const { options } = breaker as unknown as { options: Record<string, unknown> };
      expect(options).toMatchObject({
        timeout: false,
        errorThresholdPercentage: 50,
        resetTimeout: 30_000,
        rollingCountTimeout: 30_000,
        rollingCountBuckets: 6,
        rollingPercentilesEnabled: false,
        enableSnapshots: false,
      });
      expect(breaker.volumeThreshold).toBe(STREAM_BREAKER_DEFAULTS.volumeThreshold);
      expect(breaker.name).toBe('p');
      expect(isStreamBreaker(breaker)).toBe(true);
      breaker.shutdown();
    });

    it.each([
      [{ timeout: 10_000 }, /timeout must be false/],
      [{ errorFilter: () => true }, /counts as a success.*closes a half-open breaker/],
      [{ abortController: new AbortController() }, /aborts every call in flight/],
      [{ autoRenewAbortController: true }, /aborts every call in flight/],
      [{ capacity: 10 }, /counts a call over capacity as a failure/],
      [{ cache: true }, /cannot cache a stream/],
      [{ coalesce: true }, /cannot coalesce/],
      [{ volumeTreshold: 5 }, /unknown option volumeTreshold/],
    ])('should refuse %p with a TypeError that says why', (options, message) => {
      expect(() => createStreamBreaker(options as unknown as StreamBreakerOptions)).toThrow(
        TypeError,
      );
      expect(() => createStreamBreaker(options as unknown as StreamBreakerOptions)).toThrow(
        message,
      );
      expect(jest.getTimerCount()).toBe(0); // nothing was created
    });

    it.each([
      [{ errorThresholdPercentage: 100 }],
      [{ volumeThreshold: -1 }],
      [{ volumeThreshold: 1.5 }],
      [{ resetTimeout: 0 }],
      [{ rollingCountTimeout: Number.NaN }],
      [{ rollingCountBuckets: 0 }],
    ])('should refuse %p with a RangeError', (options) => {
      expect(() => createStreamBreaker(options)).toThrow(RangeError);
    });

    it('should refuse a plain opossum breaker, pointing to createStreamBreaker', () => {
      const plain = new CircuitBreaker(() => Promise.resolve());
      try {
        expect(() => circuitBreaker(plain as unknown as StreamBreaker)).toThrow(
          /not made by createStreamBreaker/,
        );
      } finally {
        plain.shutdown();
      }
    });

    it('should make its own breaker from options, shared by every subscription', () => {
      const operator = circuitBreaker<StreamingChunk>({ provider: 'own', volumeThreshold: 2 });
      breakers.push(operator.breaker);
      expect(isStreamBreaker(operator.breaker)).toBe(true);
      watch(fail$(serverError()).pipe(operator));
      watch(fail$(serverError()).pipe(operator));
      const third = watch(fail$(serverError()).pipe(operator));
      expect(third.error()).toMatchObject({ code: 'RXLLM_CIRCUIT_OPEN', provider: 'own' });
      operator.breaker.shutdown();
    });

    it('should clear every timer on shutdown, and refuse streams afterwards', () => {
      expect(jest.getTimerCount()).toBe(0);
      const breaker = make({ enableSnapshots: true, allowWarmUp: true, volumeThreshold: 1 });
      expect(jest.getTimerCount()).toBe(3); // bucket rotation, snapshots, warm-up
      breaker.open(); // adds the reset timer
      expect(jest.getTimerCount()).toBe(4);
      breaker.shutdown();
      expect(jest.getTimerCount()).toBe(0);
      const { stream$, subscribed } = manual();
      const seen = watch(stream$.pipe(circuitBreaker(breaker)));
      expect(seen.error()).toBeInstanceOf(CircuitOpenError);
      expect((seen.error() as Error).message).toMatch(/shut down/);
      expect(subscribed()).toBe(0);
    });

    it('should settle a stream that ends after shutdown without recording or throwing', async () => {
      const breaker = make();
      const { stream$, subject } = manual();
      const seen = watch(stream$.pipe(circuitBreaker(breaker)));
      breaker.shutdown();
      subject.error(serverError());
      await settle();
      expect(seen.error()).toBeInstanceOf(ProviderError);
    });

    it('should leave no unhandled rejection, whatever happens', async () => {
      const breaker = make({ volumeThreshold: 2 });
      const { stream$, subject } = manual();
      watch(stream$.pipe(circuitBreaker(breaker))); // in flight through all of it
      watch(fail$(serverError()).pipe(circuitBreaker(breaker)));
      watch(fail$(new Error('plain')).pipe(circuitBreaker(breaker))); // opens
      for (let i = 0; i < 3; i++) watch(fail$(serverError()).pipe(circuitBreaker(breaker)));
      jest.advanceTimersByTime(30_000);
      watch(fail$(serverError()).pipe(circuitBreaker(breaker))); // failed trial
      jest.advanceTimersByTime(30_000);
      watch(defer(() => [values.a!]).pipe(circuitBreaker(breaker))); // successful trial
      subject.error(serverError());
      breaker.shutdown();
      watch(fail$(serverError()).pipe(circuitBreaker(breaker)));
      // Give Node a real turn of the event loop to report unhandled rejections.
      jest.useRealTimers();
      await settle();
      await new Promise<void>((resolve) => setImmediate(resolve));
      await new Promise<void>((resolve) => setImmediate(resolve));
      expect(rejections.rejections).toEqual([]);
    });
  });

  it('should subscribe upstream with the consumer flow control', () => {
    const breaker = make();
    const flow: FlowControl = { ready: () => undefined };
    let seen: FlowControl | undefined;
    const source$ = new Observable<StreamingChunk>((subscriber) => {
      seen = currentFlow();
      subscriber.complete();
    });
    runWithFlow(flow, () => source$.pipe(circuitBreaker(breaker)).subscribe());
    expect(seen).toBe(flow);
    breaker.shutdown();
  });
});
