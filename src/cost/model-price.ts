import type { TokenClass } from './token-counts';

/** A price for each {@link TokenClass}, in US dollars per million tokens. */
export type TokenPrices = Record<TokenClass, number>;

/**
 * Higher prices for large prompts (Gemini 2.5 Pro above 200k tokens, for instance). A tier
 * applies to the **whole request**, output included, when its input (uncached, cached and
 * cache-write tokens together) is strictly above `aboveInputTokens`. Classes the tier does not
 * name keep their base price.
 */
export interface PriceTier {
  /** The tier applies when the request's total input tokens are strictly above this. */
  aboveInputTokens: number;
  /** The prices of this tier, USD per million tokens. */
  prices: Partial<TokenPrices>;
}

/** How one model is priced: a base price per token class, and optional prompt-size tiers. */
export interface ModelPrice {
  /** Base prices, USD per million tokens. */
  prices: TokenPrices;
  /** Prompt-size tiers, in ascending `aboveInputTokens` order. */
  tiers: readonly PriceTier[];
}

/**
 * A price set by the user for one model, in USD per million tokens. On a model the catalog
 * knows, the classes given replace the catalog's (flat: a replaced class has no tiers any more)
 * and `tiers`, when given, replaces the catalog's tiers. On a model the catalog does not know,
 * `input` and `output` are required; `cachedInput` and `cacheWrite` default to `input`, and
 * `reasoning` to `output`.
 */
export type PriceOverride = Partial<TokenPrices> & { tiers?: readonly PriceTier[] };

/** What a {@link ModelPrice} charges for some tokens, in US dollars, per class and in total. */
export interface CostBreakdown extends TokenPrices {
  /** The sum of the classes. */
  total: number;
}

/** The prices that apply to a request with `inputTokens` tokens of input. */
export function pricesForInput(price: ModelPrice, inputTokens: number): TokenPrices {
  let prices = price.prices;
  for (const tier of price.tiers) {
    if (inputTokens > tier.aboveInputTokens) prices = { ...prices, ...tier.prices };
  }
  return prices;
}
