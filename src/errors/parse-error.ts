import { RouterError, type RouterErrorOptions } from './router-error';

/** The longest excerpt of offending input that a {@link ParseError} quotes. */
export const PARSE_ERROR_EXCERPT_LENGTH = 200;

/** Quotes `text` for an error message, cut to a sane length. */
export function excerpt(text: string, max = PARSE_ERROR_EXCERPT_LENGTH): string {
  return JSON.stringify(text.length > max ? `${text.slice(0, max)}…` : text);
}

/**
 * The provider sent bytes we could not decode: malformed JSON in an event, invalid UTF-8, an
 * event larger than the buffer limit. Retryable: a corrupt stream is a transient provider fault.
 */
export class ParseError extends RouterError {
  override readonly name = 'ParseError';
  /** The offending input, truncated to {@link PARSE_ERROR_EXCERPT_LENGTH} characters. */
  readonly excerpt: string | undefined;

  constructor(message: string, options: RouterErrorOptions & { excerpt?: string } = {}) {
    super('RXLLM_PARSE', message, true, options);
    this.excerpt =
      options.excerpt === undefined
        ? undefined
        : options.excerpt.slice(0, PARSE_ERROR_EXCERPT_LENGTH);
  }
}
