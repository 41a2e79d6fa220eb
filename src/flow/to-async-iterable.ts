import type { Observable, Subscription } from 'rxjs';
import { runWithFlow, type FlowControl } from './flow-control';

/** Options of {@link toAsyncIterable}. */
export interface ToAsyncIterableOptions {
  /**
   * How many items may wait, unread, before the source is asked to pause. Sources of this package
   * (provider streams, decoded bodies) then stop reading the socket, so TCP backpressure reaches
   * the server. Default 64.
   */
  highWaterMark?: number;
}

/** The iterable returned by {@link toAsyncIterable}, with a view of its buffer for monitoring. */
export interface BufferedAsyncIterable<T> extends AsyncIterable<T> {
  /** Items received and not yet pulled by the consumer. */
  readonly buffered: number;
  /** The largest `buffered` ever was. */
  readonly maxBuffered: number;
}

/**
 * Turns an Observable into an async iterable with real backpressure.
 *
 * 1. Subscribes on the first `next()` call, once (the iterable is single-use).
 * 2. Buffers what the source pushes; when `highWaterMark` items wait, the source is asked to
 *    pause (through {@link FlowControl}) and resumes as the consumer pulls.
 * 3. A source error is thrown from the pending or next `next()`, after the buffered items.
 * 4. Leaving the loop early (`break`, `return`, a throw) unsubscribes, which aborts the upstream
 *    request.
 *
 * ```ts
 * for await (const chunk of toAsyncIterable(provider.stream(request), { highWaterMark: 32 })) {
 *   await render(chunk); // a slow consumer slows the socket, not the heap
 * }
 * ```
 */
export function toAsyncIterable<T>(
  source: Observable<T>,
  options: ToAsyncIterableOptions = {},
): BufferedAsyncIterable<T> {
  const { highWaterMark = 64 } = options;
  if (!Number.isInteger(highWaterMark) || highWaterMark < 1) {
    throw new RangeError(
      `toAsyncIterable: highWaterMark must be a positive integer, got ${String(highWaterMark)}.`,
    );
  }
  const buffer: T[] = [];
  let head = 0;
  let maxBuffered = 0;
  let finished = false;
  let failure: { error: unknown } | undefined;
  let subscription: Subscription | undefined;
  let started = false;
  let wake: (() => void) | undefined; // resolves the consumer's pending next()
  let resume: { promise: Promise<void>; resolve: () => void } | undefined; // the source's wait

  const size = (): number => buffer.length - head;
  const notify = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };

  const flow: FlowControl = {
    ready() {
      if (size() < highWaterMark || finished) return undefined;
      if (resume === undefined) {
        let resolve!: () => void;
        const promise = new Promise<void>((r) => (resolve = r));
        resume = { promise, resolve };
      }
      return resume.promise;
    },
  };

  const release = (): void => {
    const r = resume;
    resume = undefined;
    r?.resolve();
  };

  const start = (): void => {
    started = true;
    subscription = runWithFlow(flow, () =>
      source.subscribe({
        next(value) {
          buffer.push(value);
          const n = size();
          if (n > maxBuffered) maxBuffered = n;
          notify();
        },
        error(error: unknown) {
          failure = { error };
          finished = true;
          notify();
        },
        complete() {
          finished = true;
          notify();
        },
      }),
    );
  };

  const stop = (): void => {
    finished = true;
    subscription?.unsubscribe();
    release();
  };

  const iterator: AsyncIterator<T> = {
    async next(): Promise<IteratorResult<T>> {
      if (!started) start();
      for (;;) {
        if (size() > 0) {
          const value = buffer[head] as T;
          buffer[head] = undefined as T;
          head++;
          if (head > 1024 && head * 2 > buffer.length) {
            buffer.splice(0, head);
            head = 0;
          }
          if (size() < highWaterMark) release();
          return { value, done: false };
        }
        if (failure !== undefined) {
          const { error } = failure;
          failure = undefined;
          throw error;
        }
        if (finished) return { value: undefined, done: true };
        await new Promise<void>((resolve) => (wake = resolve));
      }
    },
    return(): Promise<IteratorResult<T>> {
      stop();
      return Promise.resolve({ value: undefined, done: true });
    },
    throw(error?: unknown): Promise<IteratorResult<T>> {
      stop();
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    },
  };

  return {
    [Symbol.asyncIterator]: () => iterator,
    get buffered() {
      return size();
    },
    get maxBuffered() {
      return maxBuffered;
    },
  };
}
