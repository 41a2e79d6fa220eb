import { map, type MonoTypeOperatorFunction } from 'rxjs';
import type { StreamingChunk } from '../chunk/streaming-chunk';
import type { CostSnapshot } from '../cost/cost-snapshot';
import { defaultPricing, type Pricing } from '../cost/pricing';
import { BudgetExceededError } from '../errors/budget-exceeded-error';
import { ValidationError } from '../errors/validation-error';
import { trackCost, type TrackCostConfig } from './track-cost';

/** Configuration of {@link budget}. */
export interface BudgetConfig extends TrackCostConfig {
  /** The prices. Default `defaultPricing` (the bundled catalog, no overrides). */
  pricing?: Pricing | undefined;
  /**
   * What to do when the model has no known price, so the budget cannot be checked:
   * `'error'` (default) fails the stream at its first chunk with a {@link ValidationError}
   * naming the model and how to price it; `'allow'` lets the stream through unchecked.
   */
  unpriced?: 'error' | 'allow' | undefined;
  /** Called with the running cost at every chunk, before the budget is checked. */
  onCost?: ((cost: CostSnapshot) => void) | undefined;
}

/**
 * Stops a chunk stream with a {@link BudgetExceededError} as soon as its running cost goes
 * over `maxUsd`, unsubscribing from the source (which aborts the provider request).
 *
 * <span class="informal">`trackCost`, then a `map` that throws once the cost is too high.</span>
 *
 * 1. Mirrors the source while the running cost (see `trackCost`: estimated while tokens
 *    stream, exact once the usage arrives) is at most `maxUsd`. Reaching the limit exactly is
 *    allowed; going over it is not.
 * 2. The chunk whose tokens take the cost over the limit is **not emitted**: the stream errors
 *    in its place, with `new BudgetExceededError(maxUsd, spentUsd, { provider })`. `spentUsd`
 *    includes that chunk (the provider has generated it, so it is billed). Every chunk the
 *    consumer received was within budget, even when one chunk carries many tokens and crosses
 *    the limit in its middle.
 * 3. On the error the source is unsubscribed at once, so the request is aborted and no more
 *    tokens are generated (or billed).
 * 4. The true-up counts too: if the exact usage at the end puts the cost over the limit (the
 *    estimate was low, or the prompt was bigger than `promptTokens`), the usage chunk is not
 *    emitted and the stream errors instead of completing; the text already delivered was all
 *    of the answer.
 * 5. A model with no known price cannot be budgeted: by default the first chunk fails the
 *    stream with a {@link ValidationError} (see {@link BudgetConfig.unpriced}).
 * 6. A stream that stays within budget completes as the source does. Source errors pass
 *    through.
 * 7. Cold: each subscription counts from zero.
 *
 * Pass `promptTokens` (see `estimatePromptTokens`) to count the input from the first chunk:
 * otherwise the input is only counted when the usage arrives, at the end. With failover, give
 * each attempt the budget left (`maxUsd − spent so far`).
 *
 * ```
 * maxUsd: 3; pricing: $1 per token; a, b, c: 1 token each; d: 2 tokens
 *
 * source:    -a-b-c-d-e-|
 * budget:    -a-b-c-#         BudgetExceededError(3, 5) at d: d is not emitted
 * upstream:  ^------!         unsubscribed (request aborted) at the same frame
 * ```
 *
 * ## Example
 *
 * ```ts
 * import { budget, estimatePromptTokens, openai, BudgetExceededError } from 'rx-llm-router';
 *
 * const gpt = openai({ apiKey: process.env.OPENAI_API_KEY! });
 * const request = { model: 'gpt-4o', messages: [{ role: 'user' as const, content: 'Write a saga.' }] };
 *
 * gpt
 *   .stream(request)
 *   .pipe(budget(0.002, { promptTokens: estimatePromptTokens(request) }))
 *   .subscribe({
 *     next: (chunk) => process.stdout.write(chunk.choices[0]?.delta.content ?? ''),
 *     error: (e: unknown) => {
 *       if (e instanceof BudgetExceededError) console.error(`\nstopped at $${e.spentUsd}`);
 *     },
 *   });
 * ```
 *
 * @see {@link trackCost}
 * @param maxUsd The most the stream may cost, in US dollars (finite, ≥ 0).
 * @param config The prices, the token estimator, the prompt size and what to do when unpriced.
 * @return A function that returns an Observable mirroring the source until the budget is
 * exceeded, then erroring with a {@link BudgetExceededError}.
 */
export function budget<T extends StreamingChunk>(
  maxUsd: number,
  config: BudgetConfig = {},
): MonoTypeOperatorFunction<T> {
  if (typeof maxUsd !== 'number' || !Number.isFinite(maxUsd) || maxUsd < 0) {
    throw new ValidationError(
      [
        {
          path: 'maxUsd',
          message: `expected a finite number of US dollars ≥ 0, got ${String(maxUsd)}`,
        },
      ],
      { subject: 'budget() arguments' },
    );
  }
  const { pricing = defaultPricing, unpriced = 'error', onCost, ...trackConfig } = config;
  return (source) =>
    source.pipe(
      trackCost<T>(pricing, trackConfig),
      map(({ chunk, cost }) => {
        onCost?.(cost);
        if (cost.totalUsd === null) {
          if (unpriced === 'allow') return chunk;
          throw new ValidationError(
            [
              {
                path: 'model',
                message: `${cost.unpricedReason ?? `no price for ${cost.provider}/${cost.model}`} Or pass unpriced: 'allow' to budget() to stream it unchecked.`,
              },
            ],
            { subject: 'budget', provider: cost.provider },
          );
        }
        if (cost.totalUsd > maxUsd) {
          throw new BudgetExceededError(maxUsd, cost.totalUsd, { provider: cost.provider });
        }
        return chunk;
      }),
    );
}
