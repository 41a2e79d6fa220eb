import { Observable, Subject, defer, throwError } from 'rxjs';
import type { TestScheduler } from 'rxjs/testing';
import type { StreamingChunk } from '../../src/chunk/streaming-chunk';
import { NetworkError } from '../../src/errors/network-error';
import { ProviderError } from '../../src/errors/provider-error';
import { RateLimitError } from '../../src/errors/rate-limit-error';
import { TimeoutError } from '../../src/errors/timeout-error';
import { currentFlow, runWithFlow, type FlowControl } from '../../src/flow/flow-control';
import { toAsyncIterable } from '../../src/flow/to-async-iterable';
import { retryBackoff, type RetryInfo } from '../../src/operators/retry-backoff';
import { timeouts } from '../../src/operators/timeouts';
import { createComparingScheduler, streamValues } from '../helpers/marbles';

/** r: role-only, e: empty keep-alive, u: usage-only, a/b: content. */
const values: Record<string, StreamingChunk> = { ...streamValues };

const overloaded = (n = 1): ProviderError =>
  new ProviderError('overloaded', `Overloaded (${n})`, { provider: 'p' });

/** A cold source whose n-th subscription subscribes to the n-th of `attempts`. */
function attemptsOf(...attempts: Observable<StreamingChunk>[]): {
  source$: Observable<StreamingChunk>;
  count: () => number;
} {
  let n = 0;
  const source$ = defer(() => {
    const next = attempts[n++];
    if (next === undefined) throw new Error(`unexpected attempt ${n}`);
    return next;
  });
  return { source$, count: () => n };
}

describe('retryBackoff', () => {
  let testScheduler: TestScheduler;

  beforeEach(() => {
    testScheduler = createComparingScheduler();
  });

  it('should resubscribe after retryable errors before content, with exponential delays', () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const e1 = overloaded(1);
      const e2 = overloaded(2);
      const a1 = cold('  -r#', values, e1);
      const a1subs = '   ^-!';
      const a2 = cold('  -r#', values, e2);
      const a2subs = '   -----^-!';
      const a3 = cold('  -ra---|', values);
      const a3subs = '   -------------^-----!';
      const expected = ' ---------------(ra)|';
      const retries: RetryInfo[] = [];
      const { source$ } = attemptsOf(a1, a2, a3);
      const result = source$.pipe(
        retryBackoff({
          maxAttempts: 3,
          initialDelayMs: 3,
          jitter: 'none',
          onRetry: (info) => retries.push(info),
        }),
      );
      expectObservable(result).toBe(expected, values);
      expectSubscriptions(a1.subscriptions).toBe(a1subs);
      expectSubscriptions(a2.subscriptions).toBe(a2subs);
      expectSubscriptions(a3.subscriptions).toBe(a3subs);
      testScheduler.flush();
      expect(retries).toEqual([
        { attempt: 2, delayMs: 3, error: e1 },
        { attempt: 3, delayMs: 6, error: e2 },
      ]);
    });
  });

  it('should rethrow the last error when the attempts run out', () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const a1 = cold(' -#', values, overloaded(1));
      const a2 = cold(' -#', values, overloaded(2));
      const { source$, count } = attemptsOf(a1, a2);
      const expected = '-----#';
      expectObservable(
        source$.pipe(retryBackoff({ maxAttempts: 2, initialDelayMs: 3, jitter: 'none' })),
      ).toBe(expected, values, overloaded(2));
      expectSubscriptions(a1.subscriptions).toBe('^!');
      expectSubscriptions(a2.subscriptions).toBe('----^!');
      testScheduler.flush();
      expect(count()).toBe(2);
    });
  });

  it('should not retry when maxAttempts is 1', () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const a1 = cold('--#', values, overloaded());
      expectObservable(a1.pipe(retryBackoff({ maxAttempts: 1 }))).toBe('--#', values, overloaded());
      expectSubscriptions(a1.subscriptions).toBe('^-!');
    });
  });

  it('should rethrow an error that follows a content chunk, without resubscribing', () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const a1 = cold('  -r-a---#', values, overloaded());
      const a1subs = '   ^------!';
      const expected = ' ---(ra)#';
      const { source$, count } = attemptsOf(a1);
      expectObservable(source$.pipe(retryBackoff({ initialDelayMs: 1 }))).toBe(
        expected,
        values,
        overloaded(),
      );
      expectSubscriptions(a1.subscriptions).toBe(a1subs);
      testScheduler.flush();
      expect(count()).toBe(1);
    });
  });

  it('should rethrow an error in the same frame as the first content chunk', () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const a1 = cold('--(a#)', values, overloaded());
      const { source$, count } = attemptsOf(a1);
      expectObservable(source$.pipe(retryBackoff({ initialDelayMs: 1 }))).toBe(
        '--(a#)',
        values,
        overloaded(),
      );
      expectSubscriptions(a1.subscriptions).toBe('^-!');
      testScheduler.flush();
      expect(count()).toBe(1);
    });
  });

  it('should retry an error raised at subscription, before any chunk', () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const a1 = cold(' #', values, new NetworkError('ECONNRESET'));
      const a2 = cold(' -a|', values);
      const { source$ } = attemptsOf(a1, a2);
      expectObservable(source$.pipe(retryBackoff({ initialDelayMs: 2, jitter: 'none' }))).toBe(
        '---a|',
        values,
      );
      expectSubscriptions(a1.subscriptions).toBe('(^!)');
      expectSubscriptions(a2.subscriptions).toBe('--^-!');
    });
  });

  it('should emit held non-content chunks before completing when no content came', () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const a1 = cold('-r-u|', values);
      expectObservable(a1.pipe(retryBackoff())).toBe('----(ru|)', values);
      expectSubscriptions(a1.subscriptions).toBe('^---!');
    });
  });

  it('should drop the held chunks of an attempt that fails before content', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      const a1 = cold(' -r-e-#', values, overloaded());
      const a2 = cold(' -r-e-a----|', values);
      const { source$ } = attemptsOf(a1, a2);
      // a2 starts at 5 + 1 = 6; its r, e and a come out together at 11.
      expectObservable(source$.pipe(retryBackoff({ initialDelayMs: 1, jitter: 'none' }))).toBe(
        '-----------(rea)|',
        values,
      );
    });
  });

  it('should wait for a 429 retryAfterMs longer than the backoff', () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const limited = new RateLimitError('Rate limited', { provider: 'p', retryAfterMs: 7 });
      const a1 = cold(' -#', values, limited);
      const a2 = cold(' -a|', values);
      const retries: RetryInfo[] = [];
      const { source$ } = attemptsOf(a1, a2);
      const result = source$.pipe(
        retryBackoff({ initialDelayMs: 2, jitter: 'none', onRetry: (i) => retries.push(i) }),
      );
      expectObservable(result).toBe('---------a|', values);
      expectSubscriptions(a1.subscriptions).toBe('^!');
      expectSubscriptions(a2.subscriptions).toBe('--------^-!'); // 1 + 7
      testScheduler.flush();
      expect(retries).toEqual([{ attempt: 2, delayMs: 7, error: limited }]);
    });
  });

  it('should keep the backoff when it is longer than retryAfterMs', () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const limited = new RateLimitError('Rate limited', { retryAfterMs: 1 });
      const a1 = cold(' -#', values, limited);
      const a2 = cold(' -a|', values);
      const { source$ } = attemptsOf(a1, a2);
      expectObservable(source$.pipe(retryBackoff({ initialDelayMs: 5, jitter: 'none' }))).toBe(
        '-------a|',
        values,
      );
      expectSubscriptions(a2.subscriptions).toBe('------^-!'); // 1 + 5
    });
  });

  it('should rethrow at once a retryAfterMs above maxRetryAfterMs', () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const limited = new RateLimitError('Rate limited', { retryAfterMs: 20_000 });
      const a1 = cold('-#', values, limited);
      const onRetry = jest.fn();
      const { source$, count } = attemptsOf(a1);
      expectObservable(source$.pipe(retryBackoff({ onRetry }))).toBe('-#', values, limited);
      expectSubscriptions(a1.subscriptions).toBe('^!');
      testScheduler.flush();
      expect(count()).toBe(1);
      expect(onRetry).not.toHaveBeenCalled();
    });
  });

  it('should honour a retryAfterMs exactly at a custom maxRetryAfterMs', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      const limited = new RateLimitError('Rate limited', { retryAfterMs: 4 });
      const a1 = cold(' -#', values, limited);
      const a2 = cold(' a|', values);
      const { source$ } = attemptsOf(a1, a2);
      expectObservable(
        source$.pipe(retryBackoff({ initialDelayMs: 0, maxRetryAfterMs: 4, jitter: 'none' })),
      ).toBe('-----a|', values);
    });
  });

  it('should not retry a quota RateLimitError', () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const quota = new RateLimitError('Quota exceeded', { quotaExceeded: true });
      const a1 = cold('-#', values, quota);
      expectObservable(a1.pipe(retryBackoff())).toBe('-#', values, quota);
      expectSubscriptions(a1.subscriptions).toBe('^!');
    });
  });

  it('should not retry a TimeoutError', () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const a1 = cold(' -r------a|', values);
      const a2 = cold(' a|', values);
      const { source$, count } = attemptsOf(a1, a2);
      const error = new TimeoutError('first-token', 4, { provider: 'p' });
      expectObservable(
        source$.pipe(timeouts({ firstToken: 4 }), retryBackoff({ initialDelayMs: 1 })),
      ).toBe('----#', values, error);
      expectSubscriptions(a1.subscriptions).toBe('^---!');
      expectSubscriptions(a2.subscriptions).toBe([]);
      testScheduler.flush();
      expect(count()).toBe(1);
    });
  });

  it('should not retry a non-retryable RouterError or a plain Error', () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const invalid = new ProviderError('invalid_request', 'Bad request');
      const plain = new Error('not ours');
      const a1 = cold(' -#', values, invalid);
      const b1 = cold(' --#', values, plain);
      expectObservable(a1.pipe(retryBackoff())).toBe('-#', values, invalid);
      expectObservable(b1.pipe(retryBackoff())).toBe('--#', values, plain);
      expectSubscriptions(a1.subscriptions).toBe('^!');
      expectSubscriptions(b1.subscriptions).toBe('^-!');
    });
  });

  it("should apply 'full' jitter with the injected random", () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const a1 = cold(' -#', values, overloaded(1));
      const a2 = cold(' -#', values, overloaded(2));
      const a3 = cold(' -a|', values);
      const { source$ } = attemptsOf(a1, a2, a3);
      const result = source$.pipe(
        retryBackoff({ initialDelayMs: 40, jitter: 'full', random: () => 0.25 }),
      );
      // Waits 0.25 × 40 = 10, then 0.25 × 80 = 20.
      expectObservable(result).toBe('33ms a|', values);
      expectSubscriptions(a1.subscriptions).toBe('^!');
      expectSubscriptions(a2.subscriptions).toBe('11ms ^!');
      expectSubscriptions(a3.subscriptions).toBe('32ms ^-!');
    });
  });

  it("should apply 'equal' jitter with the injected random", () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const a1 = cold(' -#', values, overloaded(1));
      const a2 = cold(' -#', values, overloaded(2));
      const a3 = cold(' -a|', values);
      const { source$ } = attemptsOf(a1, a2, a3);
      const retries: number[] = [];
      const result = source$.pipe(
        retryBackoff({
          initialDelayMs: 40,
          jitter: 'equal',
          random: () => 0.25,
          onRetry: ({ delayMs }) => retries.push(delayMs),
        }),
      );
      // Waits 20 + 0.25 × 20 = 25, then 40 + 0.25 × 40 = 50.
      expectObservable(result).toBe('78ms a|', values);
      expectSubscriptions(a2.subscriptions).toBe('26ms ^!');
      expectSubscriptions(a3.subscriptions).toBe('77ms ^-!');
      testScheduler.flush();
      expect(retries).toEqual([25, 50]);
    });
  });

  it('should cap the backoff at maxDelayMs', () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const a1 = cold(' -#', values, overloaded(1));
      const a2 = cold(' -#', values, overloaded(2));
      const a3 = cold(' -a|', values);
      const { source$ } = attemptsOf(a1, a2, a3);
      const result = source$.pipe(
        retryBackoff({ initialDelayMs: 10, multiplier: 10, maxDelayMs: 30, jitter: 'none' }),
      );
      expectObservable(result).toBe('43ms a|', values); // 1 + 10 + 1 + 30 + 1
      expectSubscriptions(a3.subscriptions).toBe('42ms ^-!');
    });
  });

  it('should cancel the wait and resubscribe nothing when unsubscribed during a backoff', () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const a1 = cold('  -r#', values, overloaded());
      const a1subs = '   ^-!';
      const a2 = cold('  a|', values);
      const unsub = '    -----!';
      const expected = ' ------';
      const { source$, count } = attemptsOf(a1, a2);
      expectObservable(
        source$.pipe(retryBackoff({ initialDelayMs: 10, jitter: 'none' })),
        unsub,
      ).toBe(expected, values);
      expectSubscriptions(a1.subscriptions).toBe(a1subs);
      expectSubscriptions(a2.subscriptions).toBe([]);
      testScheduler.flush(); // past the frame the retry was due (12)
      expect(count()).toBe(1);
    });
  });

  it('should clear its real timer when unsubscribed during a backoff', () => {
    jest.useFakeTimers();
    try {
      let subscriptions = 0;
      const source$ = defer(() => {
        subscriptions++;
        return throwError(() => overloaded());
      });
      const subscription = source$.pipe(retryBackoff({ initialDelayMs: 1_000 })).subscribe({
        error: () => undefined,
      });
      expect(jest.getTimerCount()).toBe(1);
      subscription.unsubscribe();
      expect(jest.getTimerCount()).toBe(0);
      jest.advanceTimersByTime(10_000);
      expect(subscriptions).toBe(1);
    } finally {
      jest.useRealTimers();
    }
  });

  it('should unsubscribe the current attempt when unsubscribed', () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const a1 = cold(' -#', values, overloaded());
      const a2 = cold(' -r-a-b-|', values);
      const { source$ } = attemptsOf(a1, a2);
      expectObservable(
        source$.pipe(retryBackoff({ initialDelayMs: 1, jitter: 'none' })),
        '------!',
      ).toBe('-----(ra)', values);
      expectSubscriptions(a2.subscriptions).toBe('--^---!');
    });
  });

  it('should reinstall the flow control of the first subscription on every resubscription', () => {
    const flow: FlowControl = { ready: () => undefined };
    const seen: (FlowControl | undefined)[] = [];
    const source$ = new Observable<StreamingChunk>((subscriber) => {
      seen.push(currentFlow());
      if (seen.length < 3) subscriber.error(overloaded(seen.length));
      else {
        subscriber.next(values.a!);
        subscriber.complete();
      }
    });
    const received: StreamingChunk[] = [];
    runWithFlow(flow, () =>
      source$
        .pipe(retryBackoff({ initialDelayMs: 5, scheduler: testScheduler }))
        .subscribe((c) => received.push(c)),
    );
    expect(seen).toEqual([flow]);
    expect(currentFlow()).toBeUndefined();
    testScheduler.flush(); // the retries run from timers, outside runWithFlow
    expect(seen).toEqual([flow, flow, flow]);
    expect(seen[2]).toBe(flow);
    expect(received).toEqual([values.a]);
    expect(currentFlow()).toBeUndefined();
  });

  it('should carry a for-await consumer flow control to the retried request', async () => {
    const seen: (FlowControl | undefined)[] = [];
    const source$ = new Observable<StreamingChunk>((subscriber) => {
      seen.push(currentFlow());
      if (seen.length < 2) subscriber.error(overloaded());
      else {
        subscriber.next(values.a!);
        subscriber.complete();
      }
    });
    const texts: StreamingChunk[] = [];
    for await (const c of toAsyncIterable(source$.pipe(retryBackoff({ initialDelayMs: 0 })))) {
      texts.push(c);
    }
    expect(texts).toEqual([values.a]);
    expect(seen).toHaveLength(2);
    expect(seen[0]).toBeDefined();
    expect(seen[1]).toBe(seen[0]);
  });

  it('should resubscribe with no flow control when none was installed', () => {
    const seen: (FlowControl | undefined)[] = [];
    const source$ = new Observable<StreamingChunk>((subscriber) => {
      seen.push(currentFlow());
      if (seen.length < 2) subscriber.error(overloaded());
      else subscriber.complete();
    });
    source$.pipe(retryBackoff({ initialDelayMs: 5, scheduler: testScheduler })).subscribe();
    testScheduler.flush();
    expect(seen).toEqual([undefined, undefined]);
  });

  it('should let shouldRetry decide, with the number of the failed attempt', () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const timeout = new TimeoutError('idle', 3);
      const a1 = cold(' -#', values, timeout);
      const a2 = cold(' -#', values, overloaded());
      const a3 = cold(' a|', values);
      const calls: [unknown, number][] = [];
      const { source$ } = attemptsOf(a1, a2, a3);
      const result = source$.pipe(
        retryBackoff({
          initialDelayMs: 1,
          jitter: 'none',
          // Retries the timeout, vetoes the overload.
          shouldRetry: (error, failedAttempt) => {
            calls.push([error, failedAttempt]);
            return error instanceof TimeoutError;
          },
        }),
      );
      expectObservable(result).toBe('---#', values, overloaded());
      expectSubscriptions(a2.subscriptions).toBe('--^!');
      expectSubscriptions(a3.subscriptions).toBe([]);
      testScheduler.flush();
      expect(calls).toEqual([
        [timeout, 1],
        [overloaded(), 2],
      ]);
    });
  });

  it('should error with the exception thrown by onRetry, without resubscribing', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      const oops = new Error('onRetry failed');
      const a1 = cold('-#', values, overloaded());
      const { source$, count } = attemptsOf(a1);
      expectObservable(
        source$.pipe(
          retryBackoff({
            onRetry: () => {
              throw oops;
            },
          }),
        ),
      ).toBe('-#', values, oops);
      testScheduler.flush();
      expect(count()).toBe(1);
    });
  });

  it('should run on the given scheduler outside TestScheduler.run', () => {
    const source = new Subject<StreamingChunk>();
    let subscriptions = 0;
    const source$ = defer(() => {
      subscriptions++;
      return subscriptions === 1 ? throwError(() => overloaded()) : source;
    });
    source$
      .pipe(retryBackoff({ initialDelayMs: 100, jitter: 'none', scheduler: testScheduler }))
      .subscribe();
    expect(subscriptions).toBe(1);
    testScheduler.flush();
    expect(subscriptions).toBe(2);
    expect(testScheduler.now()).toBe(100);
  });

  it('should throw a helpful RangeError for invalid options', () => {
    expect(() => retryBackoff({ maxAttempts: 0 })).toThrow(/maxAttempts must be an integer ≥ 1/);
    expect(() => retryBackoff({ maxAttempts: 1.5 })).toThrow(RangeError);
    expect(() => retryBackoff({ initialDelayMs: -1 })).toThrow(/initialDelayMs/);
    expect(() => retryBackoff({ maxDelayMs: Infinity })).toThrow(/maxDelayMs must be finite/);
    expect(() => retryBackoff({ multiplier: 0.5 })).toThrow(/multiplier/);
    expect(() => retryBackoff({ jitter: 'half' as 'full' })).toThrow(/jitter/);
  });
});
