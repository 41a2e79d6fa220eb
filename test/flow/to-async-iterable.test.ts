import { Observable, Subject, finalize } from 'rxjs';
import { toAsyncIterable } from '../../src/flow/to-async-iterable';
import { currentFlow, runWithFlow } from '../../src/flow/flow-control';
import { decodeProviderStream } from '../../src/providers/decode-provider-stream';

/** Lets pending promise callbacks and I/O callbacks run (no timers involved). */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function openaiEvent(i: number): string {
  return `data: {"id":"c","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"t${i} "},"finish_reason":null}]}\n\n`;
}

/** A body of `n` one-event pieces that counts how many pieces were pulled from it. */
function countingBody(n: number): { body: AsyncIterable<Uint8Array>; pulled: () => number } {
  let pulled = 0;
  const encoder = new TextEncoder();
  async function* generate(): AsyncGenerator<Uint8Array> {
    for (let i = 0; i < n; i++) {
      await Promise.resolve(); // a network read completes asynchronously
      pulled++;
      yield encoder.encode(openaiEvent(i));
    }
    pulled++;
    yield encoder.encode(
      'data: {"id":"c","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n',
    );
  }
  return { body: generate(), pulled: () => pulled };
}

describe('toAsyncIterable', () => {
  it('should yield every value, then finish', async () => {
    const subject = new Subject<number>();
    const iterable = toAsyncIterable(subject);
    const seen: number[] = [];
    const loop = (async () => {
      for await (const value of iterable) seen.push(value);
    })();
    await settle();
    subject.next(1);
    subject.next(2);
    subject.complete();
    await loop;
    expect(seen).toEqual([1, 2]);
  });

  it('should deliver buffered values before the error', async () => {
    const source = new Observable<number>((subscriber) => {
      subscriber.next(1);
      subscriber.next(2);
      subscriber.error(new Error('boom'));
    });
    const seen: number[] = [];
    await expect(
      (async () => {
        for await (const value of toAsyncIterable(source)) seen.push(value);
      })(),
    ).rejects.toThrow('boom');
    expect(seen).toEqual([1, 2]);
  });

  it('should not subscribe before the first pull', () => {
    let subscribed = 0;
    const source = new Observable<number>(() => {
      subscribed++;
    });
    toAsyncIterable(source);
    expect(subscribed).toBe(0);
  });

  it('should unsubscribe from the source when the loop breaks', async () => {
    let tornDown = false;
    const source = new Subject<number>();
    const iterable = toAsyncIterable(
      source.pipe(
        finalize(() => {
          tornDown = true;
        }),
      ),
    );
    const loop = (async () => {
      for await (const value of iterable) {
        if (value === 2) break;
      }
    })();
    await settle();
    source.next(1);
    source.next(2);
    await loop;
    expect(tornDown).toBe(true);
    expect(source.observed).toBe(false);
  });

  it('should install its flow control while subscribing, and only then', async () => {
    let seen: unknown = 'unset';
    const source = new Observable<number>((subscriber) => {
      seen = currentFlow();
      subscriber.complete();
    });
    for await (const _ of toAsyncIterable(source)) {
      // nothing
    }
    expect(seen).toBeDefined();
    expect(currentFlow()).toBeUndefined();
  });

  it('should reject a non-positive highWaterMark, naming it', () => {
    expect(() => toAsyncIterable(new Subject<number>(), { highWaterMark: 0 })).toThrow(
      /highWaterMark/,
    );
  });

  it('should pause reading the body while the consumer does not pull, keeping the buffer at or below highWaterMark', async () => {
    const { body, pulled } = countingBody(500);
    const iterable = toAsyncIterable(decodeProviderStream('openai', body), { highWaterMark: 8 });
    const iterator = iterable[Symbol.asyncIterator]();
    await iterator.next();
    for (let i = 0; i < 20; i++) await settle();
    const pulledWhilePaused = pulled();
    expect(iterable.buffered).toBeLessThanOrEqual(8);
    expect(pulledWhilePaused).toBeLessThanOrEqual(8 + 2);
    for (let i = 0; i < 20; i++) await settle();
    expect(pulled()).toBe(pulledWhilePaused); // still paused: nothing more was read

    let count = 1;
    for (;;) {
      const result = await iterator.next();
      if (result.done === true) break;
      count++;
    }
    expect(count).toBe(501);
    expect(iterable.maxBuffered).toBeLessThanOrEqual(8);
  });

  it('should emit a piece of many events only as fast as the consumer pulls, in order', async () => {
    const encoder = new TextEncoder();
    let pulled = 0;
    async function* body(): AsyncGenerator<Uint8Array> {
      // Five pieces of ten events each: more events per piece than the high-water mark.
      for (let piece = 0; piece < 5; piece++) {
        await Promise.resolve();
        pulled++;
        let text = '';
        for (let i = 0; i < 10; i++) text += openaiEvent(piece * 10 + i);
        yield encoder.encode(text);
      }
      pulled++;
      yield encoder.encode('data: [DONE]\n\n');
    }
    const iterable = toAsyncIterable(decodeProviderStream('openai', body()), { highWaterMark: 4 });
    const iterator = iterable[Symbol.asyncIterator]();
    const texts: string[] = [];
    const first = await iterator.next();
    if (first.done !== true) texts.push(first.value.choices[0]!.delta.content!);
    for (let i = 0; i < 20; i++) await settle();
    // The first piece's events wait in the decoder: no second piece was read.
    expect(pulled).toBe(1);
    expect(iterable.buffered).toBeLessThanOrEqual(4);
    for (;;) {
      const result = await iterator.next();
      if (result.done === true) break;
      texts.push(result.value.choices[0]!.delta.content!);
    }
    expect(texts).toEqual(Array.from({ length: 50 }, (_, i) => `t${i} `));
    expect(iterable.maxBuffered).toBeLessThanOrEqual(4);
  });

  it('should read at full speed when no consumer asks for flow control', async () => {
    const { body, pulled } = countingBody(50);
    let chunks = 0;
    await new Promise<void>((resolve, reject) => {
      runWithFlow(undefined, () =>
        decodeProviderStream('openai', body).subscribe({
          next: () => chunks++,
          error: reject,
          complete: resolve,
        }),
      );
    });
    expect(chunks).toBe(51);
    expect(pulled()).toBe(51);
  });
});
