import { RouterError, type RouterErrorOptions } from './router-error';

/** The running cost of a stream went past its budget, so the stream was stopped. */
export class BudgetExceededError extends RouterError {
  override readonly name = 'BudgetExceededError';
  readonly limitUsd: number;
  readonly spentUsd: number;

  constructor(limitUsd: number, spentUsd: number, options: RouterErrorOptions = {}) {
    super(
      'RXLLM_BUDGET_EXCEEDED',
      `Budget exceeded: spent $${spentUsd.toFixed(6)} of a $${limitUsd.toFixed(6)} limit. Raise the budget or shorten the request.`,
      false,
      options,
    );
    this.limitUsd = limitUsd;
    this.spentUsd = spentUsd;
  }
}
