// Pricing and token estimates: explicit named exports only. Browser-safe. The tokenizer-backed
// estimator (gpt-token-estimator.ts) is deliberately not re-exported here: it weighs 1.1 MB gzipped.

export { computeCost } from './compute-cost';
export type { CostSnapshot } from './cost-snapshot';
export { estimatePromptTokens } from './estimate-prompt-tokens';
export { genaiPricesCatalog } from './genai-prices-catalog';
export type { GenaiPricesCatalogOptions } from './genai-prices-catalog';
export { pricesForInput } from './model-price';
export type {
  CostBreakdown,
  ModelPrice,
  PriceOverride,
  PriceTier,
  TokenPrices,
} from './model-price';
export type { CatalogLookup, CatalogPrice, PriceCatalog } from './price-catalog';
export { createPricing, defaultPricing } from './pricing';
export type {
  PriceResolution,
  PriceSource,
  Pricing,
  PricingOptions,
  ResolvedPrice,
} from './pricing';
export { NO_TOKENS, TOKEN_CLASSES, inputTokensOf, tokenCountsFromUsage } from './token-counts';
export type { TokenClass, TokenCounts } from './token-counts';
export { CHARS_PER_TOKEN, estimateTokensByChars } from './token-estimator';
export type { TokenEstimator } from './token-estimator';
