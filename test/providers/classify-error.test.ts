import { classifyProviderError, type ProviderErrorFacts } from '../../src/providers/classify-error';
import { ProviderError, RateLimitError, type RouterErrorCode } from '../../src/errors/index';

// The error bodies below follow each provider's documented shape:
//   OpenAI:    {"error": {"message", "type", "param", "code"}}
//   Anthropic: {"type": "error", "error": {"type", "message"}, "request_id"}
//   Gemini:    {"error": {"code", "message", "status", "details"}}
// The helpers read them the way the HTTP layer and the stream decoders do: OpenAI's type and
// code, Anthropic's error type, Gemini's status name as the type.

interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}
interface AnthropicErrorBody {
  type: 'error';
  error: { type: string; message: string };
  request_id?: string;
}
interface GeminiErrorBody {
  error: { code: number; message: string; status: string; details?: unknown[] };
}

function openai(
  status: number | undefined,
  body: OpenAIErrorBody,
  retryAfterMs?: number,
): ProviderErrorFacts {
  return {
    provider: 'openai',
    status,
    type: body.error.type,
    code: body.error.code ?? undefined,
    message: body.error.message,
    retryAfterMs,
    cause: body,
  };
}

function anthropic(
  status: number | undefined,
  body: AnthropicErrorBody,
  retryAfterMs?: number,
): ProviderErrorFacts {
  return {
    provider: 'anthropic',
    status,
    type: body.error.type,
    message: body.error.message,
    retryAfterMs,
    cause: body,
  };
}

function gemini(
  status: number | undefined,
  body: GeminiErrorBody,
  retryAfterMs?: number,
): ProviderErrorFacts {
  return {
    provider: 'google',
    status,
    type: body.error.status,
    message: body.error.message,
    retryAfterMs,
    cause: body,
  };
}

/** Asserts that `value` is a `type` and returns it as one. */
function as<T>(value: unknown, type: abstract new (...args: never[]) => T): T {
  expect(value).toBeInstanceOf(type);
  if (!(value instanceof type)) throw new Error('unreachable');
  return value;
}

interface Expected {
  code: RouterErrorCode;
  isRetryable: boolean;
  /** The class the error must be. */
  type: typeof ProviderError | typeof RateLimitError;
  quotaExceeded?: boolean;
  /** Text the message must contain besides the provider's own message (the next step). */
  advice?: string;
}

const cases: [string, ProviderErrorFacts, Expected][] = [
  [
    'OpenAI 400 context_length_exceeded',
    openai(400, {
      error: {
        message:
          "This model's maximum context length is 128000 tokens. However, your messages resulted in 130532 tokens. Please reduce the length of the messages.",
        type: 'invalid_request_error',
        param: 'messages',
        code: 'context_length_exceeded',
      },
    }),
    {
      code: 'RXLLM_CONTEXT_LENGTH_EXCEEDED',
      isRetryable: false,
      type: ProviderError,
      advice: 'Shorten it or use a model with a larger context',
    },
  ],
  [
    'Anthropic 400 prompt is too long',
    anthropic(400, {
      type: 'error',
      error: {
        type: 'invalid_request_error',
        message: 'prompt is too long: 215402 tokens > 200000 maximum',
      },
      request_id: 'req_011CSHoEeqs5C35K2UUqR7Fy',
    }),
    { code: 'RXLLM_CONTEXT_LENGTH_EXCEEDED', isRetryable: false, type: ProviderError },
  ],
  [
    'Gemini 400 INVALID_ARGUMENT input token count exceeds',
    gemini(400, {
      error: {
        code: 400,
        message:
          'The input token count (1200345) exceeds the maximum number of tokens allowed (1048576).',
        status: 'INVALID_ARGUMENT',
      },
    }),
    { code: 'RXLLM_CONTEXT_LENGTH_EXCEEDED', isRetryable: false, type: ProviderError },
  ],
  [
    'OpenAI 400 content_policy_violation',
    openai(400, {
      error: {
        message: 'Your request was rejected as a result of our safety system.',
        type: 'invalid_request_error',
        param: null,
        code: 'content_policy_violation',
      },
    }),
    {
      code: 'RXLLM_CONTENT_FILTERED',
      isRetryable: false,
      type: ProviderError,
      advice: 'content policy',
    },
  ],
  [
    'OpenAI 400 invalid parameter',
    openai(400, {
      error: {
        message: "Invalid value for 'temperature': expected a number between 0 and 2.",
        type: 'invalid_request_error',
        param: 'temperature',
        code: 'invalid_value',
      },
    }),
    {
      code: 'RXLLM_INVALID_REQUEST',
      isRetryable: false,
      type: ProviderError,
      advice: 'Fix the request; retrying will not help.',
    },
  ],
  [
    'Gemini 400 INVALID_ARGUMENT on a bad safety setting',
    gemini(400, {
      error: {
        code: 400,
        message:
          'Invalid value at \'safety_settings[0].category\' (type.googleapis.com/google.ai.generativelanguage.v1beta.HarmCategory), "HARM_CATEGORY_UNKNOWN"',
        status: 'INVALID_ARGUMENT',
      },
    }),
    { code: 'RXLLM_INVALID_REQUEST', isRetryable: false, type: ProviderError },
  ],
  [
    'OpenAI 401 invalid_api_key',
    openai(401, {
      error: {
        message: 'Incorrect API key provided: sk-abc***xyz.',
        type: 'invalid_request_error',
        param: null,
        code: 'invalid_api_key',
      },
    }),
    {
      code: 'RXLLM_AUTHENTICATION',
      isRetryable: false,
      type: ProviderError,
      advice: 'Check the API key and its permissions.',
    },
  ],
  [
    'Anthropic 401 authentication_error',
    anthropic(401, {
      type: 'error',
      error: { type: 'authentication_error', message: 'invalid x-api-key' },
    }),
    { code: 'RXLLM_AUTHENTICATION', isRetryable: false, type: ProviderError },
  ],
  [
    'Gemini 400 INVALID_ARGUMENT API key not valid',
    gemini(400, {
      error: {
        code: 400,
        message: 'API key not valid. Please pass a valid API key.',
        status: 'INVALID_ARGUMENT',
        details: [
          {
            '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
            reason: 'API_KEY_INVALID',
            domain: 'googleapis.com',
          },
        ],
      },
    }),
    {
      code: 'RXLLM_AUTHENTICATION',
      isRetryable: false,
      type: ProviderError,
      advice: 'Check the API key',
    },
  ],
  [
    'Anthropic 403 permission_error',
    anthropic(403, {
      type: 'error',
      error: {
        type: 'permission_error',
        message: 'Your API key does not have permission to use the specified resource.',
      },
    }),
    { code: 'RXLLM_AUTHENTICATION', isRetryable: false, type: ProviderError },
  ],
  [
    'Gemini 403 PERMISSION_DENIED',
    gemini(403, {
      error: {
        code: 403,
        message:
          "Method doesn't allow unregistered callers (callers without established identity).",
        status: 'PERMISSION_DENIED',
      },
    }),
    { code: 'RXLLM_AUTHENTICATION', isRetryable: false, type: ProviderError },
  ],
  [
    'Gemini 404 NOT_FOUND',
    gemini(404, {
      error: {
        code: 404,
        message:
          'models/gemini-9.0-pro is not found for API version v1beta, or is not supported for generateContent.',
        status: 'NOT_FOUND',
      },
    }),
    {
      code: 'RXLLM_NOT_FOUND',
      isRetryable: false,
      type: ProviderError,
      advice: 'Check the model name and the base URL.',
    },
  ],
  [
    'OpenAI 404 model_not_found',
    openai(404, {
      error: {
        message: 'The model `gpt-9` does not exist or you do not have access to it.',
        type: 'invalid_request_error',
        param: null,
        code: 'model_not_found',
      },
    }),
    { code: 'RXLLM_NOT_FOUND', isRetryable: false, type: ProviderError },
  ],
  [
    'OpenAI 408 request timeout',
    openai(408, {
      error: { message: 'Request timed out.', type: 'timeout', param: null, code: null },
    }),
    {
      code: 'RXLLM_PROVIDER_ERROR',
      isRetryable: true,
      type: ProviderError,
      advice: 'retry or fail over',
    },
  ],
  [
    'OpenAI 409 conflict',
    openai(409, {
      error: {
        message: 'Another request is already in progress for this resource.',
        type: 'conflict',
        param: null,
        code: null,
      },
    }),
    { code: 'RXLLM_PROVIDER_ERROR', isRetryable: true, type: ProviderError },
  ],
  [
    'Anthropic 413 request_too_large',
    anthropic(413, {
      type: 'error',
      error: {
        type: 'request_too_large',
        message: 'Request exceeds the maximum allowed number of bytes.',
      },
    }),
    { code: 'RXLLM_INVALID_REQUEST', isRetryable: false, type: ProviderError },
  ],
  [
    'OpenAI-compatible 422 unprocessable',
    openai(422, {
      error: {
        message: "Input should be 'system', 'user', 'assistant' or 'tool'",
        type: 'invalid_request_error',
        param: 'messages.1.role',
        code: null,
      },
    }),
    { code: 'RXLLM_INVALID_REQUEST', isRetryable: false, type: ProviderError },
  ],
  [
    'OpenAI 429 rate_limit_exceeded with Retry-After',
    openai(
      429,
      {
        error: {
          message:
            'Rate limit reached for gpt-4o in organization org-abc on tokens per min (TPM): Limit 30000, Used 29000, Requested 2000. Please try again in 2s.',
          type: 'tokens',
          param: null,
          code: 'rate_limit_exceeded',
        },
      },
      2000,
    ),
    {
      code: 'RXLLM_RATE_LIMITED',
      isRetryable: true,
      type: RateLimitError,
      quotaExceeded: false,
      advice: 'Retry after 2000 ms.',
    },
  ],
  [
    'Anthropic 429 rate_limit_error with Retry-After',
    anthropic(
      429,
      {
        type: 'error',
        error: {
          type: 'rate_limit_error',
          message:
            'This request would exceed the rate limit for your organization of 50,000 input tokens per minute.',
        },
      },
      15_000,
    ),
    { code: 'RXLLM_RATE_LIMITED', isRetryable: true, type: RateLimitError, quotaExceeded: false },
  ],
  [
    'OpenAI 429 insufficient_quota',
    openai(429, {
      error: {
        message:
          'You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs.',
        type: 'insufficient_quota',
        param: null,
        code: 'insufficient_quota',
      },
    }),
    {
      code: 'RXLLM_RATE_LIMITED',
      isRetryable: false,
      type: RateLimitError,
      quotaExceeded: true,
      advice: 'Waiting will not help',
    },
  ],
  [
    'Gemini 429 RESOURCE_EXHAUSTED with a RetryInfo delay',
    gemini(
      429,
      {
        error: {
          code: 429,
          message:
            'You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.',
          status: 'RESOURCE_EXHAUSTED',
          details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '34.4s' }],
        },
      },
      34_400,
    ),
    {
      code: 'RXLLM_RATE_LIMITED',
      isRetryable: true,
      type: RateLimitError,
      quotaExceeded: false,
      advice: 'Retry after 34400 ms.',
    },
  ],
  [
    'OpenAI 500 server_error',
    openai(500, {
      error: {
        message: 'The server had an error while processing your request. Sorry about that!',
        type: 'server_error',
        param: null,
        code: null,
      },
    }),
    {
      code: 'RXLLM_PROVIDER_SERVER_ERROR',
      isRetryable: true,
      type: ProviderError,
      advice: 'This is usually transient; retry or fail over.',
    },
  ],
  [
    'Anthropic 500 api_error',
    anthropic(500, {
      type: 'error',
      error: { type: 'api_error', message: 'Internal server error' },
    }),
    { code: 'RXLLM_PROVIDER_SERVER_ERROR', isRetryable: true, type: ProviderError },
  ],
  [
    'Gemini 500 INTERNAL',
    gemini(500, {
      error: {
        code: 500,
        message:
          'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting',
        status: 'INTERNAL',
      },
    }),
    { code: 'RXLLM_PROVIDER_SERVER_ERROR', isRetryable: true, type: ProviderError },
  ],
  [
    'OpenAI 502 bad gateway',
    openai(502, {
      error: { message: 'Bad gateway.', type: 'server_error', param: null, code: null },
    }),
    { code: 'RXLLM_PROVIDER_SERVER_ERROR', isRetryable: true, type: ProviderError },
  ],
  [
    'Gemini 503 UNAVAILABLE overloaded',
    gemini(503, {
      error: {
        code: 503,
        message: 'The model is overloaded. Please try again later.',
        status: 'UNAVAILABLE',
      },
    }),
    { code: 'RXLLM_PROVIDER_OVERLOADED', isRetryable: true, type: ProviderError },
  ],
  [
    'OpenAI 503 service unavailable',
    openai(503, {
      error: {
        message: 'The engine is currently unavailable.',
        type: 'server_error',
        param: null,
        code: null,
      },
    }),
    { code: 'RXLLM_PROVIDER_SERVER_ERROR', isRetryable: true, type: ProviderError },
  ],
  [
    'Gemini 504 DEADLINE_EXCEEDED',
    gemini(504, {
      error: {
        code: 504,
        message: 'The service is currently unavailable or the request exceeded its deadline.',
        status: 'DEADLINE_EXCEEDED',
      },
    }),
    { code: 'RXLLM_PROVIDER_SERVER_ERROR', isRetryable: true, type: ProviderError },
  ],
  [
    'Anthropic 529 overloaded_error',
    anthropic(529, {
      type: 'error',
      error: { type: 'overloaded_error', message: 'Overloaded' },
    }),
    {
      code: 'RXLLM_PROVIDER_OVERLOADED',
      isRetryable: true,
      type: ProviderError,
      advice: 'retry or fail over',
    },
  ],
  [
    'Anthropic in-band overloaded_error (no status)',
    anthropic(undefined, {
      type: 'error',
      error: { type: 'overloaded_error', message: 'Overloaded' },
    }),
    { code: 'RXLLM_PROVIDER_OVERLOADED', isRetryable: true, type: ProviderError },
  ],
  [
    'Anthropic in-band error of an unknown type (no status)',
    anthropic(undefined, {
      type: 'error',
      error: { type: 'mysterious_new_error', message: 'Something unexpected happened' },
    }),
    { code: 'RXLLM_PROVIDER_SERVER_ERROR', isRetryable: true, type: ProviderError },
  ],
  [
    'Anthropic in-band prompt is too long (no status)',
    anthropic(undefined, {
      type: 'error',
      error: {
        type: 'invalid_request_error',
        message: 'prompt is too long: 215402 tokens > 200000 maximum',
      },
    }),
    { code: 'RXLLM_CONTEXT_LENGTH_EXCEEDED', isRetryable: false, type: ProviderError },
  ],
  [
    'OpenAI in-band rate_limit_exceeded (no status)',
    openai(undefined, {
      error: {
        message: 'Rate limit reached for gpt-4o.',
        type: 'requests',
        param: null,
        code: 'rate_limit_exceeded',
      },
    }),
    { code: 'RXLLM_RATE_LIMITED', isRetryable: true, type: RateLimitError, quotaExceeded: false },
  ],
];

describe('classifyProviderError', () => {
  it.each(cases)('should classify %s', (_label, facts, expected) => {
    const error = classifyProviderError(facts);

    expect(error).toBeInstanceOf(expected.type);
    expect(error.code).toBe(expected.code);
    expect(error.isRetryable).toBe(expected.isRetryable);
    expect(error.provider).toBe(facts.provider);
    expect(error.status).toBe(facts.status);
    expect(error.retryAfterMs).toBe(facts.retryAfterMs);
    expect(error.cause).toBe(facts.cause);
    expect(error.message).toContain(facts.message);
    expect(error.message).toContain(facts.provider);
    expect(error.message).toContain(
      facts.status === undefined ? 'mid-stream' : `HTTP ${facts.status}`,
    );
    if (expected.advice !== undefined) expect(error.message).toContain(expected.advice);
    if (expected.quotaExceeded !== undefined) {
      expect(as(error, RateLimitError).quotaExceeded).toBe(expected.quotaExceeded);
    }
  });

  it('should keep the provider code on a ProviderError', () => {
    const error = classifyProviderError(cases[0]![1]);
    expect(as(error, ProviderError).providerCode).toBe('context_length_exceeded');

    const anthropicError = classifyProviderError(
      anthropic(529, { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }),
    );
    expect(as(anthropicError, ProviderError).providerCode).toBe('overloaded_error');
    expect(as(anthropicError, ProviderError).kind).toBe('overloaded');
  });

  it('should treat a quota message without a retry hint as a quota, whatever the code', () => {
    const error = classifyProviderError({
      provider: 'google',
      status: 429,
      type: 'RESOURCE_EXHAUSTED',
      message: 'You exceeded your current quota, please check your plan and billing details.',
    });
    expect(as(error, RateLimitError).quotaExceeded).toBe(true);
    expect(error.isRetryable).toBe(false);
  });

  it('should fall back to the type when the provider sent no message', () => {
    const error = classifyProviderError({ provider: 'anthropic', type: 'overloaded_error' });
    expect(error.code).toBe('RXLLM_PROVIDER_OVERLOADED');
    expect(error.message).toContain('overloaded_error');
  });

  it('should say "no message" when the provider sent nothing to go on', () => {
    const error = classifyProviderError({ provider: 'custom', status: 500 });
    expect(error.code).toBe('RXLLM_PROVIDER_SERVER_ERROR');
    expect(error.message).toBe(
      'custom answered HTTP 500: no message. This is usually transient; retry or fail over.',
    );
  });

  it('should make an unexpected 4xx a non-retryable provider error', () => {
    const error = classifyProviderError({ provider: 'openai', status: 418, message: 'teapot' });
    expect(error.code).toBe('RXLLM_PROVIDER_ERROR');
    expect(error.isRetryable).toBe(false);
  });
});
