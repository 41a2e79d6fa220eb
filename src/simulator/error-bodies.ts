import type { StreamFormat } from '../chunk/streaming-chunk';

/** What the simulator knows of an error it answers with. */
export interface ErrorFacts {
  /** The request's model, named in 404 and 429 messages. */
  model?: string | undefined;
  /** The provider's request id, put in Anthropic's `request_id`. */
  requestId: string;
  /** Overrides the provider's stock message for the status. */
  message?: string | undefined;
  /** OpenAI's `param`. */
  param?: string | undefined;
  /** Overrides OpenAI's `code` (null: none) / Anthropic's type / Gemini's status name. */
  code?: string | null | undefined;
  /** A retry hint: headers for OpenAI and Anthropic, `RetryInfo` for Gemini. */
  retryAfterMs?: number | undefined;
  /** Whether to send the hint in ms too (`retry-after-ms`). */
  retryInMs?: boolean | undefined;
  /** Gemini `details` to add (ErrorInfo for a bad API key). */
  details?: unknown[] | undefined;
}

/** An error response, ready to send. */
export interface ErrorResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

function retryPhrase(ms: number): string {
  return ms < 1000 ? `${ms}ms` : `${+(ms / 1000).toFixed(3)}s`;
}

function retryHeaders(facts: ErrorFacts): Record<string, string> {
  const { retryAfterMs } = facts;
  if (retryAfterMs === undefined) return {};
  const headers: Record<string, string> = { 'retry-after': String(Math.ceil(retryAfterMs / 1000)) };
  if (facts.retryInMs === true) headers['retry-after-ms'] = String(retryAfterMs);
  return headers;
}

/** OpenAI's `{"error": {"message", "type", "param", "code"}}` for a status. */
export function openAIError(status: number, facts: ErrorFacts): ErrorResponse {
  const model = facts.model ?? 'the model';
  const retry =
    facts.retryAfterMs === undefined
      ? ''
      : ` Please try again in ${retryPhrase(facts.retryAfterMs)}.`;
  let type = status >= 500 ? 'server_error' : 'invalid_request_error';
  let code: string | null = null;
  let message: string;
  switch (status) {
    case 400:
      message = 'Invalid request.';
      break;
    case 401:
      code = 'invalid_api_key';
      message =
        'Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.';
      break;
    case 403:
      code = 'unsupported_country_region_territory';
      type = 'request_forbidden';
      message = 'Country, region, or territory not supported';
      break;
    case 404:
      code = 'model_not_found';
      message = `The model \`${model}\` does not exist or you do not have access to it.`;
      break;
    case 408:
      message = 'Request timed out.';
      break;
    case 413:
      code = 'request_too_large';
      message = 'Request too large.';
      break;
    case 429:
      type = 'requests';
      code = 'rate_limit_exceeded';
      message = `Rate limit reached for ${model} in organization org-simulator on requests per min (RPM): Limit 60, Used 60, Requested 1.${retry === '' ? ' Please try again later.' : retry} Visit https://platform.openai.com/account/rate-limits to learn more.`;
      break;
    case 500:
      message = 'The server had an error while processing your request. Sorry about that!';
      break;
    case 502:
      message = 'Bad gateway.';
      break;
    case 503:
      message = 'The engine is currently overloaded, please try again later';
      break;
    case 504:
      message = 'Gateway timeout.';
      break;
    default:
      message =
        status >= 500 ? 'The server had an error processing your request.' : 'Invalid request.';
  }
  const body = {
    error: {
      message: facts.message ?? (status === 429 ? message : message + retry),
      type,
      param: facts.param ?? null,
      code: facts.code === undefined ? code : facts.code,
    },
  };
  return {
    status,
    headers: {
      'content-type': 'application/json',
      'x-request-id': facts.requestId,
      ...retryHeaders(facts),
    },
    body: JSON.stringify(body),
  };
}

/** The error type Anthropic uses for a status. */
export function anthropicErrorType(status: number): string {
  switch (status) {
    case 400:
      return 'invalid_request_error';
    case 401:
      return 'authentication_error';
    case 402:
      return 'billing_error';
    case 403:
      return 'permission_error';
    case 404:
      return 'not_found_error';
    case 413:
      return 'request_too_large';
    case 429:
      return 'rate_limit_error';
    case 504:
      return 'timeout_error';
    case 529:
      return 'overloaded_error';
    default:
      return status >= 500 ? 'api_error' : 'invalid_request_error';
  }
}

function anthropicMessage(status: number, facts: ErrorFacts): string {
  switch (status) {
    case 401:
      return 'invalid x-api-key';
    case 403:
      return 'Your API key does not have permission to use the specified resource.';
    case 404:
      return `model: ${facts.model ?? ''}`;
    case 413:
      return 'Request exceeds the maximum allowed number of bytes.';
    case 429:
      return 'This request would exceed the rate limit for your organization of 50 requests per minute. For details, refer to: https://docs.claude.com/en/api/rate-limits. You can see the response headers for current usage. Please reduce the prompt length or the maximum tokens requested, or try again later.';
    case 500:
      return 'Internal server error';
    case 504:
      return 'Request timed out';
    case 529:
      return 'Overloaded';
    default:
      return status >= 500 ? 'Internal server error' : 'Invalid request';
  }
}

/** The body of an Anthropic error (HTTP or `event: error`). */
export function anthropicErrorObject(status: number, facts: ErrorFacts): Record<string, unknown> {
  return {
    type: 'error',
    error: {
      type: facts.code ?? anthropicErrorType(status),
      message: facts.message ?? anthropicMessage(status, facts),
    },
    request_id: facts.requestId,
  };
}

/** Anthropic's `{"type": "error", "error": {"type", "message"}, "request_id"}` for a status. */
export function anthropicError(status: number, facts: ErrorFacts): ErrorResponse {
  return {
    status,
    headers: {
      'content-type': 'application/json',
      'request-id': facts.requestId,
      ...(status >= 500 || status === 408 || status === 409 || status === 429
        ? { 'x-should-retry': 'true' }
        : {}),
      ...retryHeaders(facts),
    },
    body: JSON.stringify(anthropicErrorObject(status, facts)),
  };
}

/** The google.rpc status name for an HTTP status. */
export function googleStatusName(status: number): string {
  switch (status) {
    case 400:
      return 'INVALID_ARGUMENT';
    case 401:
      return 'UNAUTHENTICATED';
    case 403:
      return 'PERMISSION_DENIED';
    case 404:
      return 'NOT_FOUND';
    case 409:
      return 'ABORTED';
    case 413:
      return 'INVALID_ARGUMENT';
    case 429:
      return 'RESOURCE_EXHAUSTED';
    case 499:
      return 'CANCELLED';
    case 501:
      return 'UNIMPLEMENTED';
    case 503:
      return 'UNAVAILABLE';
    case 504:
      return 'DEADLINE_EXCEEDED';
    default:
      return status >= 500 ? 'INTERNAL' : 'FAILED_PRECONDITION';
  }
}

function googleMessage(status: number, facts: ErrorFacts): string {
  const model = facts.model ?? 'the model';
  switch (status) {
    case 400:
      return 'Request contains an invalid argument.';
    case 401:
      return 'Request had invalid authentication credentials.';
    case 403:
      return 'The caller does not have permission';
    case 404:
      return `models/${model} is not found for API version v1beta, or is not supported for generateContent. Call ListModels to see the list of available models and their supported methods.`;
    case 429: {
      const retry =
        facts.retryAfterMs === undefined
          ? ''
          : ` Please retry in ${retryPhrase(facts.retryAfterMs)}.`;
      return `You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.${retry}`;
    }
    case 500:
      return 'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting';
    case 503:
      return 'The model is overloaded. Please try again later.';
    case 504:
      return 'Deadline expired before operation could complete.';
    default:
      return status >= 500 ? 'Internal error encountered.' : 'Precondition check failed.';
  }
}

/** The `{"error": {"code", "message", "status", "details"?}}` object of a Gemini error. */
export function googleErrorObject(status: number, facts: ErrorFacts): Record<string, unknown> {
  const details: unknown[] = [...(facts.details ?? [])];
  if (facts.retryAfterMs !== undefined) {
    details.push({
      '@type': 'type.googleapis.com/google.rpc.RetryInfo',
      retryDelay: `${+(facts.retryAfterMs / 1000).toFixed(3)}s`,
    });
  }
  const error: Record<string, unknown> = {
    code: status,
    message: facts.message ?? googleMessage(status, facts),
    status: facts.code ?? googleStatusName(status),
  };
  if (details.length > 0) error.details = details;
  return { error };
}

/**
 * Gemini's pretty-printed `{"error": {"code", "message", "status", "details"}}`. Like the real
 * API, a streaming request's error keeps `Content-Type: text/event-stream` (clients must check
 * the status first), and retry hints travel only in `RetryInfo`.
 */
export function googleError(status: number, facts: ErrorFacts, streaming: boolean): ErrorResponse {
  return {
    status,
    headers: {
      'content-type': streaming ? 'text/event-stream' : 'application/json; charset=UTF-8',
    },
    body: `${JSON.stringify(googleErrorObject(status, facts), null, 2)}\n`,
  };
}

/** The provider's error response for a status. */
export function providerError(
  format: StreamFormat,
  status: number,
  facts: ErrorFacts,
  streaming = false,
): ErrorResponse {
  switch (format) {
    case 'openai':
      return openAIError(status, facts);
    case 'anthropic':
      return anthropicError(status, facts);
    case 'google':
      return googleError(status, facts, streaming);
  }
}
