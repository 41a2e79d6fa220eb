/** Brand shared by every error of this package, across copies of the package. */
const routerErrorBrand = Symbol.for('rx-llm-router.RouterError');

/** Every stable error code this package raises. */
export type RouterErrorCode =
  | 'RXLLM_NETWORK'
  | 'RXLLM_PARSE'
  | 'RXLLM_PROVIDER_OVERLOADED'
  | 'RXLLM_PROVIDER_SERVER_ERROR'
  | 'RXLLM_INVALID_REQUEST'
  | 'RXLLM_CONTEXT_LENGTH_EXCEEDED'
  | 'RXLLM_CONTENT_FILTERED'
  | 'RXLLM_AUTHENTICATION'
  | 'RXLLM_NOT_FOUND'
  | 'RXLLM_PROVIDER_ERROR'
  | 'RXLLM_RATE_LIMITED'
  | 'RXLLM_TIMEOUT'
  | 'RXLLM_CIRCUIT_OPEN'
  | 'RXLLM_INCOMPLETE_STREAM'
  | 'RXLLM_VALIDATION'
  | 'RXLLM_BUDGET_EXCEEDED'
  | 'RXLLM_ALL_PROVIDERS_FAILED'
  | 'RXLLM_UNKNOWN_MODEL'
  | 'RXLLM_CANCELLED'
  | 'RXLLM_ROUTER_CLOSED';

/** Fields common to every {@link RouterError}. */
export interface RouterErrorOptions {
  /** The provider the error came from, when one is involved. */
  provider?: string | undefined;
  /** The HTTP status the provider answered with, when there was one. */
  status?: number | undefined;
  /** How long the provider asked us to wait before retrying, in milliseconds. */
  retryAfterMs?: number | undefined;
  /** The underlying error. */
  cause?: unknown;
}

/**
 * The base class of every error raised by rx-llm-router. It carries a stable `code`, whether a
 * retry may help (`isRetryable`), and where known the provider, HTTP status and Retry-After.
 *
 * Use {@link isRouterError} rather than `instanceof` when several copies of the package may be
 * loaded: it checks a `Symbol.for` brand.
 */
export class RouterError extends Error {
  override readonly name: string = 'RouterError';
  readonly code: RouterErrorCode;
  readonly isRetryable: boolean;
  readonly provider: string | undefined;
  readonly status: number | undefined;
  readonly retryAfterMs: number | undefined;

  constructor(
    code: RouterErrorCode,
    message: string,
    isRetryable: boolean,
    options: RouterErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.isRetryable = isRetryable;
    this.provider = options.provider;
    this.status = options.status;
    this.retryAfterMs = options.retryAfterMs;
  }

  /** A plain-object view, safe to log or to send over the wire (no cause chain, no stack). */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      isRetryable: this.isRetryable,
      provider: this.provider,
      status: this.status,
      retryAfterMs: this.retryAfterMs,
    };
  }
}

Object.defineProperty(RouterError.prototype, routerErrorBrand, { value: true });

/** True when `value` is a {@link RouterError} from any copy of this package. */
export function isRouterError(value: unknown): value is RouterError {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Record<symbol, unknown>)[routerErrorBrand] === true
  );
}

/** True when `value` is a {@link RouterError} with the given code. */
export function hasErrorCode<C extends RouterErrorCode>(
  value: unknown,
  code: C,
): value is RouterError & { code: C } {
  return isRouterError(value) && value.code === code;
}
