import { lastValueFrom, of, retry, toArray } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { ProviderError } from '../../src/errors/provider-error';
import { RateLimitError } from '../../src/errors/rate-limit-error';
import type { ChatRequest } from '../../src/request/chat-request';
import {
  chunkScript,
  chunksFromText,
  fakeProvider,
  finishChunk,
  httpError,
  textChunk,
  textOf,
} from '../../src/testing/index';

const request: ChatRequest = { model: 'm', messages: [{ role: 'user', content: 'Hi' }] };

describe('fakeProvider', () => {
  let testScheduler: TestScheduler;
  beforeEach(() => {
    testScheduler = new TestScheduler((actual, expected) => {
      expect(actual).toEqual(expected);
    });
  });

  it('should play a marble script under virtual time', () => {
    testScheduler.run(({ expectObservable, expectSubscriptions }) => {
      const values = { a: textChunk('Hel'), b: textChunk('lo'), s: finishChunk('stop') };
      const provider = fakeProvider({ attempts: { marble: '-a-b-(s|)', values } });

      expectObservable(provider.stream(request)).toBe('-a-b-(s|)', values);
      expectSubscriptions(provider.subscriptions).toBe('^----!');
    });
  });

  it('should emit a text chunk of the letter for a letter without a value', () => {
    testScheduler.run(({ expectObservable }) => {
      const provider = fakeProvider({ name: 'p1', attempts: '-a-(bc|)' });
      expectObservable(provider.stream(request)).toBe('-a-(bc|)', {
        a: textChunk('a', { provider: 'p1' }),
        b: textChunk('b', { provider: 'p1' }),
        c: textChunk('c', { provider: 'p1' }),
      });
    });
  });

  it('should honour time progression', () => {
    testScheduler.run(({ expectObservable }) => {
      const provider = fakeProvider({ attempts: '100ms a 1s |' });
      expectObservable(provider.stream(request)).toBe('100ms a 1s |', { a: textChunk('a') });
    });
  });

  it('should turn a status into the typed error the HTTP layer raises', () => {
    testScheduler.run(({ expectObservable }) => {
      const overloaded = fakeProvider({ name: 'p1', attempts: { marble: '--#', error: 503 } });
      const limited = fakeProvider({ name: 'p2', attempts: { marble: '#', error: 429 } });
      expectObservable(overloaded.stream(request)).toBe(
        '--#',
        undefined,
        expect.objectContaining({
          name: 'ProviderError',
          kind: 'server_error',
          status: 503,
          provider: 'p1',
          isRetryable: true,
        }),
      );
      expectObservable(limited.stream(request)).toBe(
        '#',
        undefined,
        expect.objectContaining({ name: 'RateLimitError', status: 429, isRetryable: true }),
      );
    });
  });

  it('should error with an HTTP 500 when the script gives no error', () => {
    testScheduler.run(({ expectObservable }) => {
      const provider = fakeProvider({ attempts: '-a#' });
      expectObservable(provider.stream(request)).toBe('-a#', { a: textChunk('a') }, httpError(500));
    });
  });

  it('should use an error object as it is', () => {
    const error = new ProviderError('overloaded', 'Overloaded', { provider: 'x' });
    testScheduler.run(({ expectObservable }) => {
      const provider = fakeProvider({ attempts: { marble: '-#', error } });
      expectObservable(provider.stream(request)).toBe('-#', undefined, error);
    });
  });

  it('should play attempt i for the i-th subscription, the last one repeating', () => {
    testScheduler.run(({ expectObservable, expectSubscriptions }) => {
      const provider = fakeProvider({
        attempts: [{ marble: '-#', error: 503 }, '--a|', '-b|'],
      });
      expectObservable(provider.stream(request)).toBe('-#', undefined, httpError(503));
      expectObservable(provider.stream(request)).toBe('--a|', { a: textChunk('a') });
      expectObservable(provider.stream(request)).toBe('-b|', { b: textChunk('b') });
      expectObservable(provider.stream(request)).toBe('-b|', { b: textChunk('b') });
      expectSubscriptions(provider.subscriptions).toBe(['^!', '^--!', '^-!', '^-!']);
    });
  });

  it('should script "503 first, then an answer" for a retrying pipeline', () => {
    const provider = fakeProvider({ attempts: [{ marble: '--#', error: 503 }, '-a|'] });
    testScheduler.run(({ expectObservable, expectSubscriptions }) => {
      const answer$ = provider.stream(request).pipe(retry({ count: 1, delay: 3 }));
      expectObservable(answer$).toBe('------a|', { a: textChunk('a') });
      expectSubscriptions(provider.subscriptions).toBe(['^-!', '-----^-!']);
    });
    expect(provider.attempts.map((a) => a.outcome)).toEqual(['errored', 'completed']);
  });

  it('should record every attempt: request, frames, outcome and chunks emitted', () => {
    const provider = fakeProvider({
      attempts: [{ marble: '-a-#', error: 503 }, '-a-b|', '-a-b-c|'],
    });
    const other: ChatRequest = { ...request, model: 'm2' };
    testScheduler.run(({ expectObservable }) => {
      expectObservable(provider.stream(request)).toBe(
        '-a-#',
        { a: textChunk('a') },
        httpError(503),
      );
      expectObservable(provider.stream(request), '^--!').toBe('-a-', { a: textChunk('a') });
      expectObservable(provider.stream(other), '--^').toBe('---a-b-c|', {
        a: textChunk('a'),
        b: textChunk('b'),
        c: textChunk('c'),
      });
    });
    expect(provider.attempts).toEqual([
      expect.objectContaining({
        attempt: 0,
        request,
        subscribedFrame: 0,
        unsubscribedFrame: 3,
        outcome: 'errored',
        emitted: 1,
        error: httpError(503),
      }),
      expect.objectContaining({
        attempt: 1,
        subscribedFrame: 0,
        unsubscribedFrame: 3,
        outcome: 'unsubscribed',
        emitted: 1,
      }),
      expect.objectContaining({
        attempt: 2,
        request: other,
        subscribedFrame: 2,
        unsubscribedFrame: 8,
        outcome: 'completed',
        emitted: 3,
      }),
    ]);
    expect(provider.requests.map((r) => r.model)).toEqual(['m', 'm', 'm2']);
  });

  it('should error with the signal reason when the signal aborts', () => {
    const controller = new AbortController();
    const reason = new Error('user cancelled');
    const provider = fakeProvider({ attempts: '-a-b-c|' });
    testScheduler.run(({ expectObservable, expectSubscriptions }) => {
      testScheduler.schedule(() => {
        controller.abort(reason);
      }, 2);
      expectObservable(provider.stream(request, { signal: controller.signal })).toBe(
        '-a#',
        { a: textChunk('a') },
        reason,
      );
      expectSubscriptions(provider.subscriptions).toBe('^-!');
    });
    expect(provider.attempts[0]).toMatchObject({ outcome: 'aborted', error: reason });
  });

  it('should error at once when the signal is already aborted', () => {
    const controller = new AbortController();
    controller.abort(new Error('too late'));
    const provider = fakeProvider({ attempts: '-a|' });
    testScheduler.run(({ expectObservable }) => {
      expectObservable(provider.stream(request, { signal: controller.signal })).toBe(
        '#',
        undefined,
        new Error('too late'),
      );
    });
    expect(provider.attempts[0]?.outcome).toBe('aborted');
  });

  it('should play Observable and function attempts', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      const values = { x: textChunk('x') };
      const scripted = cold('--x|', values);
      const provider = fakeProvider({
        attempts: [scripted, ({ attempt, request: r }) => of(textChunk(`${attempt}:${r.model}`))],
      });
      expectObservable(provider.stream(request)).toBe('--x|', values);
      expectObservable(provider.stream(request)).toBe('(y|)', { y: textChunk('1:m') });
    });
  });

  it('should play chunk scripts', () => {
    testScheduler.run(({ expectObservable }) => {
      const chunks = chunksFromText('Hi there');
      const script = chunkScript(chunks);
      expect(script.marble).toBe('-a-b-c-d|');
      const provider = fakeProvider({ attempts: script });
      expectObservable(provider.stream(request)).toBe('-a-b-c-d|', script.values);
    });
  });

  it('should reject scripts a cold provider cannot play', () => {
    expect(() => fakeProvider({ attempts: [] })).toThrow(/`attempts` is empty/);
    expect(() => fakeProvider({ attempts: '--^-a|' })).toThrow(/has a "\^"/);
    expect(() => fakeProvider({ attempts: ['-a|', '-a-!'] })).toThrow(/attempt 1's marble/);
    expect(() => fakeProvider({ attempts: { values: {} } as never })).toThrow(
      /not a marble string/,
    );
  });

  it('should play in real time outside TestScheduler.run', async () => {
    const provider = fakeProvider({ attempts: chunkScript(chunksFromText('Hello real world')) });
    const chunks = await lastValueFrom(provider.stream(request).pipe(toArray()));
    expect(textOf(chunks)).toBe('Hello real world');
    expect(provider.attempts[0]?.outcome).toBe('completed');
  });

  it('should give a 429 shorthand a RateLimitError instance', () => {
    const provider = fakeProvider({ attempts: { marble: '#', error: 429 } });
    let error: unknown;
    testScheduler.run(() => {
      provider.stream(request).subscribe({ error: (e: unknown) => (error = e) });
    });
    expect(error).toBeInstanceOf(RateLimitError);
  });
});
