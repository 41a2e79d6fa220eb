import { Observable, Subject } from 'rxjs';
import type { TestScheduler } from 'rxjs/testing';
import type { ChunkDelta, StreamingChunk, Usage } from '../../src/chunk/streaming-chunk';
import { IncompleteStreamError } from '../../src/errors/incomplete-stream-error';
import { NetworkError } from '../../src/errors/network-error';
import { ProviderError } from '../../src/errors/provider-error';
import { RateLimitError } from '../../src/errors/rate-limit-error';
import { ValidationError } from '../../src/errors/validation-error';
import { currentFlow, runWithFlow, type FlowControl } from '../../src/flow/flow-control';
import {
  candidate,
  failover,
  isFailoverableError,
  type FailoverCandidate,
  type FailoverConfig,
  type FailoverInfo,
} from '../../src/operators/failover';
import type { Provider } from '../../src/providers/provider';
import type { ChatRequest } from '../../src/request/chat-request';
import { createScheduler } from '../helpers/marbles';

/** Who served a chunk. */
interface Server {
  provider: string;
  model: string;
}
const S1: Server = { provider: 'p1', model: 'm1' };
const S2: Server = { provider: 'p2', model: 'm2' };
const S3: Server = { provider: 'p3', model: 'm3' };

function chunk(
  who: Server,
  delta: ChunkDelta,
  finish: 'stop' | null = null,
  usage?: Usage,
): StreamingChunk {
  return {
    id: `id-${who.provider}`,
    object: 'chat.completion.chunk',
    created: 0,
    model: who.model,
    provider: who.provider,
    choices:
      usage === undefined || finish !== null ? [{ index: 0, delta, finish_reason: finish }] : [],
    ...(usage === undefined ? {} : { usage }),
  };
}
const role = (who: Server): StreamingChunk => chunk(who, { role: 'assistant', content: '' });
const text = (who: Server, content: string): StreamingChunk => chunk(who, { content });
const finish = (who: Server): StreamingChunk => chunk(who, {}, 'stop');
const usage = (who: Server, prompt: number, completion: number): StreamingChunk =>
  chunk(who, {}, null, {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
  });
/** A content chunk with its role removed, as a continuing leg's chunks are emitted. */
const withoutRole = (c: StreamingChunk): StreamingChunk => ({
  ...c,
  choices: c.choices.map(({ delta: { role: _role, ...delta }, ...rest }) => ({ ...rest, delta })),
});

const request: ChatRequest = { model: 'm1', messages: [{ role: 'user', content: 'Say hello' }] };

/** A word count: makes the usage estimates easy to check by eye. */
const words = (t: string): number => (t.trim() === '' ? 0 : t.trim().split(/\s+/).length);

const overloaded = (provider = 'p1'): ProviderError =>
  new ProviderError('overloaded', 'Overloaded', { provider, status: 529 });
const reset = (provider = 'p1'): NetworkError =>
  new NetworkError('Connection reset (ECONNRESET)', { provider });

/** A candidate over a cold marble stream; records the requests it was sent. */
function marbleCandidate(
  name: string,
  model: string,
  stream: (request: ChatRequest) => Observable<StreamingChunk>,
): FailoverCandidate & { requests: ChatRequest[] } {
  const requests: ChatRequest[] = [];
  return {
    name,
    model,
    requests,
    stream(r) {
      requests.push(r);
      return stream(r);
    },
  };
}

/** The expected error: an IncompleteStreamError with this partial text and cause. */
function incompleteWith(partialText: string, cause: unknown): unknown {
  return expect.objectContaining({
    name: 'IncompleteStreamError',
    code: 'RXLLM_INCOMPLETE_STREAM',
    partialText,
    cause,
  });
}

const endsWithPrefill = (r: ChatRequest): boolean =>
  r.messages[r.messages.length - 1]?.role === 'assistant';

let testScheduler: TestScheduler;

beforeEach(() => {
  testScheduler = createScheduler();
});

describe('failover', () => {
  describe('before the first content chunk', () => {
    it('should switch to the next candidate invisibly, holding back the role chunk', () => {
      testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold<StreamingChunk>('       -r-#', { r: role(S1) }, overloaded());
        const leg2 = cold<StreamingChunk>('            --r-a---b-u|', {
          r: role(S2),
          a: text(S2, 'Hel'),
          b: text(S2, 'lo'),
          u: usage(S2, 5, 2),
        });
        const expected = '     -------(ra)b-u|';
        const sourceSubs = '   ^--!';
        const leg2Subs = '     ---^----------!';
        const infos: FailoverInfo[] = [];
        const c2 = marbleCandidate('c2', 'm2', () => leg2);

        const result = source.pipe(failover([c2], { request, onFailover: (i) => infos.push(i) }));

        expectObservable(result).toBe(expected, {
          r: role(S2),
          a: text(S2, 'Hel'),
          b: text(S2, 'lo'),
          u: usage(S2, 5, 2), // a leg that failed before content counts zero
        });
        expectSubscriptions(source.subscriptions).toBe(sourceSubs);
        expectSubscriptions(leg2.subscriptions).toBe(leg2Subs);
        testScheduler.flush();
        expect(c2.requests).toEqual([request]);
        expect(infos).toEqual([
          {
            from: 'm1',
            to: 'c2',
            error: overloaded(),
            resumed: false,
            mode: 'restart',
            partialText: '',
          },
        ]);
      });
    });

    it('should switch when the source fails at its very first notification', () => {
      testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold<StreamingChunk>('      #', undefined, reset());
        const leg2 = cold<StreamingChunk>('       -a|', { a: text(S2, 'Hi') });
        const expected = '        -a|';

        const result = source.pipe(
          failover([marbleCandidate('c2', 'm2', () => leg2)], { request }),
        );

        expectObservable(result).toBe(expected, { a: text(S2, 'Hi') });
        expectSubscriptions(source.subscriptions).toBe('(^!)');
        expectSubscriptions(leg2.subscriptions).toBe('^-!');
      });
    });

    it('should rethrow the last leg’s error unchanged when no candidate is left', () => {
      testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold<StreamingChunk>('      -#', undefined, reset());
        const leg2 = cold<StreamingChunk>('         --#', undefined, overloaded('p2'));
        const expected = '        ---#';

        const result = source.pipe(
          failover([marbleCandidate('c2', 'm2', () => leg2)], { request }),
        );

        expectObservable(result).toBe(expected, undefined, overloaded('p2'));
        expectSubscriptions(leg2.subscriptions).toBe('-^-!');
      });
    });

    it('should emit the held-back chunks of a leg that completes without content', () => {
      testScheduler.run(({ cold, expectObservable }) => {
        const source = cold<StreamingChunk>('      -r-f|', { r: role(S1), f: finish(S1) });
        const expected = '        ----(rf|)';

        expectObservable(source.pipe(failover([], { request }))).toBe(expected, {
          r: role(S1),
          f: finish(S1),
        });
      });
    });
  });

  describe('which errors fail over', () => {
    it('should not fail over a non-retryable error to a candidate with the same model', () => {
      testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const invalid = new ProviderError('invalid_request', 'Bad parameter', { status: 400 });
        const source = cold<StreamingChunk>('      -#', undefined, invalid);
        const sameModel = cold<StreamingChunk>('    -a|', { a: text(S2, 'x') });
        const expected = '        -#';

        const result = source.pipe(
          failover([marbleCandidate('c-same', 'm1', () => sameModel)], { request }),
        );

        expectObservable(result).toBe(expected, undefined, invalid);
        expectSubscriptions(sameModel.subscriptions).toBe([]);
      });
    });

    it('should skip the provider, not the model, after an account error (authentication, quota)', () => {
      testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const auth = new ProviderError('authentication', 'Invalid API key', { status: 401 });
        const quota = new RateLimitError('You exceeded your current quota', {
          status: 429,
          quotaExceeded: true,
        });
        for (const error of [auth, quota]) {
          const source = cold<StreamingChunk>('    -#', undefined, error);
          const sameProvider = cold<StreamingChunk>('-a|', { a: text(S2, 'p') });
          const sameModelElsewhere = cold<StreamingChunk>('-b|', { b: text(S2, 'q') });
          const candidates = [
            { ...marbleCandidate('p/m2', 'm2', () => sameProvider), provider: 'p' },
            { ...marbleCandidate('q/m1', 'm1', () => sameModelElsewhere), provider: 'q' },
          ];

          const result = source.pipe(
            failover(candidates, { request, source: { name: 'p/m1', model: 'm1', provider: 'p' } }),
          );

          expectObservable(result).toBe('--b|', { b: text(S2, 'q') });
          expectSubscriptions(sameProvider.subscriptions).toBe([]);
        }
      });
    });

    it('should skip the model after an account error when the provider is not known', () => {
      testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const auth = new ProviderError('authentication', 'Invalid API key', { status: 401 });
        const source = cold<StreamingChunk>('      -#', undefined, auth);
        const sameModel = cold<StreamingChunk>('    -a|', { a: text(S2, 'x') });

        const result = source.pipe(
          failover([marbleCandidate('c-same', 'm1', () => sameModel)], { request }),
        );

        expectObservable(result).toBe('-#', undefined, auth);
        expectSubscriptions(sameModel.subscriptions).toBe([]);
      });
    });

    it('should not fail over a ValidationError at all', () => {
      testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const invalid = new ValidationError([{ path: 'messages', message: 'required' }]);
        const source = cold<StreamingChunk>('      -#', undefined, invalid);
        const other = cold<StreamingChunk>('        -a|', { a: text(S2, 'x') });

        const result = source.pipe(
          failover([marbleCandidate('c2', 'm2', () => other)], { request }),
        );

        expectObservable(result).toBe('-#', undefined, invalid);
        expectSubscriptions(other.subscriptions).toBe([]);
      });
    });

    it('should not fail over a content-filter error, before or after content', () => {
      testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const filtered = new ProviderError('content_filtered', 'Blocked by the content filter');
        const before = cold<StreamingChunk>('      -#', undefined, filtered);
        const after = cold<StreamingChunk>('       -a-#', { a: text(S1, 'Hel') }, filtered);
        const other = cold<StreamingChunk>('       -b|', { b: text(S2, 'x') });
        const candidates = [marbleCandidate('c2', 'm2', () => other)];

        expectObservable(before.pipe(failover(candidates, { request }))).toBe(
          '-#',
          undefined,
          filtered,
        );
        expectObservable(after.pipe(failover(candidates, { request, policy: 'resume' }))).toBe(
          '-a-#',
          { a: text(S1, 'Hel') },
          filtered,
        );
        expectSubscriptions(other.subscriptions).toBe([]);
      });
    });

    it('should fail a context-length error over to the next candidate with a different model', () => {
      testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const tooLong = new ProviderError('context_length_exceeded', 'Too many tokens', {
          status: 400,
        });
        const source = cold<StreamingChunk>('      -#', undefined, tooLong);
        const sameModel = cold<StreamingChunk>('    -x|', { x: text(S1, 'x') });
        const bigger = cold<StreamingChunk>('        --#', undefined, overloaded('p2'));
        const sameModelLater = cold<StreamingChunk>('  -y|', { y: text(S1, 'y') });
        const last = cold<StreamingChunk>('             -a|', { a: text(S3, 'Hi') });
        const expected = '        ----a|';
        const infos: FailoverInfo[] = [];

        const result = source.pipe(
          failover(
            [
              marbleCandidate('c1-other-provider', 'm1', () => sameModel),
              marbleCandidate('c2', 'm2', () => bigger),
              marbleCandidate('c1-again', 'm1', () => sameModelLater),
              marbleCandidate('c3', 'm3', () => last),
            ],
            { request, onFailover: (i) => infos.push(i) },
          ),
        );

        expectObservable(result).toBe(expected, { a: text(S3, 'Hi') });
        expectSubscriptions(sameModel.subscriptions).toBe([]);
        expectSubscriptions(bigger.subscriptions).toBe('-^-!');
        // m1 stays excluded after the retryable failure of m2.
        expectSubscriptions(sameModelLater.subscriptions).toBe([]);
        expectSubscriptions(last.subscriptions).toBe('---^-!');
        testScheduler.flush();
        expect(infos.map(({ from, to }) => `${from}->${to}`)).toEqual(['m1->c2', 'c2->c3']);
      });
    });

    it('should not fail over errors that are not RouterErrors', () => {
      expect(isFailoverableError(new Error('bug'))).toBe(false);
      expect(isFailoverableError(new DOMException('aborted', 'AbortError'))).toBe(false);
      expect(isFailoverableError(reset())).toBe(true);
      expect(isFailoverableError(new ProviderError('authentication', 'bad key'))).toBe(true);
    });

    it('should let isFailoverable veto a failover', () => {
      testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold<StreamingChunk>('      -#', undefined, reset());
        const other = cold<StreamingChunk>('        -a|', { a: text(S2, 'x') });

        const result = source.pipe(
          failover([marbleCandidate('c2', 'm2', () => other)], {
            request,
            isFailoverable: () => false,
          }),
        );

        expectObservable(result).toBe('-#', undefined, reset());
        expectSubscriptions(other.subscriptions).toBe([]);
      });
    });
  });

  describe("after content, policy 'error'", () => {
    it('should error with an IncompleteStreamError carrying the partial text and the cause', () => {
      testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const cut = reset();
        const source = cold<StreamingChunk>(
          '      -r-a-----b#',
          { r: role(S1), a: text(S1, 'Hel'), b: text(S1, 'lo') },
          cut,
        );
        const other = cold<StreamingChunk>('                  -c|', { c: text(S2, 'x') });
        const expected = '        ---(ra)--b#';
        const sourceSubs = '      ^---------!';

        const result = source.pipe(
          failover([marbleCandidate('c2', 'm2', () => other)], { request }),
        );

        expectObservable(result).toBe(
          expected,
          { r: role(S1), a: text(S1, 'Hel'), b: text(S1, 'lo') },
          incompleteWith('Hello', cut),
        );
        expectSubscriptions(source.subscriptions).toBe(sourceSubs);
        expectSubscriptions(other.subscriptions).toBe([]);
      });
    });

    it('should surface the error as an IncompleteStreamError instance with isRetryable', () => {
      let caught: unknown;
      const cut = reset();
      new Observable<StreamingChunk>((s) => {
        s.next(text(S1, 'Hel'));
        s.error(cut);
      })
        .pipe(failover([], { request }))
        .subscribe({ error: (e: unknown) => (caught = e) });
      expect(caught).toBeInstanceOf(IncompleteStreamError);
      expect(caught).toMatchObject({ partialText: 'Hel', cause: cut, provider: 'p1' });
      expect((caught as Error).message).toMatch(/broke off after 3 characters.*policy 'resume'/);
    });
  });

  describe("after content, policy 'resume'", () => {
    it('should continue on the next candidate from a prefill, emitting only the continuation, with the usage summed', () => {
      testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const cut = reset();
        const source = cold<StreamingChunk>(
          '      -r-a-----b#',
          { r: role(S1), a: text(S1, 'Hel'), b: text(S1, 'lo') },
          cut,
        );
        const leg2 = cold<StreamingChunk>('                  -r-c-f-u|', {
          r: role(S2),
          c: chunk(S2, { role: 'assistant', content: ' world' }),
          f: finish(S2),
          u: usage(S2, 10, 2),
        });
        const expected = '        ---(ra)--b---c-f-u|';
        const sourceSubs = '      ^---------!';
        const leg2Subs = '        ----------^-------!';
        const infos: FailoverInfo[] = [];
        const c2 = marbleCandidate('c2', 'm2', () => leg2);

        const result = source.pipe(
          failover([c2], {
            request,
            policy: 'resume',
            estimateTokens: words,
            onFailover: (i) => infos.push(i),
          }),
        );

        expectObservable(result).toBe(expected, {
          r: role(S1),
          a: text(S1, 'Hel'),
          b: text(S1, 'lo'),
          c: text(S2, ' world'), // its role removed: the answer's role was sent
          f: finish(S2),
          // leg 2 reported 10 + 2; leg 1 is estimated: prompt 10 − 1 (the prefill 'Hello'),
          // completion 1 ('Hello').
          u: usage(S2, 19, 3),
        });
        expectSubscriptions(source.subscriptions).toBe(sourceSubs);
        expectSubscriptions(leg2.subscriptions).toBe(leg2Subs);
        testScheduler.flush();
        expect(c2.requests).toEqual([
          { ...request, messages: [...request.messages, { role: 'assistant', content: 'Hello' }] },
        ]);
        expect(infos).toEqual([
          { from: 'm1', to: 'c2', error: cut, resumed: true, mode: 'resume', partialText: 'Hello' },
        ]);
      });
    });

    it('should trim trailing whitespace from the prefill and drop it from the continuation', () => {
      testScheduler.run(({ cold, expectObservable }) => {
        const source = cold<StreamingChunk>('      -a#', { a: text(S1, 'Hello ') }, reset());
        const leg2 = cold<StreamingChunk>('          -c-d|', {
          c: text(S2, ' wor'),
          d: text(S2, 'ld'),
        });
        const expected = '        -a-c-d|';
        const c2 = marbleCandidate('c2', 'm2', () => leg2);

        const result = source.pipe(failover([c2], { request, policy: 'resume' }));

        expectObservable(result).toBe(expected, {
          a: text(S1, 'Hello '),
          c: text(S2, 'wor'), // the space trimmed from the prefill is dropped here
          d: text(S2, 'ld'),
        });
        testScheduler.flush();
        expect(c2.requests[0]?.messages.at(-1)).toEqual({ role: 'assistant', content: 'Hello' });
      });
    });

    it('should merge the partial text into the request’s own prefill', () => {
      testScheduler.run(({ cold, expectObservable }) => {
        const prefilled: ChatRequest = {
          ...request,
          messages: [...request.messages, { role: 'assistant', content: 'Sure:' }],
        };
        const source = cold<StreamingChunk>('      -a#', { a: text(S1, ' Hello') }, reset());
        const leg2 = cold<StreamingChunk>('          -c|', { c: text(S2, ' world') });
        const c2 = marbleCandidate('c2', 'm2', () => leg2);

        const result = source.pipe(failover([c2], { request: prefilled, policy: 'resume' }));

        expectObservable(result).toBe('-a-c|', { a: text(S1, ' Hello'), c: text(S2, ' world') });
        testScheduler.flush();
        expect(c2.requests[0]?.messages).toEqual([
          request.messages[0],
          { role: 'assistant', content: 'Sure: Hello' },
        ]);
      });
    });

    it('should regenerate on a candidate that rejects the prefill, and splice when the text continues the emitted one', () => {
      testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const cut = reset();
        const rejected = new ProviderError('invalid_request', 'Prefill not supported', {
          provider: 'p2',
          status: 400,
        });
        const source = cold<StreamingChunk>(
          '      -a---b#',
          { a: text(S1, 'Hel'), b: text(S1, 'lo') },
          cut,
        );
        const prefillLeg = cold<StreamingChunk>('        -#', undefined, rejected);
        const regenerated = cold<StreamingChunk>('        -r-x-y-f-u|', {
          r: role(S2),
          x: chunk(S2, { role: 'assistant', content: 'He' }),
          y: text(S2, 'llo world'),
          f: finish(S2),
          u: usage(S2, 5, 3),
        });
        const expected = '        -a---b------y-f-u|';
        const infos: FailoverInfo[] = [];
        const c2 = marbleCandidate('c2', 'm2', (r) =>
          endsWithPrefill(r) ? prefillLeg : regenerated,
        );

        const result = source.pipe(
          failover([c2], {
            request,
            policy: 'resume',
            estimateTokens: words,
            onFailover: (i) => infos.push(i),
          }),
        );

        expectObservable(result).toBe(expected, {
          a: text(S1, 'Hel'),
          b: text(S1, 'lo'),
          y: text(S2, ' world'), // 'He' + 'llo' skipped: already emitted
          f: finish(S2),
          // regenerated 5 + 3, plus leg 1's estimate: prompt 5 (no prefill), completion 1.
          // The rejected prefill leg streamed nothing and counts zero.
          u: usage(S2, 10, 4),
        });
        expectSubscriptions(source.subscriptions).toBe('^-----!');
        expectSubscriptions(prefillLeg.subscriptions).toBe('------^!');
        expectSubscriptions(regenerated.subscriptions).toBe('-------^---------!');
        testScheduler.flush();
        expect(c2.requests.map(endsWithPrefill)).toEqual([true, false]);
        expect(c2.requests[1]).toEqual(request);
        expect(infos.map(({ from, to, mode }) => `${from}->${to} ${mode}`)).toEqual([
          'm1->c2 resume',
          'c2->c2 regenerate',
        ]);
      });
    });

    it('should surface the original error, not the 400, when the regenerated text diverges', () => {
      testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const cut = reset();
        const rejected = new ProviderError('invalid_request', 'Prefill not supported', {
          status: 400,
        });
        const source = cold<StreamingChunk>(
          '      -a---b#',
          { a: text(S1, 'Hel'), b: text(S1, 'lo') },
          cut,
        );
        const prefillLeg = cold<StreamingChunk>('        -#', undefined, rejected);
        const regenerated = cold<StreamingChunk>('        -x-z-f|', {
          x: text(S2, 'Hel'),
          z: text(S2, 'p me'),
          f: finish(S2),
        });
        const expected = '        -a---b----#';
        const c2 = marbleCandidate('c2', 'm2', (r) =>
          endsWithPrefill(r) ? prefillLeg : regenerated,
        );

        const result = source.pipe(failover([c2], { request, policy: 'resume' }));

        expectObservable(result).toBe(
          expected,
          { a: text(S1, 'Hel'), b: text(S1, 'lo') },
          incompleteWith('Hello', cut),
        );
        expectSubscriptions(regenerated.subscriptions).toBe('-------^--!');
      });
    });

    it('should surface the original error when the regenerated answer ends before the emitted text', () => {
      testScheduler.run(({ cold, expectObservable }) => {
        const cut = reset();
        const rejected = new ProviderError('invalid_request', 'Prefill not supported', {
          status: 400,
        });
        const source = cold<StreamingChunk>('      -a#', { a: text(S1, 'Hello') }, cut);
        const prefillLeg = cold<StreamingChunk>('    -#', undefined, rejected);
        const regenerated = cold<StreamingChunk>('    -x|', { x: text(S2, 'Hel') });
        const c2 = marbleCandidate('c2', 'm2', (r) =>
          endsWithPrefill(r) ? prefillLeg : regenerated,
        );

        const result = source.pipe(failover([c2], { request, policy: 'resume' }));

        expectObservable(result).toBe(
          '-a---#',
          { a: text(S1, 'Hello') },
          incompleteWith('Hello', cut),
        );
      });
    });

    it('should resume on the following candidate when the next one fails before content', () => {
      testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const cut = reset();
        const source = cold<StreamingChunk>('      -a#', { a: text(S1, 'Hello') }, cut);
        const leg2 = cold<StreamingChunk>('          -#', undefined, overloaded('p2'));
        const leg3 = cold<StreamingChunk>('           -c|', { c: text(S3, ' world') });
        const c2 = marbleCandidate('c2', 'm2', () => leg2);
        const c3 = marbleCandidate('c3', 'm3', () => leg3);

        expectObservable(source.pipe(failover([c2, c3], { request, policy: 'resume' }))).toBe(
          '-a--c|',
          { a: text(S1, 'Hello'), c: text(S3, ' world') },
        );
        expectSubscriptions(leg3.subscriptions).toBe('---^-!');
        testScheduler.flush();
        expect(c3.requests[0]?.messages.at(-1)).toEqual({ role: 'assistant', content: 'Hello' });
      });
    });

    it('should surface the original cut when every candidate fails to resume', () => {
      testScheduler.run(({ cold, expectObservable }) => {
        const cut = reset();
        const source = cold<StreamingChunk>('      -a#', { a: text(S1, 'Hello') }, cut);
        const leg2 = cold<StreamingChunk>('          -#', undefined, overloaded('p2'));

        expectObservable(
          source.pipe(
            failover([marbleCandidate('c2', 'm2', () => leg2)], { request, policy: 'resume' }),
          ),
        ).toBe('-a-#', { a: text(S1, 'Hello') }, incompleteWith('Hello', cut));
      });
    });

    it('should surface the original cut when no candidate is left', () => {
      testScheduler.run(({ cold, expectObservable }) => {
        const cut = reset();
        const source = cold<StreamingChunk>('      -a#', { a: text(S1, 'Hello') }, cut);

        expectObservable(source.pipe(failover([], { request, policy: 'resume' }))).toBe(
          '-a#',
          { a: text(S1, 'Hello') },
          incompleteWith('Hello', cut),
        );
      });
    });

    it('should not resume an answer that carries tool-call data', () => {
      testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const cut = reset();
        const call = chunk(S1, {
          tool_calls: [
            { index: 0, id: 'call_1', type: 'function', function: { name: 'f', arguments: '{"a' } },
          ],
        });
        const source = cold<StreamingChunk>(
          '      -a-t#',
          { a: text(S1, 'Let me check.'), t: call },
          cut,
        );
        const other = cold<StreamingChunk>('          -c|', { c: text(S2, 'x') });

        const result = source.pipe(
          failover([marbleCandidate('c2', 'm2', () => other)], { request, policy: 'resume' }),
        );

        expectObservable(result).toBe(
          '-a-t#',
          { a: text(S1, 'Let me check.'), t: call },
          incompleteWith('Let me check.', cut),
        );
        expectSubscriptions(other.subscriptions).toBe([]);
      });
    });

    it('should unsubscribe the current leg when the consumer unsubscribes mid-leg', () => {
      testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold<StreamingChunk>('      -a#', { a: text(S1, 'Hello') }, reset());
        const leg2 = cold<StreamingChunk>('          -c-d-e|', {
          c: text(S2, ' world'),
          d: text(S2, ' again'),
          e: finish(S2),
        });
        const unsub = '            ^----!';
        const expected = '          -a-c-';
        const leg2Subs = '          --^--!';

        const result = source.pipe(
          failover([marbleCandidate('c2', 'm2', () => leg2)], { request, policy: 'resume' }),
        );

        expectObservable(result, unsub).toBe(expected, {
          a: text(S1, 'Hello'),
          c: text(S2, ' world'),
        });
        expectSubscriptions(source.subscriptions).toBe('^-!');
        expectSubscriptions(leg2.subscriptions).toBe(leg2Subs);
      });
    });

    it('should resume twice, summing the estimates of both cut legs', () => {
      testScheduler.run(({ cold, expectObservable }) => {
        const source = cold<StreamingChunk>('      -a#', { a: text(S1, 'one') }, reset());
        const leg2 = cold<StreamingChunk>('          -b#', { b: text(S2, ' two') }, reset('p2'));
        const leg3 = cold<StreamingChunk>('            -c-u|', {
          c: text(S3, ' three'),
          u: usage(S3, 7, 1),
        });

        const result = source.pipe(
          failover(
            [marbleCandidate('c2', 'm2', () => leg2), marbleCandidate('c3', 'm3', () => leg3)],
            { request, policy: 'resume', estimateTokens: words },
          ),
        );

        // leg 3: 7 (prompt incl. the 2-word prefill) + 1. base prompt = 7 − 2 = 5.
        // leg 1: 5 + 0, completion 1. leg 2: 5 + 1 (prefill 'one'), completion 1.
        expectObservable(result).toBe('-a-b-c-u|', {
          a: text(S1, 'one'),
          b: withoutRole(text(S2, ' two')),
          c: text(S3, ' three'),
          u: usage(S3, 18, 3),
        });
      });
    });
  });

  describe('flow control', () => {
    it('should subscribe to a later candidate with the flow control of the first subscription', () => {
      const flow: FlowControl = { ready: () => undefined };
      const source = new Subject<StreamingChunk>();
      let seen: unknown = 'not subscribed';
      const leg2 = new Observable<StreamingChunk>((subscriber) => {
        seen = currentFlow();
        subscriber.next(text(S2, 'Hi'));
        subscriber.complete();
      });
      const values: StreamingChunk[] = [];
      runWithFlow(flow, () =>
        source
          .pipe(failover([marbleCandidate('c2', 'm2', () => leg2)], { request }))
          .subscribe((c) => values.push(c)),
      );
      expect(currentFlow()).toBeUndefined();
      source.error(reset()); // outside any runWithFlow, as a socket error would be
      expect(seen).toBe(flow);
      expect(values).toEqual([text(S2, 'Hi')]);
    });
  });

  describe('candidate()', () => {
    it('should stream with the provider, the request’s model replaced', () => {
      const sent: ChatRequest[] = [];
      const provider: Provider = {
        name: 'acme',
        stream(r) {
          sent.push(r);
          return new Observable<StreamingChunk>((s) => {
            s.complete();
          });
        },
      };
      const c = candidate(provider, 'acme-large');
      expect(c).toMatchObject({ name: 'acme/acme-large', model: 'acme-large', provider: 'acme' });
      c.stream(request).subscribe();
      expect(sent).toEqual([{ ...request, model: 'acme-large' }]);
      expect(candidate(provider, 'x', 'backup').name).toBe('backup');
    });

    it('should reject a missing model, naming it', () => {
      const provider = { name: 'acme', stream: () => new Subject<StreamingChunk>() };
      expect(() => candidate(provider, '')).toThrow(/model/);
    });
  });

  describe('misuse', () => {
    it('should explain how to wrap a Provider passed as a candidate', () => {
      const provider = { name: 'acme', stream: () => new Subject<StreamingChunk>() };
      expect(() => failover([provider as unknown as FailoverCandidate], { request })).toThrow(
        /candidate\(provider, model\)/,
      );
    });

    it('should require the request', () => {
      expect(() => failover([], {} as FailoverConfig)).toThrow(/config\.request/);
    });

    it('should reject an unknown policy', () => {
      expect(() =>
        failover([], { request, policy: 'retry' as FailoverConfig['policy'] & string }),
      ).toThrow(/'error' or 'resume'/);
    });
  });
});
