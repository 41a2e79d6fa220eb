import { IncompleteStreamError } from '../errors/incomplete-stream-error';
import { NetworkError } from '../errors/network-error';
import { RateLimitError } from '../errors/rate-limit-error';
import type { RouterError } from '../errors/router-error';
import { TimeoutError, type TimeoutKind } from '../errors/timeout-error';
import { classifyProviderError } from '../providers/classify-error';
import { FAKE_PROVIDER } from './chunk-builders';

/** What a provider said about an error, for {@link httpError} and {@link streamError}. */
export interface ProviderErrorSpec {
  /** The provider the error comes from. Default `'fake'`. */
  provider?: string;
  /** The provider's message. Default: the status's reason phrase, or the type. */
  message?: string;
  /** The provider's error type (`overloaded_error`, `server_error`, `UNAVAILABLE`, ...). */
  type?: string;
  /** The provider's error code (`context_length_exceeded`, `insufficient_quota`, ...). */
  code?: string;
  /** The provider's Retry-After hint, in ms. */
  retryAfterMs?: number;
}

const reasons: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Payload Too Large',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
  529: 'Overloaded',
};

/**
 * The typed error a real provider raises for an HTTP error status, classified exactly like
 * the HTTP layer does it (`classifyProviderError`): 429 gives a retryable `RateLimitError`,
 * 500/502/503 a retryable `ProviderError` (`server_error`), 529 `overloaded`, 400 a
 * non-retryable `invalid_request`, 401/403 `authentication`, 404 `not_found`, ...
 *
 * ```ts
 * httpError(503).isRetryable; // true
 * httpError(400, { code: 'context_length_exceeded' }).code; // 'RXLLM_CONTEXT_LENGTH_EXCEEDED'
 * ```
 */
export function httpError(status: number, spec: ProviderErrorSpec = {}): RouterError {
  if (!Number.isInteger(status) || status < 100 || status > 599) {
    throw new RangeError(`httpError: status must be an HTTP status (100–599), got ${status}.`);
  }
  return classifyProviderError({
    provider: spec.provider ?? FAKE_PROVIDER,
    status,
    type: spec.type,
    code: spec.code,
    message: spec.message ?? reasons[status] ?? `HTTP ${status}`,
    retryAfterMs: spec.retryAfterMs,
  });
}

/**
 * An error event sent inside a 200 stream (no HTTP status), classified like the stream
 * decoders do it: an unknown type is a retryable `server_error`.
 *
 * ```ts
 * streamError({ type: 'overloaded_error', message: 'Overloaded' }); // Anthropic's mid-stream error
 * ```
 */
export function streamError(spec: ProviderErrorSpec = {}): RouterError {
  return classifyProviderError({
    provider: spec.provider ?? FAKE_PROVIDER,
    type: spec.type,
    code: spec.code,
    message: spec.message,
    retryAfterMs: spec.retryAfterMs,
  });
}

/** A retryable HTTP 429 `RateLimitError`, with the provider's `retryAfterMs` hint if given. */
export function rateLimited(
  retryAfterMs?: number,
  spec: Omit<ProviderErrorSpec, 'retryAfterMs'> = {},
): RateLimitError {
  const error = httpError(429, {
    ...spec,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  });
  if (!(error instanceof RateLimitError)) throw new TypeError('httpError(429) is a RateLimitError');
  return error;
}

/** A non-retryable HTTP 429 `RateLimitError` for a spent quota (`insufficient_quota`). */
export function quotaExceeded(spec: Omit<ProviderErrorSpec, 'code'> = {}): RateLimitError {
  const error = httpError(429, {
    message: 'You exceeded your current quota, please check your plan and billing details.',
    ...spec,
    code: 'insufficient_quota',
  });
  if (!(error instanceof RateLimitError)) throw new TypeError('httpError(429) is a RateLimitError');
  return error;
}

/** A retryable `NetworkError` (connection refused or reset before a response). */
export function networkError(
  message = 'connect ECONNREFUSED',
  spec: Pick<ProviderErrorSpec, 'provider'> = {},
): NetworkError {
  return new NetworkError(message, { provider: spec.provider ?? FAKE_PROVIDER });
}

/** A `TimeoutError` of the given kind (`'first-token'`, `'idle'` or `'total'`). */
export function timeoutError(
  kind: TimeoutKind,
  timeoutMs: number,
  spec: Pick<ProviderErrorSpec, 'provider'> = {},
): TimeoutError {
  return new TimeoutError(kind, timeoutMs, { provider: spec.provider ?? FAKE_PROVIDER });
}

/** An `IncompleteStreamError`: the stream broke off after `partialText`. */
export function incompleteStream(
  partialText = '',
  spec: Pick<ProviderErrorSpec, 'provider'> = {},
): IncompleteStreamError {
  const provider = spec.provider ?? FAKE_PROVIDER;
  return new IncompleteStreamError(`${provider} ended the stream before finishing the answer.`, {
    provider,
    partialText,
  });
}
