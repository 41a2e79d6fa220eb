import { RouterError, type RouterErrorOptions } from './router-error';

/**
 * The circuit breaker for this provider is open: recent calls failed, so this one was not sent.
 * `retryAfterMs` is the time until the breaker lets a trial call through, where known.
 */
export class CircuitOpenError extends RouterError {
  override readonly name = 'CircuitOpenError';

  constructor(message: string, options: RouterErrorOptions = {}) {
    super('RXLLM_CIRCUIT_OPEN', message, true, options);
  }
}
