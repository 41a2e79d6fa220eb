import { randomUUID } from 'node:crypto';
import { Observable } from 'rxjs';
import type { Dispatcher } from 'undici';
import type { StreamFormat, StreamingChunk } from '../../chunk/streaming-chunk';
import { NetworkError } from '../../errors/network-error';
import { ProviderError } from '../../errors/provider-error';
import { isRouterError } from '../../errors/router-error';
import { IncompleteStreamError } from '../../errors/incomplete-stream-error';
import { currentFlow } from '../../flow/flow-control';
import { createChunkFeed, decoderFor, type ChunkFeed } from '../chunk-feed';
import { describeCause, PIECES_AFTER_TERMINAL } from '../decode-provider-stream';
import { errorFromResponse } from '../error-from-response';
import type { StreamDecoderFactory } from '../stream-decoder';
import type { HeaderBag } from '../retry-after';
import { MAX_ERROR_BODY_BYTES } from './read-bounded';

/** The abort reason of a request whose subscriber left: made once, not per request. */
const UNSUBSCRIBED = new Error('The subscriber unsubscribed; the request was aborted.');

/** One streaming HTTP call to a provider. */
export interface HttpStreamCall {
  provider: string;
  format: StreamFormat;
  dispatcher: Dispatcher;
  origin: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  /** The model to report when the provider's events do not name one. */
  model: string;
  signal?: AbortSignal | undefined;
  /** Emit keep-alive chunks for wire keep-alives (see decodeProviderStream). */
  keepAliveChunks?: boolean | undefined;
  /** Secrets to scrub from error messages. */
  secrets: readonly string[];
  /**
   * How long a body may stay open after its terminal event (`[DONE]`) before it is aborted, in
   * ms. Default 1000.
   */
  tailTimeoutMs?: number | undefined;
}

const networkCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_CLOSED',
]);

function errorCode(error: unknown): string | undefined {
  // Duck-typed, not instanceof: errors from another realm (a VM context, jest) are still errors.
  let e: unknown = error;
  for (let depth = 0; typeof e === 'object' && e !== null && depth < 4; depth++) {
    const { code, cause } = e as { code?: unknown; cause?: unknown };
    if (typeof code === 'string' && networkCodes.has(code)) return code;
    e = cause;
  }
  return undefined;
}

/** Turns a failure to reach the provider (refused, reset, DNS, ...) into a `NetworkError`. */
export function toNetworkError(provider: string, origin: string, error: unknown): Error {
  if (isRouterError(error)) return error;
  const code = errorCode(error);
  const message = (error as { message?: unknown } | null)?.message;
  const detail = typeof message === 'string' ? message : String(error);
  return new NetworkError(
    `Could not reach ${provider} at ${origin}: ${detail}${code === undefined ? '' : ` (${code})`}. Check the base URL and the network; retry or fail over.`,
    { provider, cause: error },
  );
}

/** How long a body may stay open after its terminal event before it is aborted. */
const TAIL_TIMEOUT_MS = 1_000;

/**
 * Streams one provider call over undici as a cold Observable of normalized chunks.
 *
 * 1. The request is sent on subscription; each subscription is one request.
 * 2. A non-2xx status is checked before any SSE parsing (Gemini can answer 404 with an
 *    event-stream content type): at most 64 KiB of the body is read and turned into a typed error.
 * 3. A failure before the response headers is a retryable `NetworkError`.
 * 4. Unsubscribing (or the caller's signal) aborts the request and closes its socket at once.
 * 5. Demand from a pull consumer ({@link currentFlow}) is honoured: reading pauses while the
 *    consumer is behind, so TCP backpressure reaches the provider.
 *
 * The body is not read through a Readable: undici hands each piece to a dispatch handler, which
 * decodes it on the spot (no stream, async iterator or promise per piece), and pauses the socket
 * while a pull consumer is behind.
 */
export function httpStream(call: HttpStreamCall): Observable<StreamingChunk> {
  return new Observable<StreamingChunk>((subscriber) => {
    const { signal, provider } = call;
    if (signal?.aborted === true) {
      subscriber.error(signal.reason);
      return;
    }
    const flow = currentFlow();
    let controller: Dispatcher.DispatchController | undefined;
    // Why the request is to be aborted, before undici handed us its controller.
    let abortReason: Error | undefined;
    // Whether undici is done with the request: the body ended, or the request failed.
    let settled = false;
    let feed: ChunkFeed | undefined;
    // A non-2xx or JSON answer: its body, bounded, to build the error from.
    let errorBody:
      { status: number; headers: HeaderBag; pieces: Buffer[]; size: number } | undefined;
    let piecesAfterTerminal = 0;
    let tail: ReturnType<typeof setTimeout> | undefined;

    const abort = (reason: Error): void => {
      if (settled) return;
      if (controller === undefined) abortReason ??= reason;
      else controller.abort(reason);
    };
    const onAbort = (): void => {
      abort(signal?.reason instanceof Error ? signal.reason : UNSUBSCRIBED);
      subscriber.error(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });

    const failWithBody = (): void => {
      if (errorBody === undefined) return;
      const { status, headers, pieces, size } = errorBody;
      errorBody = undefined;
      const text = Buffer.concat(pieces, size).toString('utf8');
      if (status >= 200 && status < 300 && !/"error"\s*:/.test(text)) {
        subscriber.error(
          new ProviderError(
            'other',
            `${provider} answered with JSON instead of an event stream. Check the base URL and that streaming is enabled.`,
            { provider, status },
          ),
        );
        return;
      }
      subscriber.error(
        errorFromResponse({
          provider,
          status: status >= 200 && status < 300 ? 500 : status,
          headers,
          body: text,
          secrets: call.secrets,
        }),
      );
    };

    const handler: Dispatcher.DispatchHandler = {
      onRequestStart(ctrl) {
        controller = ctrl;
        if (abortReason !== undefined) ctrl.abort(abortReason);
      },
      onResponseStart(ctrl, statusCode, headers) {
        if (subscriber.closed) {
          ctrl.abort(UNSUBSCRIBED);
          return;
        }
        const contentType = String(headers['content-type'] ?? '');
        if (statusCode < 200 || statusCode >= 300 || contentType.includes('application/json')) {
          errorBody = { status: statusCode, headers, pieces: [], size: 0 };
          return;
        }
        const requestId = String(
          headers['x-request-id'] ?? headers['request-id'] ?? `req_${randomUUID()}`,
        );
        feed = createChunkFeed(
          decoderFor(call.format) as StreamDecoderFactory,
          subscriber,
          {
            provider,
            model: call.model,
            requestId,
            keepAliveChunks: call.keepAliveChunks === true,
          },
          flow,
        );
      },
      onResponseData(ctrl, piece) {
        if (errorBody !== undefined) {
          const room = MAX_ERROR_BODY_BYTES - errorBody.size;
          errorBody.pieces.push(piece.length >= room ? piece.subarray(0, room) : piece);
          errorBody.size += Math.min(piece.length, room);
          if (piece.length >= room) {
            failWithBody();
            ctrl.abort(UNSUBSCRIBED);
          }
          return;
        }
        if (feed === undefined) return;
        if (feed.finished) {
          // What follows the terminal event is read, undecoded, so that the connection can be
          // reused; a body that keeps sending is cut.
          if (++piecesAfterTerminal > PIECES_AFTER_TERMINAL) ctrl.abort(UNSUBSCRIBED);
          return;
        }
        if (subscriber.closed) return;
        const wait = feed.feed(piece);
        if (wait !== undefined) {
          ctrl.pause();
          void wait.then(() => {
            if (!settled && !ctrl.aborted) ctrl.resume();
          });
        }
      },
      onResponseEnd() {
        settled = true;
        if (tail !== undefined) clearTimeout(tail);
        if (errorBody !== undefined) failWithBody();
        else if (feed !== undefined && !feed.finished && !subscriber.closed) void feed.end();
      },
      onResponseError(_ctrl, error) {
        settled = true;
        if (tail !== undefined) clearTimeout(tail);
        if (subscriber.closed) return;
        if (signal?.aborted === true) {
          subscriber.error(signal.reason);
        } else if (errorBody !== undefined) {
          // A body that breaks off while we read an error: the error is built from what arrived.
          failWithBody();
        } else if (feed === undefined) {
          subscriber.error(toNetworkError(provider, call.origin, error));
        } else {
          subscriber.error(
            isRouterError(error)
              ? error
              : new IncompleteStreamError(
                  `The ${provider} stream broke off after ${feed.chunks} chunks: ${describeCause(error)}. The answer is incomplete; retry or fail over.`,
                  { provider, cause: error },
                ),
          );
        }
      },
    };

    try {
      call.dispatcher.dispatch(
        {
          origin: call.origin,
          path: call.path,
          method: 'POST',
          headers: call.headers,
          body: call.body,
        },
        handler,
      );
    } catch (error) {
      settled = true;
      subscriber.error(toNetworkError(provider, call.origin, error));
    }

    return () => {
      signal?.removeEventListener('abort', onAbort);
      if (settled) return;
      if (feed?.finished === true) {
        // The answer is complete; its body normally ends in the same read. One that stays open
        // is cut after a while, so that the connection is not held for ever.
        tail = setTimeout(() => {
          abort(UNSUBSCRIBED);
        }, call.tailTimeoutMs ?? TAIL_TIMEOUT_MS);
        tail.unref();
        return;
      }
      abort(UNSUBSCRIBED);
    };
  });
}
