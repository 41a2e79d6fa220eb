import { RouterError, type RouterErrorCode, type RouterErrorOptions } from './router-error';

/** What kind of refusal a provider answered with. */
export type ProviderErrorKind =
  | 'overloaded'
  | 'server_error'
  | 'invalid_request'
  | 'context_length_exceeded'
  | 'content_filtered'
  | 'authentication'
  | 'not_found'
  | 'other';

const codes: Record<ProviderErrorKind, RouterErrorCode> = {
  overloaded: 'RXLLM_PROVIDER_OVERLOADED',
  server_error: 'RXLLM_PROVIDER_SERVER_ERROR',
  invalid_request: 'RXLLM_INVALID_REQUEST',
  context_length_exceeded: 'RXLLM_CONTEXT_LENGTH_EXCEEDED',
  content_filtered: 'RXLLM_CONTENT_FILTERED',
  authentication: 'RXLLM_AUTHENTICATION',
  not_found: 'RXLLM_NOT_FOUND',
  other: 'RXLLM_PROVIDER_ERROR',
};

const retryableKinds: ReadonlySet<ProviderErrorKind> = new Set(['overloaded', 'server_error']);

export interface ProviderErrorOptions extends RouterErrorOptions {
  /** Overrides the default retryability of the kind (e.g. a retryable 408 marked `other`). */
  isRetryable?: boolean;
  /** The provider's own error type or code (`overloaded_error`, `context_length_exceeded`, ...). */
  providerCode?: string | undefined;
}

/**
 * The provider answered with an error: an HTTP error status, or an error event inside a stream.
 * `kind` says which; overloaded and server errors are retryable, the rest are not.
 */
export class ProviderError extends RouterError {
  override readonly name = 'ProviderError';
  readonly kind: ProviderErrorKind;
  /** The provider's own error type or code, when it sent one. */
  readonly providerCode: string | undefined;

  constructor(kind: ProviderErrorKind, message: string, options: ProviderErrorOptions = {}) {
    super(codes[kind], message, options.isRetryable ?? retryableKinds.has(kind), options);
    this.kind = kind;
    this.providerCode = options.providerCode;
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), kind: this.kind, providerCode: this.providerCode };
  }
}
