import { RouterError, type RouterErrorOptions } from './router-error';

export interface RateLimitErrorOptions extends RouterErrorOptions {
  /**
   * True when the limit is a quota or spend cap (`insufficient_quota`) rather than a rate:
   * waiting will not help, so the error is not retryable.
   */
  quotaExceeded?: boolean;
}

/**
 * The provider rate-limited the request (HTTP 429). `retryAfterMs` holds the provider's hint
 * when it gave one. A quota or spend-cap 429 is not retryable.
 */
export class RateLimitError extends RouterError {
  override readonly name = 'RateLimitError';
  readonly quotaExceeded: boolean;

  constructor(message: string, options: RateLimitErrorOptions = {}) {
    super('RXLLM_RATE_LIMITED', message, !(options.quotaExceeded ?? false), options);
    this.quotaExceeded = options.quotaExceeded ?? false;
  }
}
