import { Observable, map, take, toArray, type Subscription } from 'rxjs';
import type { TestScheduler } from 'rxjs/testing';
import { currentFlow, runWithFlow } from '../../src/flow/flow-control';
import { IncompleteStreamError } from '../../src/errors/incomplete-stream-error';
import { ProviderError } from '../../src/errors/provider-error';
import { SharedStream, shareStream } from '../../src/operators/share-stream';
import { compactChunkRecording } from '../../src/chunk/compact-chunk-recording';
import type { StreamingChunk } from '../../src/chunk/streaming-chunk';
import { finishChunk, roleChunk, textChunk } from '../../src/testing/index';
import { createScheduler } from '../helpers/marbles';

const abandoned = expect.objectContaining({
  name: 'IncompleteStreamError',
  code: 'RXLLM_INCOMPLETE_STREAM',
});

describe('shareStream', () => {
  let testScheduler: TestScheduler;
  beforeEach(() => {
    testScheduler = createScheduler();
  });

  it('should subscribe to the source once for many subscribers', () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold(' -a-b-c|');
      const subs = '        ^-----!';
      const expected = '    -a-b-c|';

      const shared = source.pipe(shareStream());

      expectObservable(shared).toBe(expected);
      expectObservable(shared).toBe(expected);
      expectObservable(shared, '^').toBe(expected);
      expectSubscriptions(source.subscriptions).toBe(subs);
    });
  });

  it('should replay what has arrived to a late subscriber, then go live', () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold(' -a-b----c|');
      const subs = '        ^--------!';
      const late = '        ----^';
      const expected = '    ----(ab)c|';

      const shared = source.pipe(shareStream());

      expectObservable(shared).toBe('-a-b----c|');
      expectObservable(shared, late).toBe(expected);
      expectSubscriptions(source.subscriptions).toBe(subs);
    });
  });

  it('should replay an error to a later subscriber instead of re-running the source', () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const error = new ProviderError('overloaded', 'Overloaded');
      const source = cold(' -a-#', undefined, error);
      const subs = '        ^--!';
      const late = '        -----^';
      const expected = '    -----(a#)';

      const shared = source.pipe(shareStream());

      expectObservable(shared).toBe('-a-#', undefined, error);
      expectObservable(shared, late).toBe(expected, undefined, error);
      expectSubscriptions(source.subscriptions).toBe(subs);
    });
  });

  it('should give the same error object to every subscriber', () => {
    testScheduler.run(({ cold, flush }) => {
      const error = new ProviderError('overloaded', 'Overloaded');
      const shared = cold('-#', undefined, error).pipe(shareStream());
      const seen: unknown[] = [];
      shared.subscribe({ error: (e: unknown) => seen.push(e) });
      flush();
      shared.subscribe({ error: (e: unknown) => seen.push(e) });
      expect(seen).toHaveLength(2);
      expect(seen[0]).toBe(error);
      expect(seen[1]).toBe(error);
    });
  });

  it('should never re-subscribe to a completed source', () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold(' -a-b|');
      const subs = '        ^---!';
      const late = '        ------^';
      const later = '       ---------^';

      const shared = source.pipe(shareStream());

      expectObservable(shared).toBe('-a-b|');
      expectObservable(shared, late).toBe('------(ab|)');
      expectObservable(shared, later).toBe('---------(ab|)');
      expectSubscriptions(source.subscriptions).toBe(subs);
    });
  });

  it('should unsubscribe from the source when the last subscriber leaves', () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold(' -a-b-c-d|');
      const sub1 = '        ^--!';
      const sub2 = '        ^----!';
      const subs = '        ^----!';

      const shared = source.pipe(shareStream());

      expectObservable(shared, sub1).toBe('-a-');
      expectObservable(shared, sub2).toBe('-a-b-');
      expectSubscriptions(source.subscriptions).toBe(subs);
    });
  });

  it('should keep the source running while one subscriber remains', () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold(' -a-b-c|');
      const sub1 = '        ^--!';
      const sub2 = '        --^';
      const subs = '        ^-----!';

      const shared = source.pipe(shareStream());

      expectObservable(shared, sub1).toBe('-a-');
      expectObservable(shared, sub2).toBe('--ab-c|');
      expectSubscriptions(source.subscriptions).toBe(subs);
    });
  });

  it('should give a subscriber arriving after everyone left the replay, then an IncompleteStreamError', () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold(' -a-b-c|');
      const sub1 = '        ^----!';
      const late = '        -------^';
      const subs = '        ^----!';

      const shared = source.pipe(shareStream());

      expectObservable(shared, sub1).toBe('-a-b-');
      expectObservable(shared, late).toBe('-------(ab#)', undefined, abandoned);
      expectSubscriptions(source.subscriptions).toBe(subs);
    });
  });

  it('should tell what had arrived in the IncompleteStreamError of an abandoned stream', () => {
    let error: unknown;
    testScheduler.run(({ cold, expectObservable }) => {
      const values = { a: textChunk('Hello'), b: textChunk(' wor') };
      const shared = cold('-a-b-c|', values).pipe(shareStream());
      expectObservable(shared, '^---!').toBe('-a-b', values);
      testScheduler.schedule(() => {
        shared.subscribe({ error: (e: unknown) => (error = e) });
      }, 6);
    });
    expect(error).toBeInstanceOf(IncompleteStreamError);
    expect((error as IncompleteStreamError).partialText).toBe('Hello wor');
    expect((error as IncompleteStreamError).isRetryable).toBe(true);
  });

  it('should start a new request after everyone left when afterAbandon is restart', () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold(' -a-b-c|');
      const sub1 = '        ^--!';
      const late = '        -----^';
      const subs = ['       ^--!', '-----^-----!'];

      const shared = source.pipe(shareStream({ afterAbandon: 'restart' }));

      expectObservable(shared, sub1).toBe('-a-');
      expectObservable(shared, late).toBe('------a-b-c|');
      expectSubscriptions(source.subscriptions).toBe(subs);
    });
  });

  it('should keep the source alive for keepAliveMs after the last subscriber left', () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold(' -a-b-----c|');
      const sub1 = '        ^-!';
      const back = '        ----^';
      const subs = '        ^---------!';

      const shared = source.pipe(shareStream({ keepAliveMs: 3 }));

      expectObservable(shared, sub1).toBe('-a');
      expectObservable(shared, back).toBe('----(ab)-c|');
      expectSubscriptions(source.subscriptions).toBe(subs);
    });
  });

  it('should abort the source once keepAliveMs passes with nobody back', () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold(' -a-b-----c|');
      const sub1 = '        ^-!';
      const late = '        ------^';
      const subs = '        ^---!';

      const shared = source.pipe(shareStream({ keepAliveMs: 2 }));

      expectObservable(shared, sub1).toBe('-a');
      expectObservable(shared, late).toBe('------(ab#)', undefined, abandoned);
      expectSubscriptions(source.subscriptions).toBe(subs);
    });
  });

  it('should abort on a same-tick handoff unless keepAliveMs covers it', () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold(' -a-b-c|');
      const sub1 = '        ^-!';
      const sub2 = '        --^';

      const eager = source.pipe(shareStream());
      const patient = source.pipe(shareStream({ keepAliveMs: 1 }));

      expectObservable(eager, sub1).toBe('-a');
      expectObservable(eager, sub2).toBe('--(a#)', undefined, abandoned);
      expectObservable(patient, sub1).toBe('-a');
      expectObservable(patient, sub2).toBe('--ab-c|');
      expectSubscriptions(source.subscriptions).toBe(['^-!', '^-----!']);
    });
  });

  it("should subscribe to the source without the first subscriber's flow control", () => {
    let seen: unknown = 'not subscribed';
    const source = new Observable<number>((subscriber) => {
      seen = currentFlow();
      subscriber.complete();
    });
    const flow = { ready: () => undefined };
    runWithFlow(flow, () => source.pipe(shareStream()).subscribe());
    expect(seen).toBeUndefined();
  });

  it("should keep the first subscriber's flow control with upstreamFlow 'first', not a later one's", () => {
    const seen: unknown[] = [];
    const source = new Observable<number>((subscriber) => {
      seen.push(currentFlow());
      subscriber.next(1);
    });
    const first = { ready: () => undefined };
    const later = { ready: () => undefined };
    const shared = new SharedStream(source, { upstreamFlow: 'first' });
    runWithFlow(first, () => shared.attach().subscribe());
    runWithFlow(later, () => shared.attach().subscribe());
    expect(seen).toEqual([first]);
    expect(seen[0]).toBe(first);
    expect(() => new SharedStream(source, { upstreamFlow: 'all' as never })).toThrow(
      /upstreamFlow must be 'none' or 'first'/,
    );
  });

  it('should count out a subscriber that leaves during a synchronous emission', () => {
    let teardowns = 0;
    let emitted = 0;
    const source = new Observable<number>((subscriber) => {
      for (let i = 0; i < 3 && !subscriber.closed; i++) {
        emitted++;
        subscriber.next(i);
      }
      return () => {
        teardowns++;
      };
    });
    const shared = source.pipe(shareStream());
    const values: number[] = [];
    shared.pipe(take(1)).subscribe((v) => values.push(v));
    expect(values).toEqual([0]);
    expect(teardowns).toBe(1);
    expect(emitted).toBe(3); // a plain observer cannot stop a synchronous loop early
  });

  it('should deliver values in order when a subscriber attaches during an emission', () => {
    testScheduler.run(({ cold, flush }) => {
      const shared = cold('-a-b|').pipe(shareStream());
      const log: string[] = [];
      let inner: Subscription | undefined;
      shared.subscribe((v) => {
        log.push(`1:${v}`);
        inner ??= shared.subscribe((w) => log.push(`2:${w}`));
      });
      flush();
      expect(log).toEqual(['1:a', '2:a', '1:b', '2:b']);
    });
  });

  it('should pass synchronous sources through whole', () => {
    const source = new Observable<number>((subscriber) => {
      subscriber.next(1);
      subscriber.next(2);
      subscriber.complete();
    });
    const shared = source.pipe(shareStream());
    const first: number[][] = [];
    shared.pipe(toArray()).subscribe((v) => first.push(v));
    shared.pipe(toArray()).subscribe((v) => first.push(v));
    expect(first).toEqual([
      [1, 2],
      [1, 2],
    ]);
  });

  it('should make one shared state per application of the operator', () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a|');
      const operator = shareStream<string>();
      expectObservable(source.pipe(operator)).toBe('-a|');
      expectObservable(source.pipe(operator)).toBe('-a|');
      expectSubscriptions(source.subscriptions).toBe(['^-!', '^-!']);
    });
  });

  it('should reject a bad configuration when piped', () => {
    expect(() => shareStream({ keepAliveMs: -1 })).toThrow(/keepAliveMs must be/);
    expect(() => shareStream({ afterAbandon: 'retry' as never })).toThrow(
      /afterAbandon must be 'error' or 'restart'/,
    );
  });
});

describe('SharedStream', () => {
  let testScheduler: TestScheduler;
  beforeEach(() => {
    testScheduler = createScheduler();
  });

  it('should replay from an index, then go live', () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold(' -a-b-c-d|');
      const subs = '        ^-------!';
      const late = '        ----^';

      const session = new SharedStream(source);

      expectObservable(session.attach()).toBe('-a-b-c-d|');
      expectObservable(session.attach(1), late).toBe('----bc-d|');
      expectObservable(session.attach(3), late).toBe('-------d|');
      expectObservable(session.attach(9)).toBe('--------|');
      expectSubscriptions(source.subscriptions).toBe(subs);
    });
  });

  it('should replay from an index after completion', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      const session = new SharedStream(cold('-a-b-c|'));
      expectObservable(session.attach()).toBe('-a-b-c|');
      expectObservable(session.attach(1), '-------^').toBe('-------(bc|)');
      expectObservable(session.attach(3), '-------^').toBe('-------|');
    });
  });

  it('should report its status, length and subscribers', () => {
    testScheduler.run(({ cold, flush }) => {
      const session = new SharedStream(cold('-a-b|'));
      expect(session.status).toBe('idle');
      const sub = session.attach().subscribe();
      expect(session.status).toBe('streaming');
      expect(session.subscriberCount).toBe(1);
      testScheduler.schedule(() => {
        expect(session.length).toBe(1);
        expect(session.snapshot()).toEqual(['a']);
      }, 2);
      flush();
      expect(session.status).toBe('completed');
      expect(session.length).toBe(2);
      expect(session.subscriberCount).toBe(0);
      expect(sub.closed).toBe(true);
    });
  });

  it('should end every subscriber and abort the source when cancelled', () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold(' -a-b-c|');
      const subs = '        ^--!';
      const reason = new Error('cancelled by the user');

      const session = new SharedStream(source);
      testScheduler.schedule(() => {
        session.cancel(reason);
      }, 3);

      expectObservable(session.attach()).toBe('-a-#', undefined, reason);
      expectObservable(session.attach(), '-----^').toBe('-----(a#)', undefined, reason);
      expectSubscriptions(source.subscriptions).toBe(subs);
      testScheduler.schedule(() => {
        expect(session.status).toBe('cancelled');
      }, 6);
    });
  });

  it('should never subscribe to the source once cancelled before the first subscriber', () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a|');
      const session = new SharedStream(source);
      session.cancel();
      expectObservable(session.attach()).toBe('#', undefined, abandoned);
      expectSubscriptions(source.subscriptions).toBe([]);
    });
  });

  it('should ignore cancel after the stream ended', () => {
    testScheduler.run(({ cold, expectObservable, flush }) => {
      const session = new SharedStream(cold('-a|'));
      session.attach().subscribe();
      flush();
      session.cancel(new Error('too late'));
      expect(session.status).toBe('completed');
      expectObservable(session.attach()).toBe('--(a|)'); // flush() moved the clock to 2
    });
  });

  it('should reject an index that is not a whole number', () => {
    const session = new SharedStream(new Observable<number>());
    expect(() => session.attach(-1)).toThrow(/fromIndex must be a whole number/);
    expect(() => session.attach(1.5)).toThrow(RangeError);
  });

  it('should let one provider stream feed several pipelines', () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-b|', { a: textChunk('Hi'), b: textChunk(' there') });
      const shared = source.pipe(shareStream());
      const text = shared.pipe(map((c) => c.choices[0]?.delta.content));
      const count = shared.pipe(
        toArray(),
        map((all) => all.length),
      );
      expectObservable(text).toBe('-a-b|', { a: 'Hi', b: ' there' });
      expectObservable(count).toBe('----(n|)', { n: 2 });
      expectSubscriptions(source.subscriptions).toBe('^---!');
    });
  });

  describe('with a recording codec (compactChunkRecording)', () => {
    const chunks = [
      roleChunk(),
      textChunk('Hel'),
      textChunk('lo'),
      textChunk(' 🌍'),
      finishChunk('stop'),
    ];
    const values = { r: chunks[0]!, a: chunks[1]!, b: chunks[2]!, c: chunks[3]!, f: chunks[4]! };

    it('should give the live subscriber the original chunks, and late ones equal copies', () => {
      testScheduler.run(({ cold }) => {
        const session = new SharedStream(cold('-r-a-b-c-f|', values), {
          recording: compactChunkRecording,
        });
        const live: StreamingChunk[] = [];
        const fromStart: StreamingChunk[] = [];
        const fromTwo: StreamingChunk[] = [];
        const afterEnd: StreamingChunk[] = [];
        session.attach().subscribe((chunk) => live.push(chunk));
        testScheduler.schedule(() => session.attach().subscribe((c) => fromStart.push(c)), 6);
        testScheduler.schedule(() => session.attach(2).subscribe((c) => fromTwo.push(c)), 8);
        testScheduler.schedule(() => session.attach().subscribe((c) => afterEnd.push(c)), 13);
        testScheduler.flush();

        live.forEach((chunk, i) => {
          expect(chunk).toBe(chunks[i]);
        });
        expect(live).toHaveLength(chunks.length);
        expect(fromStart).toEqual(chunks);
        expect(fromTwo).toEqual(chunks.slice(2));
        expect(afterEnd).toEqual(chunks);
        // Replayed text chunks are rebuilt copies, not the originals.
        expect(afterEnd[1]).not.toBe(chunks[1]);
      });
    });

    it('should record text chunks as their text, and rebuild them for snapshot() and errors', () => {
      testScheduler.run(({ cold }) => {
        const session = new SharedStream(cold('-r-a-b-c-f|', values), {
          recording: compactChunkRecording,
        });
        const late: StreamingChunk[] = [];
        session.attach().subscribe({ error: () => undefined });
        testScheduler.schedule(() => {
          expect(session.snapshot()).toEqual(chunks.slice(0, 3));
          session
            .attach(1)
            .subscribe({ next: (chunk) => late.push(chunk), error: () => undefined });
          session.cancel();
        }, 6);
        testScheduler.flush();
        expect(late).toEqual(chunks.slice(1, 3));
        let error: unknown;
        session.attach().subscribe({ error: (e: unknown) => (error = e) });
        expect(error).toBeInstanceOf(IncompleteStreamError);
        expect((error as IncompleteStreamError).partialText).toBe('Hello');
      });
    });
  });
});
