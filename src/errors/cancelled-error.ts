import { RouterError, type RouterErrorOptions } from './router-error';

/**
 * The stream was stopped on purpose: `sessions.cancel(id)`, an aborted signal, or
 * `router.close()` (code `RXLLM_ROUTER_CLOSED`). Never retried, never failed over, never counted
 * as a provider failure.
 */
export class CancelledError extends RouterError {
  override readonly name = 'CancelledError';

  constructor(
    message: string,
    options: RouterErrorOptions & { code?: 'RXLLM_CANCELLED' | 'RXLLM_ROUTER_CLOSED' } = {},
  ) {
    super(options.code ?? 'RXLLM_CANCELLED', message, false, { status: 499, ...options });
  }
}
