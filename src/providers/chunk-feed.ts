import type { Subscriber } from 'rxjs';
import type { StreamFormat, StreamingChunk } from '../chunk/streaming-chunk';
import { IncompleteStreamError } from '../errors/incomplete-stream-error';
import { ParseError } from '../errors/parse-error';
import type { FlowControl } from '../flow/flow-control';
import { createSseDecoder, type SseDecoderOptions, type SseEvent } from '../sse/sse-decoder';
import { createAnthropicDecoder } from './anthropic/anthropic-stream-decoder';
import { createGoogleDecoder } from './google/google-stream-decoder';
import { createOpenAIDecoder } from './openai/openai-stream-decoder';
import { makeChunk, type StreamDecoderFactory } from './stream-decoder';

/** How a body's chunks are decoded and stamped (see `decodeProviderStream`). */
export interface ChunkFeedOptions extends SseDecoderOptions {
  model?: string | undefined;
  requestId?: string | undefined;
  provider?: string | undefined;
  keepAliveChunks?: boolean | undefined;
}

/**
 * Bytes of one provider response in, normalized chunks out to one subscriber. It is driven by
 * whoever reads the body: a pull loop over a ReadableStream or async iterable
 * (`decodeProviderStream`), or undici pushing the pieces as they arrive (`httpStream`).
 */
export interface ChunkFeed {
  /**
   * Decodes one piece of the body. Returns a promise while the consumer asked to wait (some of
   * the piece's events are queued): feed nothing more until it settles. Never throws: a failure
   * errors the subscriber.
   */
  feed(bytes: Uint8Array): Promise<void> | undefined;
  /**
   * The body ended: delivers a last event, then completes the subscriber, or errors it with
   * `IncompleteStreamError` when the provider had not finished. Never throws.
   */
  end(): Promise<void> | undefined;
  /** How many chunks went out. */
  readonly chunks: number;
  /** Whether the terminal event arrived (`[DONE]`, `message_stop`) and the subscriber completed. */
  readonly finished: boolean;
}

const decoders: Record<StreamFormat, StreamDecoderFactory> = {
  openai: createOpenAIDecoder,
  anthropic: createAnthropicDecoder,
  google: createGoogleDecoder,
};

/** The decoder factory of a format, or undefined for an unknown one (`toString` included). */
export function decoderFor(format: string): StreamDecoderFactory | undefined {
  return Object.hasOwn(decoders, format) ? decoders[format as StreamFormat] : undefined;
}

/**
 * Creates the feed of one response body.
 *
 * Without `flow`, events are decoded and emitted as the piece is parsed. With a pull consumer's
 * flow control, an event is emitted at once only while the consumer wants more; otherwise it
 * waits in a queue with the rest of its piece, and `feed` returns a promise that settles when
 * the queue has drained, so that the reader stops reading meanwhile.
 */
export function createChunkFeed(
  factory: StreamDecoderFactory,
  subscriber: Subscriber<StreamingChunk>,
  options: ChunkFeedOptions,
  flow: FlowControl | undefined,
): ChunkFeed {
  const { model, requestId, provider = '', keepAliveChunks = false, ...sseOptions } = options;
  let chunks = 0;
  let last: StreamingChunk | undefined;
  // Set by the decoder when a terminal event arrives; later events are not decoded.
  let done = false;
  let finished = false;
  // Set once the body ended: a parse failure from here on is a cut-off last event.
  let ending = false;
  // Events waiting for the consumer's demand, oldest first, from `head` on.
  const queue: (() => void)[] = [];
  let head = 0;

  const decoder = factory({
    provider,
    model,
    requestId,
    emit(chunk) {
      chunks++;
      last = chunk;
      subscriber.next(chunk);
    },
  });

  const fail = (error: unknown): void => {
    queue.length = 0;
    head = 0;
    if (ending && error instanceof ParseError) {
      // A last event that does not parse was cut off by the end of the body, not malformed.
      subscriber.error(
        new IncompleteStreamError(
          `The ${provider} stream ended in the middle of an event after ${chunks} chunks; the answer is truncated. Retry or fail over.`,
          { provider, cause: error },
        ),
      );
      return;
    }
    subscriber.error(error);
  };

  /** Whether an event may go out now: nothing waits before it and the consumer wants more. */
  const ready = (): boolean =>
    queue.length === 0 && (flow === undefined || flow.ready() === undefined);

  const keepAlive = (): void => {
    if (done || subscriber.closed) return;
    subscriber.next(
      makeChunk(
        last?.id ?? requestId ?? '',
        last?.created ?? Math.floor(Date.now() / 1000),
        last?.model ?? model ?? '',
        provider,
        [],
      ),
    );
  };

  // Each event goes out now while the consumer wants more, else waits its turn in the queue
  // (a closure is made only then).
  const decodeEvent = (event: SseEvent): void => {
    if (!done && !subscriber.closed) done = decoder.event(event);
  };
  const decodeBareJson = (value: unknown, raw: string): void => {
    if (!done && !subscriber.closed) decoder.bareJson(value, raw);
  };
  const onKeepAlive = (): void => {
    if (ready()) keepAlive();
    else queue.push(keepAlive);
  };

  const sse = createSseDecoder(
    {
      onEvent(event) {
        if (keepAliveChunks && event.event === 'ping') onKeepAlive();
        if (ready()) decodeEvent(event);
        else
          queue.push(() => {
            decodeEvent(event);
          });
      },
      ...(keepAliveChunks ? { onComment: onKeepAlive } : {}),
      onBareJson(value, raw) {
        if (ready()) decodeBareJson(value, raw);
        else
          queue.push(() => {
            decodeBareJson(value, raw);
          });
      },
    },
    sseOptions,
  );

  /** Emits the queued events as the consumer asks for them. A promise while it must wait. */
  const drain = (): Promise<void> | undefined => {
    try {
      while (head < queue.length) {
        if (subscriber.closed) break;
        const wait = flow?.ready();
        if (wait !== undefined) return wait.then(drain);
        (queue[head++] as () => void)();
      }
    } catch (error) {
      fail(error);
      return undefined;
    }
    queue.length = 0;
    head = 0;
    return undefined;
  };

  const afterPiece = (): void => {
    if (done && !subscriber.closed) {
      finished = true;
      subscriber.complete();
    }
  };

  const afterEnd = (): void => {
    if (subscriber.closed) return;
    try {
      if (!done) decoder.end();
    } catch (error) {
      fail(error);
      return;
    }
    subscriber.complete();
  };

  /** Runs `then` once the queued events went out: at once, or when the promise settles. */
  const whenDrained = (then: () => void): Promise<void> | undefined => {
    const wait = queue.length === 0 ? undefined : drain();
    if (wait !== undefined) return wait.then(then);
    then();
    return undefined;
  };

  return {
    feed(bytes) {
      try {
        sse.feed(bytes);
      } catch (error) {
        fail(error);
        return undefined;
      }
      return whenDrained(afterPiece);
    },
    end() {
      ending = true;
      try {
        sse.end(); // may deliver a last event, which may end the stream or close the subscriber
      } catch (error) {
        fail(error);
        return undefined;
      }
      return whenDrained(afterEnd);
    },
    get chunks() {
      return chunks;
    },
    get finished() {
      return finished;
    },
  };
}
