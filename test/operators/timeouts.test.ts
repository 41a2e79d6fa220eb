import { NEVER, Observable, Subject, concat, of } from 'rxjs';
import type { TestScheduler } from 'rxjs/testing';
import type { StreamingChunk } from '../../src/chunk/streaming-chunk';
import { ProviderError } from '../../src/errors/provider-error';
import { TimeoutError } from '../../src/errors/timeout-error';
import { currentFlow, runWithFlow, type FlowControl } from '../../src/flow/flow-control';
import { timeouts } from '../../src/operators/timeouts';
import { createComparingScheduler, streamValues } from '../helpers/marbles';

/** r: role-only, e: empty keep-alive, u: usage-only, a/b: content. */
const values: Record<string, StreamingChunk> = { ...streamValues };

describe('timeouts', () => {
  let testScheduler: TestScheduler;

  beforeEach(() => {
    testScheduler = createComparingScheduler();
  });

  it('should mirror the source when every clock is within its limit', () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold(' -r-a-b-|', values);
      const subs = '        ^------!';
      const expected = '    -r-a-b-|';
      expectObservable(source.pipe(timeouts({ firstToken: 4, idle: 3, total: 10 }))).toBe(
        expected,
        values,
      );
      expectSubscriptions(source.subscriptions).toBe(subs);
    });
  });

  it('should fail with first-token when only role-only, empty and usage chunks arrive', () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold(' -r-e-u-e-a-|', values);
      const subs = '        ^-----!';
      const expected = '    -r-e-u#';
      const error = new TimeoutError('first-token', 6, { provider: 'p' });
      expectObservable(source.pipe(timeouts({ firstToken: 6 }))).toBe(expected, values, error);
      expectSubscriptions(source.subscriptions).toBe(subs);
    });
  });

  it('should let keep-alive chunks reset the idle clock but not the first-token clock', () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      // Gaps of 2 frames between keep-alives: idle (3) never fires; first-token (7) does.
      const source = cold(' -r-e-e-e-a-|', values);
      const subs = '        ^------!';
      const expected = '    -r-e-e-#';
      const error = new TimeoutError('first-token', 7, { provider: 'p' });
      expectObservable(source.pipe(timeouts({ firstToken: 7, idle: 3 }))).toBe(
        expected,
        values,
        error,
      );
      expectSubscriptions(source.subscriptions).toBe(subs);
    });
  });

  it('should stop the first-token clock at the first content chunk', () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold(' -r-a--------b-|', values);
      const subs = '        ^-------------!';
      const expected = '    -r-a--------b-|';
      expectObservable(source.pipe(timeouts({ firstToken: 4 }))).toBe(expected, values);
      expectSubscriptions(source.subscriptions).toBe(subs);
    });
  });

  it('should fail with idle when nothing arrives from subscription', () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold(' ------a-|', values);
      const subs = '        ^--!';
      const expected = '    ---#';
      const error = new TimeoutError('idle', 3);
      expectObservable(source.pipe(timeouts({ idle: 3 }))).toBe(expected, values, error);
      expectSubscriptions(source.subscriptions).toBe(subs);
    });
  });

  it('should fail with idle on a gap between two chunks, naming the last chunk provider', () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold(' -a-----b|', values);
      const subs = '        ^---!';
      const expected = '    -a--#';
      const error = new TimeoutError('idle', 3, { provider: 'p' });
      expectObservable(source.pipe(timeouts({ idle: 3, firstToken: 100 }))).toBe(
        expected,
        values,
        error,
      );
      expectSubscriptions(source.subscriptions).toBe(subs);
    });
  });

  it('should fail with idle between the last chunk and completion', () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold(' -a-b------|', values);
      const subs = '        ^------!';
      const expected = '    -a-b---#';
      const error = new TimeoutError('idle', 4, { provider: 'p' });
      expectObservable(source.pipe(timeouts({ idle: 4 }))).toBe(expected, values, error);
      expectSubscriptions(source.subscriptions).toBe(subs);
    });
  });

  it('should fail with total when the whole stream takes too long', () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold(' -a-b-a-b-a-|', values);
      const subs = '        ^-------!';
      const expected = '    -a-b-a-b#';
      const error = new TimeoutError('total', 8, { provider: 'openai' });
      expectObservable(
        source.pipe(timeouts({ firstToken: 2, idle: 3, total: 8, provider: 'openai' })),
      ).toBe(expected, values, error);
      expectSubscriptions(source.subscriptions).toBe(subs);
    });
  });

  it('should name the configured provider rather than the chunk provider', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      const source = cold('-r----', values);
      const error = new TimeoutError('first-token', 3, { provider: 'anthropic' });
      expectObservable(source.pipe(timeouts({ firstToken: 3, provider: 'anthropic' }))).toBe(
        '-r-#',
        values,
        error,
      );
    });
  });

  it('should pass a source error through and stop the clocks', () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const failure = new ProviderError('overloaded', 'Overloaded');
      const source = cold(' -r-#', values, failure);
      const subs = '        ^--!';
      const expected = '    -r-#';
      expectObservable(source.pipe(timeouts({ firstToken: 5, idle: 5, total: 5 }))).toBe(
        expected,
        values,
        failure,
      );
      expectSubscriptions(source.subscriptions).toBe(subs);
    });
  });

  it('should pass through an error raised at subscription, before any chunk', () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const failure = new ProviderError('server_error', 'Boom');
      const source = cold('#', values, failure);
      expectObservable(source.pipe(timeouts({ firstToken: 1, idle: 1, total: 1 }))).toBe(
        '#',
        values,
        failure,
      );
      expectSubscriptions(source.subscriptions).toBe('(^!)');
    });
  });

  it('should pass through an error arriving in the same frame as the first chunk', () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const failure = new ProviderError('server_error', 'Boom');
      const source = cold('--(a#)', values, failure);
      expectObservable(source.pipe(timeouts({ firstToken: 5, idle: 5 }))).toBe(
        '--(a#)',
        values,
        failure,
      );
      expectSubscriptions(source.subscriptions).toBe('^-!');
    });
  });

  it('should count a chunk emitted synchronously on subscription', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      // Clocks are armed before subscribing, so this synchronous content stops first-token.
      const source = concat(of(values.a!), cold('-----|', values));
      expectObservable(source.pipe(timeouts({ firstToken: 1, idle: 10 }))).toBe('a----|', values);
    });
  });

  it('should stop its clocks and unsubscribe upstream when unsubscribed', () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold(' -r------', values);
      const unsub = '       ---!';
      const subs = '        ^--!';
      expectObservable(source.pipe(timeouts({ firstToken: 5 })), unsub).toBe('-r-', values);
      expectSubscriptions(source.subscriptions).toBe(subs);
    });
  });

  it('should start fresh clocks on each subscription', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      const source = cold('--a|', values);
      const timed = source.pipe(timeouts({ firstToken: 3, total: 4 }));
      expectObservable(timed).toBe('--a|', values);
      expectObservable(timed, '-----^').toBe('-------a|', values);
    });
  });

  it('should clear its real timers on unsubscribe', () => {
    jest.useFakeTimers();
    try {
      const subscription = new Subject<StreamingChunk>()
        .pipe(timeouts({ firstToken: 1_000, idle: 2_000, total: 3_000 }))
        .subscribe();
      expect(jest.getTimerCount()).toBe(3);
      subscription.unsubscribe();
      expect(jest.getTimerCount()).toBe(0);
    } finally {
      jest.useRealTimers();
    }
  });

  it('should run on the given scheduler outside TestScheduler.run', () => {
    const events: string[] = [];
    NEVER.pipe(timeouts({ idle: 50, scheduler: testScheduler })).subscribe({
      error: (error: unknown) => {
        events.push(`${(error as TimeoutError).kind}@${testScheduler.now()}`);
      },
    });
    testScheduler.flush();
    expect(events).toEqual(['idle@50']);
  });

  it('should subscribe to the source synchronously, within the consumer flow control', () => {
    const flow: FlowControl = { ready: () => undefined };
    const seen: (FlowControl | undefined)[] = [];
    const source = new Observable<StreamingChunk>(() => {
      seen.push(currentFlow());
    });
    const subscription = runWithFlow(flow, () =>
      source.pipe(timeouts({ idle: 10, scheduler: testScheduler })).subscribe(),
    );
    subscription.unsubscribe();
    expect(seen).toEqual([flow]);
  });

  it('should throw a helpful RangeError for an invalid limit', () => {
    expect(() => timeouts({ idle: 0 })).toThrow(RangeError);
    expect(() => timeouts({ firstToken: -5 })).toThrow(/firstToken must be a positive number/);
    expect(() => timeouts({ total: Number.NaN })).toThrow(/total/);
    expect(() => timeouts({ total: Infinity })).not.toThrow();
  });
});
