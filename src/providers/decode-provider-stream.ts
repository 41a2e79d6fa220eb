import { Observable } from 'rxjs';
import type { StreamFormat, StreamingChunk } from '../chunk/streaming-chunk';
import { IncompleteStreamError } from '../errors/incomplete-stream-error';
import { isRouterError } from '../errors/router-error';
import { currentFlow } from '../flow/flow-control';
import { openBody, type BodyReader, type ByteBody } from '../sse/read-body';
import type { SseDecoderOptions } from '../sse/sse-decoder';
import { createChunkFeed, decoderFor, type ChunkFeedOptions } from './chunk-feed';

export interface DecodeProviderStreamOptions extends SseDecoderOptions {
  /** The model to report when the provider's events do not name one (Anthropic names it once). */
  model?: string;
  /** The id to report when the provider's events carry none (Gemini sends `responseId` late). */
  requestId?: string;
  /** The provider name stamped on chunks. Defaults to the format name. */
  provider?: string;
  /**
   * Emit a keep-alive chunk (`choices: []`) for each wire keep-alive: SSE comments (OpenRouter's
   * `: OPENROUTER PROCESSING`) and Anthropic `ping` events. Such a chunk carries no content, so
   * it never stops a first-token clock, but it restarts an idle clock (see `timeouts`). Default
   * false: keep-alives produce nothing.
   */
  keepAliveChunks?: boolean;
}

/**
 * Decodes a provider's raw streaming response body into normalized {@link StreamingChunk}s.
 *
 * 1. Cold: nothing is read until subscription, and each subscription reads the body once (a
 *    body can only be read once, so a second subscription to the same body errors).
 * 2. Completes on the provider's terminal event (`[DONE]`, `message_stop`), or when the body
 *    ends after a finish reason.
 * 3. Errors with `IncompleteStreamError` when the body ends, or breaks, before the provider
 *    said it was finished; with `ParseError` on malformed events; with `ProviderError` or
 *    `RateLimitError` when the provider sends an error inside the stream.
 * 4. Unsubscribing stops reading and releases the body at once.
 *
 * ```ts
 * const res = await fetch(url, { method: 'POST', body, headers });
 * decodeProviderStream('openai', res.body!).subscribe((chunk) => print(chunk));
 * ```
 *
 * @param format The wire format: `openai` (and OpenAI-compatible servers), `anthropic`, `google`.
 * @param body The response body: a web ReadableStream or any async iterable of bytes.
 * @param options The model and request id to report when the provider omits them.
 * @return A cold Observable of normalized chunks.
 */
export function decodeProviderStream(
  format: StreamFormat,
  body: ByteBody,
  options: DecodeProviderStreamOptions = {},
): Observable<StreamingChunk> {
  const factory = decoderFor(format);
  if (factory === undefined) {
    throw new TypeError(
      `decodeProviderStream: unknown format ${JSON.stringify(format)}. Use 'openai', 'anthropic' or 'google'.`,
    );
  }
  const feedOptions: ChunkFeedOptions = { ...options, provider: options.provider ?? format };
  const provider = feedOptions.provider as string;
  return new Observable<StreamingChunk>((subscriber) => {
    const open = (): boolean => !subscriber.closed;
    const isWebStream = typeof (body as Partial<ReadableStream>).getReader === 'function';
    // With a pull consumer (toAsyncIterable) downstream, the feed emits each event after the
    // consumer's demand, and the next piece is read only once the last one has gone out.
    const feed = createChunkFeed(factory, subscriber, feedOptions, currentFlow());

    let reader: ReturnType<typeof openBody>;
    try {
      reader = openBody(body);
    } catch (cause) {
      subscriber.error(
        new TypeError('decodeProviderStream: the body is already being read or was consumed.', {
          cause,
        }),
      );
      return;
    }

    const pump = async (): Promise<void> => {
      for (;;) {
        // An unsubscribe (take(1), say) during the last feed released the body: read no more.
        if (!open()) return;
        let result: IteratorResult<Uint8Array, unknown>;
        try {
          result = await reader.read();
        } catch (cause) {
          if (isRouterError(cause)) throw cause;
          throw new IncompleteStreamError(
            `The ${provider} stream broke off after ${feed.chunks} chunks: ${describeCause(cause)}. The answer is incomplete; retry or fail over.`,
            { provider, cause },
          );
        }
        if (!open()) return;
        if (result.done === true) {
          await feed.end();
          return;
        }
        const wait = feed.feed(result.value);
        if (wait !== undefined) await wait;
        if (feed.finished) return;
      }
    };

    pump().catch((error: unknown) => {
      subscriber.error(error);
    });

    return () => {
      // A Node body (an async iterable) is read to its end, bounded by the HTTP client's body
      // timeout; a web ReadableStream has no such bound, so it is cancelled at once.
      if (feed.finished && !isWebStream) void readToEnd(reader);
      else reader.release();
    };
  });
}

/** How many pieces may follow a terminal event before the body is released unread. */
export const PIECES_AFTER_TERMINAL = 4;

/**
 * Reads what follows the terminal event (normally nothing but the end of the body), then
 * releases the body. Releasing a body before its end aborts it (Node builds an AbortError and
 * undici a RequestAbortedError for each response, and the connection may not be reused); the end
 * usually arrives with the terminal event. A body that keeps sending is released after a few
 * pieces; one that neither sends nor ends is bounded by the HTTP client's body timeout (undici's
 * `bodyTimeout`), which is why web streams are not read this way.
 */
async function readToEnd(reader: BodyReader): Promise<void> {
  try {
    for (let i = 0; i < PIECES_AFTER_TERMINAL; i++) {
      if ((await reader.read()).done === true) return;
    }
  } catch {
    // The answer is complete already: a failure after it changes nothing.
  } finally {
    reader.release();
  }
}

/** A transport failure's message, with its code when it has one. */
export function describeCause(cause: unknown): string {
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    return typeof code === 'string' ? `${cause.message} (${code})` : cause.message;
  }
  return String(cause);
}
