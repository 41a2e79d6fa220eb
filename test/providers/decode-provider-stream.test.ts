import { Observable, type Subscription, firstValueFrom, lastValueFrom, take, toArray } from 'rxjs';
import type { StreamFormat, StreamingChunk } from '../../src/chunk/streaming-chunk';
import { IncompleteStreamError, TimeoutError, isRouterError } from '../../src/errors/index';
import { decodeProviderStream } from '../../src/providers/decode-provider-stream';

// OpenAI-format bytes, built in code: `data: {json}\n\n` events ending with `data: [DONE]`.
const encoder = new TextEncoder();
const CREATED = 1_767_225_600;

function delta(content: string, finishReason: string | null = null): string {
  return `data: ${JSON.stringify({
    id: 'chatcmpl-1',
    object: 'chat.completion.chunk',
    created: CREATED,
    model: 'gpt-4o',
    choices: [{ index: 0, delta: { content }, finish_reason: finishReason }],
  })}\n\n`;
}
const DONE = 'data: [DONE]\n\n';

function bytes(...events: string[]): Uint8Array {
  return encoder.encode(events.join(''));
}

const contents = (chunks: StreamingChunk[]): (string | null | undefined)[] =>
  chunks.map((c) => c.choices[0]?.delta.content);

/** Lets pending promise callbacks and I/O callbacks run; not a timed sleep. */
const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A piece of a spy body: bytes, or an error the read rejects with. */
type Piece = Uint8Array | { error: Error };

/**
 * A one-shot async iterable that counts how it is used. Like a Node stream or an async
 * generator, it hands out the same iterator every time. When its pieces run out it either ends
 * or (`hang`) leaves the read pending until `return()` is called, like a live connection.
 */
class SpyBody implements AsyncIterable<Uint8Array> {
  iterators = 0;
  reads = 0;
  returns = 0;
  readsAfterReturn = 0;
  private closed = false;
  private pending: ((result: IteratorResult<Uint8Array>) => void) | undefined;
  private readonly iterator: AsyncIterator<Uint8Array>;

  constructor(
    private readonly pieces: Piece[],
    private readonly hang = false,
  ) {
    this.iterator = {
      next: () => this.next(),
      return: () => {
        this.returns++;
        this.closed = true;
        this.pending?.({ done: true, value: undefined });
        this.pending = undefined;
        return Promise.resolve({ done: true, value: undefined });
      },
    };
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    this.iterators++;
    return this.iterator;
  }

  private next(): Promise<IteratorResult<Uint8Array>> {
    this.reads++;
    if (this.closed) {
      this.readsAfterReturn++;
      return Promise.resolve({ done: true, value: undefined });
    }
    const piece = this.pieces.shift();
    if (piece === undefined) {
      if (!this.hang) return Promise.resolve({ done: true, value: undefined });
      return new Promise((resolve) => (this.pending = resolve));
    }
    if ('error' in piece) return Promise.reject(piece.error);
    return Promise.resolve({ done: false, value: piece });
  }
}

/**
 * A web ReadableStream over `pieces` with no read-ahead (highWaterMark 0), counting pulls and
 * recording cancellation. With `hang`, it waits for more data when the pieces run out.
 */
function spyStream(pieces: Piece[], hang = false) {
  const spy = { pulls: 0, cancelled: false };
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        spy.pulls++;
        const piece = pieces.shift();
        if (piece === undefined) {
          if (!hang) controller.close();
          return;
        }
        if ('error' in piece) controller.error(piece.error);
        else controller.enqueue(piece);
      },
      cancel() {
        spy.cancelled = true;
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, spy };
}

/** Collects what a subscription gives, and resolves when it ends. */
function record(source: Observable<StreamingChunk>) {
  const chunks: StreamingChunk[] = [];
  let firstChunk!: () => void;
  const first = new Promise<void>((resolve) => (firstChunk = resolve));
  let subscription!: Subscription;
  const ended = new Promise<{ error?: unknown }>((resolve) => {
    subscription = source.subscribe({
      next(chunk) {
        chunks.push(chunk);
        firstChunk();
      },
      error: (error: unknown) => {
        resolve({ error });
      },
      complete: () => {
        resolve({});
      },
    });
  });
  return { chunks, first, ended, subscription };
}

describe('decodeProviderStream', () => {
  describe('laziness', () => {
    it('should read nothing from an async iterable until subscribed', async () => {
      const body = new SpyBody([bytes(delta('Hi', 'stop'), DONE)]);
      const chunks$ = decodeProviderStream('openai', body);
      await flush();
      expect(body.iterators).toBe(0);
      expect(body.reads).toBe(0);

      const chunks = await lastValueFrom(chunks$.pipe(toArray()));
      expect(contents(chunks)).toEqual(['Hi']);
      await flush();
      expect(body.iterators).toBe(1);
      expect(body.reads).toBe(2); // the piece, then the end of the body (read, not aborted)
      expect(body.returns).toBe(1);
    });

    it('should not lock or pull a ReadableStream until subscribed', async () => {
      const { stream, spy } = spyStream([bytes(delta('Hi', 'stop'), DONE)]);
      const chunks$ = decodeProviderStream('openai', stream);
      await flush();
      expect(stream.locked).toBe(false);
      expect(spy.pulls).toBe(0);

      const chunks = await lastValueFrom(chunks$.pipe(toArray()));
      expect(contents(chunks)).toEqual(['Hi']);
      expect(spy.pulls).toBe(1);
    });
  });

  describe('decoding', () => {
    it('should emit the chunks stamped with the provider and complete on [DONE]', async () => {
      const body = new SpyBody([bytes(delta('Hel'), delta('lo')), bytes(delta('!', 'stop'), DONE)]);
      const chunks = await lastValueFrom(
        decodeProviderStream('openai', body, { provider: 'openrouter' }).pipe(toArray()),
      );
      expect(contents(chunks)).toEqual(['Hel', 'lo', '!']);
      expect(chunks.map((c) => c.provider)).toEqual(['openrouter', 'openrouter', 'openrouter']);
      expect(chunks[2]!.choices[0]!.finish_reason).toBe('stop');
    });

    it('should complete when the body ends after a finish reason without [DONE]', async () => {
      const body = new SpyBody([bytes(delta('Hi', 'stop'))]);
      const chunks = await lastValueFrom(decodeProviderStream('openai', body).pipe(toArray()));
      expect(contents(chunks)).toEqual(['Hi']);
    });

    it('should error with IncompleteStreamError when the body ends before any finish', async () => {
      const body = new SpyBody([bytes(delta('Hel'))]);
      const { chunks, ended } = record(decodeProviderStream('openai', body));
      const { error } = await ended;
      expect(contents(chunks)).toEqual(['Hel']);
      expect(error).toBeInstanceOf(IncompleteStreamError);
    });
  });

  describe('one read per subscription', () => {
    it('should read a fresh body for each call', async () => {
      const make = () =>
        decodeProviderStream('openai', new SpyBody([bytes(delta('Hi', 'stop'), DONE)]));
      const [first, second] = await Promise.all([
        lastValueFrom(make().pipe(toArray())),
        lastValueFrom(make().pipe(toArray())),
      ]);
      expect(contents(first)).toEqual(['Hi']);
      expect(contents(second)).toEqual(['Hi']);
    });

    it('should error a second subscription to the same ReadableStream', async () => {
      const { stream } = spyStream([bytes(delta('Hi', 'stop'), DONE)]);
      const chunks$ = decodeProviderStream('openai', stream);
      expect(contents(await lastValueFrom(chunks$.pipe(toArray())))).toEqual(['Hi']);

      const { chunks, ended } = record(chunks$);
      const { error } = await ended;
      expect(chunks).toEqual([]);
      expect(error).toBeInstanceOf(TypeError);
      expect((error as Error).message).toBe(
        'decodeProviderStream: the body is already being read or was consumed.',
      );
      expect((error as Error).cause).toHaveProperty('message', expect.stringMatching(/once/));
    });

    it('should error when the ReadableStream is locked by another reader', async () => {
      const { stream, spy } = spyStream([bytes(delta('Hi', 'stop'), DONE)]);
      const other = stream.getReader();
      const { chunks, ended } = record(decodeProviderStream('openai', stream));
      const { error } = await ended;
      expect(chunks).toEqual([]);
      expect(error).toBeInstanceOf(TypeError);
      expect((error as Error).message).toMatch(/already being read or was consumed/);
      // The stream's own "locked" TypeError, from Node's realm (so not `instanceof` here).
      expect((error as Error).cause).toHaveProperty('name', 'TypeError');
      expect(spy.pulls).toBe(0);
      other.releaseLock();
    });

    it('should error a second subscription to the same one-shot iterable', async () => {
      const body = new SpyBody([bytes(delta('Hi', 'stop'), DONE), bytes(delta('extra'))]);
      const chunks$ = decodeProviderStream('openai', body);
      expect(contents(await lastValueFrom(chunks$.pipe(toArray())))).toEqual(['Hi']);

      const { chunks, ended } = record(chunks$);
      const { error } = await ended;
      expect(chunks).toEqual([]);
      expect(error).toBeInstanceOf(TypeError);
      expect((error as Error).message).toMatch(/already being read or was consumed/);
      expect(body.reads).toBe(3); // the first subscription's: the answer, the extra piece, the end
    });

    it('should error a concurrent second subscription rather than split the body', async () => {
      const body = new SpyBody([bytes(delta('A')), bytes(delta('B')), bytes(delta('C', 'stop'))]);
      const chunks$ = decodeProviderStream('openai', body);
      const first = record(chunks$);
      const second = record(chunks$);
      const [a, b] = await Promise.all([first.ended, second.ended]);

      expect(a.error).toBeUndefined();
      expect(contents(first.chunks)).toEqual(['A', 'B', 'C']);
      expect(b.error).toBeInstanceOf(TypeError);
      expect(second.chunks).toEqual([]);
    });
  });

  describe('releasing the body', () => {
    it('should stop reading and return() the iterator when unsubscribed mid-stream', async () => {
      const body = new SpyBody([bytes(delta('Hel'))], true);
      const { first, subscription, chunks } = record(decodeProviderStream('openai', body));
      await first;
      await flush();
      expect(body.reads).toBe(2); // the second read is waiting for more bytes
      expect(body.returns).toBe(0);

      subscription.unsubscribe();
      expect(body.returns).toBe(1);
      await flush();
      expect(body.reads).toBe(2);
      expect(contents(chunks)).toEqual(['Hel']);
    });

    it('should cancel a ReadableStream when unsubscribed mid-stream', async () => {
      const { stream, spy } = spyStream([bytes(delta('Hel'))], true);
      const { first, subscription } = record(decodeProviderStream('openai', stream));
      await first;
      await flush();
      expect(spy.cancelled).toBe(false);
      const pulls = spy.pulls;

      subscription.unsubscribe();
      await flush();
      expect(spy.cancelled).toBe(true);
      expect(spy.pulls).toBe(pulls);
    });

    it('should complete on [DONE] and read the rest of a Node body to its end, undecoded', async () => {
      const body = new SpyBody([
        bytes(delta('Hi', 'stop')),
        bytes(DONE, delta('after done')),
        bytes(delta('read, never decoded')),
      ]);
      const chunks = await lastValueFrom(decodeProviderStream('openai', body).pipe(toArray()));
      expect(contents(chunks)).toEqual(['Hi']);
      await flush();
      expect(body.reads).toBe(4); // 2 pieces to [DONE], the piece after it, the end
      expect(body.returns).toBe(1);
      expect(body.readsAfterReturn).toBe(0);
    });

    it('should release a Node body that keeps sending after [DONE] after a few pieces', async () => {
      const after = Array.from({ length: 20 }, (_, i) => bytes(delta(`junk ${i}`)));
      const body = new SpyBody([bytes(delta('Hi', 'stop'), DONE), ...after]);
      const chunks = await lastValueFrom(decodeProviderStream('openai', body).pipe(toArray()));
      expect(contents(chunks)).toEqual(['Hi']);
      await flush();
      expect(body.reads).toBe(5); // the answer, then at most 4 pieces
      expect(body.returns).toBe(1);
      expect(body.readsAfterReturn).toBe(0);
    });

    it('should cancel a ReadableStream on [DONE] although bytes remain', async () => {
      const { stream, spy } = spyStream([bytes(delta('Hi', 'stop'), DONE), bytes(delta('more'))]);
      const chunks = await lastValueFrom(decodeProviderStream('openai', stream).pipe(toArray()));
      expect(contents(chunks)).toEqual(['Hi']);
      await flush();
      expect(spy.cancelled).toBe(true);
      expect(spy.pulls).toBe(1);
    });

    it('should stop decoding and release the body after take(1)', async () => {
      const body = new SpyBody([bytes(delta('A'), delta('B')), bytes(delta('C')), bytes(DONE)]);
      const chunk = await firstValueFrom(decodeProviderStream('openai', body).pipe(take(1)));
      await flush();
      expect(chunk.choices[0]!.delta.content).toBe('A');
      expect(body.reads).toBe(1);
      expect(body.returns).toBe(1);
      expect(body.readsAfterReturn).toBe(0);
    });

    it('should cancel a ReadableStream after take(1)', async () => {
      const { stream, spy } = spyStream([bytes(delta('A'), delta('B')), bytes(delta('C'))], true);
      const chunk = await firstValueFrom(decodeProviderStream('openai', stream).pipe(take(1)));
      await flush();
      expect(chunk.choices[0]!.delta.content).toBe('A');
      expect(spy.cancelled).toBe(true);
      expect(spy.pulls).toBe(1);
    });
  });

  describe('read errors', () => {
    it('should turn a read error mid-stream into IncompleteStreamError with the cause', async () => {
      const reset = Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' });
      const body = new SpyBody([bytes(delta('Hel')), { error: reset }]);
      const { chunks, ended } = record(decodeProviderStream('openai', body));
      const { error } = await ended;

      expect(contents(chunks)).toEqual(['Hel']);
      expect(error).toBeInstanceOf(IncompleteStreamError);
      const incomplete = error as IncompleteStreamError;
      expect(incomplete.cause).toBe(reset);
      expect(incomplete.provider).toBe('openai');
      expect(incomplete.isRetryable).toBe(true);
      expect(incomplete.message).toBe(
        'The openai stream broke off after 1 chunks: other side closed (UND_ERR_SOCKET). The answer is incomplete; retry or fail over.',
      );
      expect(body.returns).toBe(1);
    });

    it('should turn a ReadableStream error into IncompleteStreamError with the cause', async () => {
      const reset = new Error('network reset');
      const { stream } = spyStream([bytes(delta('Hel')), { error: reset }]);
      const { ended } = record(decodeProviderStream('openai', stream, { provider: 'azure' }));
      const { error } = await ended;

      expect(error).toBeInstanceOf(IncompleteStreamError);
      expect((error as IncompleteStreamError).cause).toBe(reset);
      expect((error as IncompleteStreamError).provider).toBe('azure');
    });

    it('should pass a RouterError from the body through unchanged', async () => {
      const timeout = new TimeoutError('idle', 1000, { provider: 'openai' });
      const body = new SpyBody([bytes(delta('Hel')), { error: timeout }]);
      const { error } = await record(decodeProviderStream('openai', body)).ended;
      expect(error).toBe(timeout);
      expect(isRouterError(error)).toBe(true);
    });
  });

  describe('arguments', () => {
    it.each(['cohere', 'OpenAI', 'toString', 'constructor', '__proto__'])(
      'should throw a TypeError naming the allowed formats for the unknown format %j',
      (format) => {
        const body = new SpyBody([]);
        const call = () => decodeProviderStream(format as StreamFormat, body);
        expect(call).toThrow(TypeError);
        expect(call).toThrow(
          `decodeProviderStream: unknown format ${JSON.stringify(format)}. Use 'openai', 'anthropic' or 'google'.`,
        );
        expect(body.iterators).toBe(0);
      },
    );
  });
});
