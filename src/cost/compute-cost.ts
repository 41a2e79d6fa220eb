import { pricesForInput, type CostBreakdown, type ModelPrice } from './model-price';
import { inputTokensOf, type TokenCounts } from './token-counts';

/**
 * What `tokens` cost at `price`, in US dollars: each class at its own rate, with the prompt-size
 * tier chosen by the total input (`input + cachedInput + cacheWrite`).
 *
 * ```ts
 * const cost = computeCost(
 *   tokenCountsFromUsage(chunk.usage),
 *   { prices: { input: 2.5, cachedInput: 1.25, cacheWrite: 2.5, output: 10, reasoning: 10 }, tiers: [] },
 * );
 * console.log(cost.total, cost.cachedInput);
 * ```
 */
export function computeCost(tokens: TokenCounts, price: ModelPrice): CostBreakdown {
  const prices = pricesForInput(price, inputTokensOf(tokens));
  const input = (tokens.input * prices.input) / 1e6;
  const cachedInput = (tokens.cachedInput * prices.cachedInput) / 1e6;
  const cacheWrite = (tokens.cacheWrite * prices.cacheWrite) / 1e6;
  const output = (tokens.output * prices.output) / 1e6;
  const reasoning = (tokens.reasoning * prices.reasoning) / 1e6;
  return {
    input,
    cachedInput,
    cacheWrite,
    output,
    reasoning,
    total: input + cachedInput + cacheWrite + output + reasoning,
  };
}
