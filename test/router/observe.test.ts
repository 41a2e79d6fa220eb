import type { TestScheduler } from 'rxjs/testing';
import { observe } from '../../src/router/observe';
import { createScheduler } from '../helpers/marbles';

describe('observe (the router internal tap + filter + catchError + finalize)', () => {
  let testScheduler: TestScheduler;
  beforeEach(() => {
    testScheduler = createScheduler();
  });

  it('should run the hooks before each notification, drop values next() refuses, and tear down once', () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions, flush }) => {
      const source = cold('-a-b-c|');
      const seen: string[] = [];
      const result = source.pipe(
        observe<string>({
          next: (value) => {
            seen.push(value);
            return value !== 'b';
          },
          complete: () => seen.push('complete'),
          teardown: () => seen.push('teardown'),
        }),
      );
      expectObservable(result).toBe('-a---c|');
      expectSubscriptions(source.subscriptions).toBe('^-----!');
      flush();
      expect(seen).toEqual(['a', 'b', 'c', 'complete', 'teardown']);
    });
  });

  it('should error with what next() throws, unsubscribe the source, and tear down', () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions, flush }) => {
      const source = cold('-a-b-c|');
      const teardowns: number[] = [];
      const result = source.pipe(
        observe<string>({
          next: (value) => {
            if (value === 'b') throw new Error('over budget');
          },
          error: () => new Error('not called for a thrown next'),
          teardown: () => teardowns.push(1),
        }),
      );
      expectObservable(result).toBe('-a-#', undefined, new Error('over budget'));
      expectSubscriptions(source.subscriptions).toBe('^--!');
      flush();
      expect(teardowns).toEqual([1]);
    });
  });

  it('should pass on the error that error() returns, and tear down on unsubscribe', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      const mapped = new Error('mapped');
      const errored = cold('-a-#', undefined, new Error('raw')).pipe(
        observe<string>({ error: () => mapped }),
      );
      expectObservable(errored).toBe('-a-#', undefined, mapped);

      const teardowns: string[] = [];
      const long = cold('-a-b-c-d|').pipe(observe<string>({ teardown: () => teardowns.push('t') }));
      expectObservable(long, '^--!').toBe('-a-');
      testScheduler.flush();
      expect(teardowns).toEqual(['t']);
    });
  });
});
