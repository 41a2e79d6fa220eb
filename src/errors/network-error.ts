import { RouterError, type RouterErrorOptions } from './router-error';

/**
 * The connection failed before a response arrived: refused, reset, DNS failure, TLS failure.
 * Always retryable: the next attempt may well reach the provider.
 */
export class NetworkError extends RouterError {
  override readonly name = 'NetworkError';

  constructor(message: string, options: RouterErrorOptions = {}) {
    super('RXLLM_NETWORK', message, true, options);
  }
}
