import { RouterError, type RouterErrorOptions } from './router-error';

export interface IncompleteStreamErrorOptions extends RouterErrorOptions {
  /** The text that had been streamed before the stream broke off. */
  partialText?: string;
}

/**
 * A stream ended or broke off before the provider said it was finished: no finish reason, no
 * terminal event. The answer is truncated, so it is never passed off as a success.
 * `partialText` holds what had arrived, and `cause` the fault that cut it, if any.
 */
export class IncompleteStreamError extends RouterError {
  override readonly name = 'IncompleteStreamError';
  readonly partialText: string;

  constructor(message: string, options: IncompleteStreamErrorOptions = {}) {
    super('RXLLM_INCOMPLETE_STREAM', message, true, options);
    this.partialText = options.partialText ?? '';
  }
}
