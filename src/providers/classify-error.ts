import { ProviderError, type ProviderErrorKind } from '../errors/provider-error';
import { RateLimitError } from '../errors/rate-limit-error';
import type { RouterError } from '../errors/router-error';

/** What is known of a provider's error, from its HTTP status and/or its error body or event. */
export interface ProviderErrorFacts {
  provider: string;
  /** The HTTP status; absent for errors sent inside a 200 stream. */
  status?: number | undefined;
  /** The provider's error type (`overloaded_error`, `server_error`) or status name (`UNAVAILABLE`). */
  type?: string | undefined;
  /** The provider's error code (`context_length_exceeded`, `insufficient_quota`). */
  code?: string | undefined;
  /** The provider's own message. */
  message?: string | undefined;
  retryAfterMs?: number | undefined;
  cause?: unknown;
}

const contextLength =
  /context_length_exceeded|context.length|context window|maximum context|prompt is too long|input token count .* exceeds|too many (input )?tokens/i;
const contentFilter =
  /content_filter|content_policy|content.policy|safety system|moderation|responsible ?ai|prohibited_content/i;
// Gemini answers a bad API key with 400 INVALID_ARGUMENT, so the status alone says "invalid request".
const badApiKey = /API_KEY_INVALID|API key not (valid|found)/i;
const quota =
  /insufficient_quota|exceeded your (current )?quota.*(plan|billing)|spend(ing)? (cap|limit)|billing hard limit|credit balance is too low/i;

/**
 * Turns what a provider said about an error into the right typed error. It is shared by the HTTP
 * layer (status + body) and the stream decoders (in-band error events), so an error reads the
 * same however it arrived.
 *
 * 1. 429, `rate_limit_error`, `rate_limit_exceeded` or `RESOURCE_EXHAUSTED` give a
 *    `RateLimitError`; a quota or spend cap with no retry hint is marked not retryable.
 * 2. A context-length code or message gives `context_length_exceeded`, a content-policy one
 *    `content_filtered` (both not retryable).
 * 3. Otherwise the status (or the type, for in-band errors) decides: 401/403 (and Gemini's 400
 *    "API key not valid") authentication, 404 not found, 400/413/422 invalid request, 408/409
 *    retryable, 529 or `overloaded` overloaded, 5xx server error. An in-band error of unknown
 *    type is a retryable server error.
 */
export function classifyProviderError(facts: ProviderErrorFacts): RouterError {
  const { provider, status, type, code, retryAfterMs, cause } = facts;
  const said = facts.message ?? type ?? code ?? 'no message';
  const where =
    status === undefined
      ? `${provider} sent an error mid-stream`
      : `${provider} answered HTTP ${status}`;
  const signature = `${type ?? ''} ${code ?? ''}`;
  const options = {
    provider,
    status,
    retryAfterMs,
    cause,
    providerCode: code ?? type,
  };

  if (status === 429 || /rate_limit|RESOURCE_EXHAUSTED|insufficient_quota/i.test(signature)) {
    const quotaExceeded =
      code === 'insufficient_quota' ||
      type === 'insufficient_quota' ||
      (retryAfterMs === undefined && quota.test(said));
    return new RateLimitError(
      quotaExceeded
        ? `${where}: quota or spend cap reached: ${said}. Waiting will not help; raise the quota or route elsewhere.`
        : `${where}: rate limited: ${said}.${
            retryAfterMs === undefined ? '' : ` Retry after ${retryAfterMs} ms.`
          }`,
      { provider, status, retryAfterMs, cause, quotaExceeded },
    );
  }

  const invalid =
    status === undefined
      ? /invalid_request|INVALID_ARGUMENT|FAILED_PRECONDITION/i.test(signature)
      : status === 400 || status === 404 || status === 413 || status === 422;
  if (
    (invalid || status === undefined) &&
    (contextLength.test(said) || contextLength.test(signature))
  ) {
    return new ProviderError(
      'context_length_exceeded',
      `${where}: the request does not fit the model's context window: ${said}. Shorten it or use a model with a larger context.`,
      options,
    );
  }
  if (invalid && (contentFilter.test(signature) || contentFilter.test(said))) {
    return new ProviderError(
      'content_filtered',
      `${where}: blocked by the provider's content policy: ${said}.`,
      options,
    );
  }

  let kind: ProviderErrorKind;
  let isRetryable: boolean | undefined;
  if (
    status === 401 ||
    status === 403 ||
    /authentication|permission|UNAUTHENTICATED|PERMISSION_DENIED/i.test(signature) ||
    badApiKey.test(signature) ||
    badApiKey.test(said)
  ) {
    kind = 'authentication';
  } else if (status === 404 || /not_found|NOT_FOUND/i.test(signature)) {
    kind = 'not_found';
  } else if (invalid) {
    kind = 'invalid_request';
  } else if (status === 529 || /overloaded/i.test(signature) || /overloaded/i.test(said)) {
    kind = 'overloaded';
  } else if (status === 408 || status === 409) {
    kind = 'other';
    isRetryable = true;
  } else if (status === undefined || status >= 500) {
    kind = 'server_error';
  } else {
    kind = 'other';
    isRetryable = false;
  }
  const hint =
    kind === 'authentication'
      ? ' Check the API key and its permissions.'
      : kind === 'not_found'
        ? ' Check the model name and the base URL.'
        : kind === 'invalid_request'
          ? ' Fix the request; retrying will not help.'
          : kind === 'overloaded' || kind === 'server_error' || isRetryable === true
            ? ' This is usually transient; retry or fail over.'
            : '';
  // The provider's message may end with its own full stop: never print two.
  const sentence = /[.!?]$/.test(said) ? said : `${said}.`;
  return new ProviderError(kind, `${where}: ${sentence}${hint}`, {
    ...options,
    ...(isRetryable === undefined ? {} : { isRetryable }),
  });
}
