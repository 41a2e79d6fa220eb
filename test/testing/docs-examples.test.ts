// The examples of docs/testing.md, run as tests. docs-sync.test.ts checks that every code block
// of the guide appears here verbatim (imports from 'rx-llm-router' map to the sources).
import { lastValueFrom, map, toArray, type MonoTypeOperatorFunction } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import type { ChatRequest, StreamingChunk } from '../../src/core';
import { candidate, failover } from '../../src/operators/failover';
import {
  chunkScript,
  chunksFromText,
  expectFinishReason,
  expectText,
  expectUsage,
  fakeProvider,
  finishChunk,
  textChunk,
} from '../../src/testing/index';

// docs/testing.md — example 1: a custom operator

// The operator under test: upper-cases the text of every chunk.
function shout(): MonoTypeOperatorFunction<StreamingChunk> {
  return map((chunk) => ({
    ...chunk,
    choices: chunk.choices.map((choice) =>
      typeof choice.delta.content === 'string'
        ? { ...choice, delta: { ...choice.delta, content: choice.delta.content.toUpperCase() } }
        : choice,
    ),
  }));
}

describe('shout', () => {
  const request: ChatRequest = { model: 'fake-model', messages: [{ role: 'user', content: 'Hi' }] };
  let testScheduler: TestScheduler;
  beforeEach(() => {
    testScheduler = new TestScheduler((actual, expected) => {
      expect(actual).toEqual(expected);
    });
  });

  it('should upper-case every text delta as it arrives', () => {
    testScheduler.run(({ expectObservable, expectSubscriptions }) => {
      const provider = fakeProvider({
        attempts: {
          marble: '-a-b-(c|)',
          values: { a: textChunk('Hello'), b: textChunk(' world'), c: finishChunk('stop') },
        },
      });

      expectObservable(provider.stream(request).pipe(shout())).toBe('-a-b-(c|)', {
        a: textChunk('HELLO'),
        b: textChunk(' WORLD'),
        c: finishChunk('stop'),
      });
      expectSubscriptions(provider.subscriptions).toBe('^----!');
    });
  });

  it('should keep the finish reason and the usage of a whole answer', async () => {
    // Outside TestScheduler.run the script plays in real time (10 ms a frame).
    const chunks = chunksFromText('Hello world', { usage: { prompt: 5 } });
    const provider = fakeProvider({ attempts: chunkScript(chunks) });

    const out = await lastValueFrom(provider.stream(request).pipe(shout(), toArray()));

    expectText(out, 'HELLO WORLD');
    expectFinishReason(out, 'stop');
    expectUsage(out, { prompt: 5, completion: 2 });
  });
});

// docs/testing.md — example 2: failover

describe('failover to a backup provider', () => {
  const request: ChatRequest = { model: 'main-model', messages: [{ role: 'user', content: 'Hi' }] };
  let testScheduler: TestScheduler;
  beforeEach(() => {
    testScheduler = new TestScheduler((actual, expected) => {
      expect(actual).toEqual(expected);
    });
  });

  it('should switch to the backup when the main provider fails before the first token', () => {
    const main = fakeProvider({ name: 'main', attempts: { marble: '--#', error: 503 } });
    const values = {
      h: textChunk('Hello', { provider: 'backup' }),
      w: textChunk(' world', { provider: 'backup' }),
      s: finishChunk('stop', { provider: 'backup' }),
    };
    const backup = fakeProvider({ name: 'backup', attempts: { marble: '-h-w-(s|)', values } });

    testScheduler.run(({ expectObservable, expectSubscriptions }) => {
      const answer$ = main
        .stream(request)
        .pipe(failover([candidate(backup, 'backup-model')], { request }));

      expectObservable(answer$).toBe('---h-w-(s|)', values);
      expectSubscriptions(main.subscriptions).toBe('^-!');
      expectSubscriptions(backup.subscriptions).toBe('--^----!');
    });

    expect(main.attempts[0]?.outcome).toBe('errored');
    expect(backup.requests[0]?.model).toBe('backup-model');
  });

  it('should never pass off an answer cut after the first token as complete', () => {
    const main = fakeProvider({
      name: 'main',
      attempts: {
        marble: '-h-w#',
        values: { h: textChunk('Hello'), w: textChunk(' wor') },
        error: 503,
      },
    });
    const backup = fakeProvider({ name: 'backup', attempts: '-x|' });

    testScheduler.run(({ expectObservable }) => {
      const answer$ = main
        .stream(request)
        .pipe(failover([candidate(backup, 'backup-model')], { request }));

      expectObservable(answer$).toBe(
        '-h-w#',
        { h: textChunk('Hello'), w: textChunk(' wor') },
        expect.objectContaining({ code: 'RXLLM_INCOMPLETE_STREAM', partialText: 'Hello wor' }),
      );
    });

    expect(backup.attempts).toHaveLength(0); // policy 'error': no second paid call
  });
});
