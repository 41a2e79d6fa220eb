import { AllProvidersFailedError } from '../errors/all-providers-failed-error';
import { isRouterError, type RouterError } from '../errors/router-error';

/** OpenAI's error object, as the SDKs read it, plus the serving provider when known. */
export interface OpenAIErrorObject {
  message: string;
  type: string;
  param: string | null;
  code: string | null;
  /** The provider the error came from, when one is involved. */
  provider?: string;
  /** For `RXLLM_ALL_PROVIDERS_FAILED`: what happened to each candidate. */
  attempts?: unknown;
}

/** An error mapped for HTTP: the status, the body, and the Retry-After in ms when known. */
export interface MappedError {
  status: number;
  error: OpenAIErrorObject;
  retryAfterMs: number | undefined;
}

interface Mapping {
  status: number;
  type: string;
  code: string | null;
  param?: string | null;
}

/** How each error code maps to an HTTP status and OpenAI's `type` and `code`. */
const byCode: Record<string, Mapping> = {
  RXLLM_VALIDATION: { status: 400, type: 'invalid_request_error', code: 'invalid_value' },
  RXLLM_INVALID_REQUEST: { status: 400, type: 'invalid_request_error', code: 'invalid_request' },
  RXLLM_CONTEXT_LENGTH_EXCEEDED: {
    status: 400,
    type: 'invalid_request_error',
    code: 'context_length_exceeded',
    param: 'messages',
  },
  RXLLM_CONTENT_FILTERED: { status: 400, type: 'invalid_request_error', code: 'content_filter' },
  RXLLM_AUTHENTICATION: { status: 401, type: 'authentication_error', code: 'invalid_api_key' },
  RXLLM_NOT_FOUND: { status: 404, type: 'not_found_error', code: 'not_found' },
  RXLLM_UNKNOWN_MODEL: {
    status: 404,
    type: 'invalid_request_error',
    code: 'model_not_found',
    param: 'model',
  },
  RXLLM_RATE_LIMITED: { status: 429, type: 'rate_limit_error', code: 'rate_limit_exceeded' },
  RXLLM_BUDGET_EXCEEDED: { status: 402, type: 'insufficient_quota', code: 'budget_exceeded' },
  RXLLM_TIMEOUT: { status: 504, type: 'timeout_error', code: 'timeout' },
  RXLLM_CIRCUIT_OPEN: { status: 503, type: 'server_error', code: 'circuit_open' },
  RXLLM_PROVIDER_OVERLOADED: { status: 503, type: 'server_error', code: 'overloaded' },
  RXLLM_PROVIDER_SERVER_ERROR: { status: 502, type: 'server_error', code: 'upstream_error' },
  RXLLM_PROVIDER_ERROR: { status: 502, type: 'server_error', code: 'upstream_error' },
  RXLLM_NETWORK: { status: 502, type: 'server_error', code: 'upstream_unreachable' },
  RXLLM_PARSE: { status: 502, type: 'server_error', code: 'upstream_malformed' },
  RXLLM_INCOMPLETE_STREAM: { status: 502, type: 'server_error', code: 'incomplete_stream' },
  RXLLM_CANCELLED: { status: 499, type: 'cancelled', code: 'cancelled' },
  RXLLM_ROUTER_CLOSED: { status: 503, type: 'server_error', code: 'shutting_down' },
};

/** OpenAI's `type` for an HTTP status, for statuses no error code decides. */
export function typeForStatus(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 429) return 'rate_limit_error';
  if (status === 402) return 'insufficient_quota';
  if (status < 500) return 'invalid_request_error';
  return 'server_error';
}

/** A 4xx/5xx status, or `fallback` for anything else. */
function httpStatus(status: number | undefined, fallback: number): number {
  return status !== undefined && Number.isInteger(status) && status >= 400 && status <= 599
    ? status
    : fallback;
}

/** The field an error names: its own `param`, or its cause's (a refusal wraps the validation). */
function ownParam(error: unknown): string | undefined {
  for (let e = error, depth = 0; depth < 2 && typeof e === 'object' && e !== null; depth++) {
    const own = (e as { param?: unknown }).param;
    if (typeof own === 'string') return own;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

function param(error: RouterError, mapping: Mapping): string | null {
  return ownParam(error) ?? mapping.param ?? null;
}

/** The mapping of a {@link RouterError}, before `AllProvidersFailedError` is unwrapped. */
function mapRouterError(error: RouterError): MappedError {
  if (error instanceof AllProvidersFailedError) return mapAllFailed(error);
  const mapping = byCode[error.code] ?? { status: 502, type: 'server_error', code: null };
  let { status, type, code } = mapping;
  if (error.code === 'RXLLM_RATE_LIMITED' && (error as { quotaExceeded?: unknown }).quotaExceeded) {
    type = 'insufficient_quota';
    code = 'insufficient_quota';
  }
  // A provider error of kind `other` keeps a client-error status the provider sent (408, 409,
  // 413, 422...): the request, not the gateway, is at fault.
  if (error.code === 'RXLLM_PROVIDER_ERROR' && error.status !== undefined) {
    if (error.status >= 400 && error.status < 500 && error.status !== 429) {
      status = error.status;
      type = typeForStatus(status);
      code = 'upstream_rejected';
    }
  }
  const body: OpenAIErrorObject = {
    message: error.message,
    type,
    param: param(error, mapping),
    code,
  };
  if (error.provider !== undefined) body.provider = error.provider;
  return { status, error: body, retryAfterMs: error.retryAfterMs };
}

/**
 * `AllProvidersFailedError`: its own `status` (the status every call shared, else 503). When
 * every candidate failed with the same code (all context-length, all rate-limited), `type` and
 * `code` are that code's, so a client can tell a too-long prompt from an outage.
 */
function mapAllFailed(error: AllProvidersFailedError): MappedError {
  const status = httpStatus(error.status, 503);
  const codes = new Set(
    error.attempts.map((a) => (isRouterError(a.error) ? a.error.code : undefined)),
  );
  const [only] = codes;
  const inner = codes.size === 1 && only !== undefined ? byCode[only] : undefined;
  // The field every candidate objected to (`n`, which no candidate could take), if they agree.
  const params = new Set(error.attempts.map((a) => ownParam(a.error)));
  const [shared] = params;
  const body: OpenAIErrorObject = {
    message: error.message,
    type: inner !== undefined && inner.status === status ? inner.type : typeForStatus(status),
    param: params.size === 1 && shared !== undefined ? shared : (inner?.param ?? null),
    code: inner?.code ?? 'all_providers_failed',
    attempts: error.toJSON().attempts,
  };
  return { status, error: body, retryAfterMs: error.retryAfterMs };
}

/**
 * Maps any error a routed request can fail with to an HTTP status and an OpenAI error body
 * `{ message, type, param, code }`, with the Retry-After where the error knows it.
 *
 * 1. Each {@link RouterError} code has a fixed status and type (see docs/gateway.md, "Errors").
 * 2. `AllProvidersFailedError` answers with its own `status`; a shared cause decides the type.
 * 3. Anything else is a 500 whose message does not leak internals.
 *
 * ```ts
 * const { status, error, retryAfterMs } = toOpenAIError(new UnknownModelError('gpt-9', ['fast']));
 * // 404, { message: 'Unknown model "gpt-9"...', type: 'invalid_request_error', param: 'model', code: 'model_not_found' }
 * ```
 *
 * @param error What the request failed with.
 * @return The status, body and Retry-After.
 */
export function toOpenAIError(error: unknown): MappedError {
  if (isRouterError(error)) return mapRouterError(error);
  return {
    status: 500,
    error: {
      message: 'The gateway failed unexpectedly. Retry; if it persists, check the gateway logs.',
      type: 'server_error',
      param: null,
      code: 'internal_error',
    },
    retryAfterMs: undefined,
  };
}

/** A gateway-made error body (bad JSON, auth, unknown path...). */
export function gatewayError(
  status: number,
  message: string,
  code: string | null,
  param: string | null = null,
): MappedError {
  return {
    status,
    error: { message, type: typeForStatus(status), param, code },
    retryAfterMs: undefined,
  };
}
