import { RouterError } from './router-error';

/** No route matches the requested model. `available` lists the routes that exist. */
export class UnknownModelError extends RouterError {
  override readonly name = 'UnknownModelError';
  readonly model: string;
  readonly available: readonly string[];

  constructor(model: string, available: readonly string[]) {
    super(
      'RXLLM_UNKNOWN_MODEL',
      `Unknown model ${JSON.stringify(model)}: no route matches it. Available: ${available.join(', ') || 'none'}.`,
      false,
      { status: 404 },
    );
    this.model = model;
    this.available = available;
  }

  /** OpenAI's `param` error field. */
  get param(): string {
    return 'model';
  }
}
