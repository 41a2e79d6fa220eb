import { RouterError, type RouterErrorOptions } from './router-error';

/** One problem found in the input: where, and what was expected. */
export interface ValidationIssue {
  /** The path of the offending field, e.g. `messages[0].role`. */
  path: string;
  message: string;
}

/**
 * The input (a request, a config) is invalid. The message names each offending field and what
 * was expected. Never retryable: the same input fails the same way everywhere.
 */
export class ValidationError extends RouterError {
  override readonly name = 'ValidationError';
  readonly issues: readonly ValidationIssue[];

  constructor(
    issues: readonly ValidationIssue[],
    options: RouterErrorOptions & { subject?: string } = {},
  ) {
    const subject = options.subject ?? 'request';
    super(
      'RXLLM_VALIDATION',
      `Invalid ${subject}: ${issues.map((i) => (i.path === '' ? i.message : `${i.path}: ${i.message}`)).join('; ')}`,
      false,
      options,
    );
    this.issues = issues;
  }

  /** The first offending field's path, handy for OpenAI's `param` error field. */
  get param(): string | undefined {
    return this.issues[0]?.path;
  }
}
