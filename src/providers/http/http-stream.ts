import { randomUUID } from 'node:crypto';
import { Observable, type Subscription } from 'rxjs';
import type { Dispatcher } from 'undici';
import type { StreamFormat, StreamingChunk } from '../../chunk/streaming-chunk';
import { NetworkError } from '../../errors/network-error';
import { ProviderError } from '../../errors/provider-error';
import { isRouterError } from '../../errors/router-error';
import { currentFlow, runWithFlow } from '../../flow/flow-control';
import { decodeProviderStream } from '../decode-provider-stream';
import { errorFromResponse } from '../error-from-response';
import { readBounded } from './read-bounded';

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
 */
export function httpStream(call: HttpStreamCall): Observable<StreamingChunk> {
  return new Observable<StreamingChunk>((subscriber) => {
    const flow = currentFlow();
    const controller = new AbortController();
    const { signal } = call;
    const onAbort = (): void => {
      controller.abort(signal?.reason);
    };
    if (signal?.aborted === true) {
      subscriber.error(signal.reason);
      return;
    }
    signal?.addEventListener('abort', onAbort, { once: true });

    let inner: Subscription | undefined;
    let responseBody: Dispatcher.ResponseData['body'] | undefined;
    let finished = false;

    const run = async (): Promise<void> => {
      let response: Dispatcher.ResponseData;
      try {
        response = await call.dispatcher.request({
          origin: call.origin,
          path: call.path,
          method: 'POST',
          headers: call.headers,
          body: call.body,
          signal: controller.signal,
        });
      } catch (error) {
        if (signal?.aborted === true) throw signal.reason;
        throw toNetworkError(call.provider, call.origin, error);
      }
      const { statusCode, headers, body } = response;
      responseBody = body;
      // An abort or socket error on an unread body must never become an uncaught exception.
      body.on('error', () => undefined);
      if (subscriber.closed) {
        body.destroy();
        return;
      }
      if (statusCode < 200 || statusCode >= 300) {
        const text = await readBounded(body);
        throw errorFromResponse({
          provider: call.provider,
          status: statusCode,
          headers,
          body: text,
          secrets: call.secrets,
        });
      }
      const contentType = String(headers['content-type'] ?? '');
      if (contentType.includes('application/json')) {
        const text = await readBounded(body);
        if (/"error"\s*:/.test(text)) {
          throw errorFromResponse({
            provider: call.provider,
            status: 500,
            headers,
            body: text,
            secrets: call.secrets,
          });
        }
        throw new ProviderError(
          'other',
          `${call.provider} answered with JSON instead of an event stream. Check the base URL and that streaming is enabled.`,
          { provider: call.provider, status: statusCode },
        );
      }
      const requestId = String(
        headers['x-request-id'] ?? headers['request-id'] ?? `req_${randomUUID()}`,
      );
      inner = runWithFlow(flow, () =>
        decodeProviderStream(call.format, body, {
          provider: call.provider,
          model: call.model,
          requestId,
          keepAliveChunks: call.keepAliveChunks === true,
        }).subscribe({
          next: (chunk) => {
            subscriber.next(chunk);
          },
          error: (error: unknown) => {
            // An abort by the caller's signal breaks the body: report the signal's reason.
            subscriber.error(signal?.aborted === true ? signal.reason : error);
          },
          complete: () => {
            finished = true;
            subscriber.complete();
          },
        }),
      );
    };

    run().catch((error: unknown) => {
      subscriber.error(signal?.aborted === true ? signal.reason : error);
    });

    return () => {
      signal?.removeEventListener('abort', onAbort);
      inner?.unsubscribe();
      // A body read to its end needs no abort (and an abort without a reason builds a
      // DOMException with a stack trace: measurable at thousands of requests per second).
      if (!finished && !controller.signal.aborted) controller.abort(UNSUBSCRIBED);
      if (!finished && responseBody !== undefined && !responseBody.destroyed)
        responseBody.destroy();
    };
  });
}
