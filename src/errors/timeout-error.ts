import { RouterError, type RouterErrorOptions } from './router-error';

/** Which clock ran out. */
export type TimeoutKind = 'first-token' | 'idle' | 'total';

/**
 * A stream took too long: no first token (`first-token`), a silence between chunks (`idle`), or
 * the whole stream (`total`). Retryable in the sense that another candidate may answer; the
 * operators never retry a timeout on the same candidate.
 */
export class TimeoutError extends RouterError {
  override readonly name = 'TimeoutError';
  readonly kind: TimeoutKind;
  /** The limit that was exceeded, in milliseconds. */
  readonly timeoutMs: number;

  constructor(kind: TimeoutKind, timeoutMs: number, options: RouterErrorOptions = {}) {
    super(
      'RXLLM_TIMEOUT',
      `${describe(kind)} timeout: nothing within ${timeoutMs} ms${
        options.provider === undefined ? '' : ` from ${options.provider}`
      }. Raise the limit or fail over to another provider.`,
      true,
      options,
    );
    this.kind = kind;
    this.timeoutMs = timeoutMs;
  }
}

function describe(kind: TimeoutKind): string {
  return kind === 'first-token' ? 'First-token' : kind === 'idle' ? 'Idle' : 'Total';
}
