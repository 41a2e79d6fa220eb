import { ValidationError } from '../errors/validation-error';
import { genaiPricesCatalog } from './genai-prices-catalog';
import type { ModelPrice, PriceOverride, PriceTier, TokenPrices } from './model-price';
import type { PriceCatalog } from './price-catalog';
import { TOKEN_CLASSES } from './token-counts';

/** Where a {@link ResolvedPrice} came from. */
export type PriceSource = 'catalog' | 'override' | 'catalog+override';

/** The price a {@link Pricing} settled on for one provider and model. */
export interface ResolvedPrice extends ModelPrice {
  source: PriceSource;
  /** The catalog's provider id, when the catalog priced the model. */
  catalogProvider?: string;
  /** The catalog's model id, when the catalog priced the model. */
  catalogModel?: string;
}

/** A price, or why there is none. */
export type PriceResolution =
  { priced: true; price: ResolvedPrice } | { priced: false; reason: string };

/**
 * Prices of models, by the provider name and model id stamped on chunks. Build one with
 * {@link createPricing}; share it (it caches its lookups).
 */
export interface Pricing {
  resolve(provider: string, model: string): PriceResolution;
}

/** Options of {@link createPricing}. */
export interface PricingOptions {
  /**
   * The price list consulted first. Default: {@link genaiPricesCatalog} with its defaults.
   * `null`: no catalog, only {@link models}.
   */
  catalog?: PriceCatalog | null;
  /**
   * Per-model prices, USD per million tokens, that win over the catalog. Keys are
   * `"<provider>/<model>"` (checked first) or `"<model>"` (any provider), as stamped on chunks.
   */
  models?: Readonly<Record<string, PriceOverride>>;
  /** How many provider/model lookups are cached. Default 1000. */
  cacheSize?: number;
}

/**
 * Builds a {@link Pricing}: the catalog's prices (by default `@pydantic/genai-prices`, bundled
 * offline) with your overrides on top, per model and per token class.
 *
 * 1. An override keyed `"<provider>/<model>"` wins over one keyed `"<model>"`.
 * 2. On a model the catalog knows, an override replaces the classes it names (see
 *    {@link PriceOverride}); the result's `source` is `catalog+override`.
 * 3. On a model the catalog does not know, an override with `input` and `output` prices it
 *    (`source: 'override'`); without them the model stays unpriced.
 * 4. An unknown model is **unpriced** (`priced: false` with the reason), never priced at 0.
 * 5. Answers are cached per provider and model (at most `cacheSize`, then the cache restarts).
 *
 * Overrides are checked here: a price that is not a finite number ≥ 0 throws a
 * {@link ValidationError}.
 *
 * ```ts
 * const pricing = createPricing({
 *   models: {
 *     'gpt-4o': { output: 8 }, // a negotiated output price; the rest from the catalog
 *     'local-vllm/llama-3.1-8b': { input: 0, output: 0 }, // self-hosted: free
 *   },
 * });
 * pricing.resolve('openai', 'gpt-4o'); // { priced: true, price: { prices: { input: 2.5, ..., output: 8 }, ... } }
 * ```
 */
export function createPricing(options: PricingOptions = {}): Pricing {
  const { catalog = genaiPricesCatalog(), models = {}, cacheSize = 1000 } = options;
  checkOverrides(models);
  const cache = new Map<string, PriceResolution>();

  const resolveUncached = (provider: string, model: string): PriceResolution => {
    const override = models[`${provider}/${model}`] ?? models[model];
    const lookup = catalog?.lookup(provider, model);
    if (lookup?.found === true) {
      const { catalogProvider, catalogModel, prices, tiers } = lookup.price;
      const price =
        override === undefined
          ? { prices, tiers, source: 'catalog' as const }
          : { ...applyOverride({ prices, tiers }, override), source: 'catalog+override' as const };
      return { priced: true, price: { ...price, catalogProvider, catalogModel } };
    }
    const why = lookup?.reason ?? 'no catalog';
    if (override?.input === undefined || override.output === undefined) {
      return {
        priced: false,
        reason:
          override === undefined
            ? `No price for ${provider}/${model}: ${why}. Add one with createPricing({ models: { '${model}': { input, output } } }) (USD per million tokens).`
            : `No price for ${provider}/${model}: ${why}, and its override lacks input or output.`,
      };
    }
    const { input, output } = override;
    const base: ModelPrice = {
      prices: { input, cachedInput: input, cacheWrite: input, output, reasoning: output },
      tiers: [],
    };
    return { priced: true, price: { ...applyOverride(base, override), source: 'override' } };
  };

  return {
    resolve(provider, model) {
      const key = `${provider}\u0000${model}`;
      let resolution = cache.get(key);
      if (resolution === undefined) {
        resolution = resolveUncached(provider, model);
        if (cache.size >= cacheSize) cache.clear();
        cache.set(key, resolution);
      }
      return resolution;
    },
  };
}

/** The default {@link Pricing}: the bundled catalog, no overrides. */
export const defaultPricing: Pricing = createPricing();

function applyOverride(price: ModelPrice, override: PriceOverride): ModelPrice {
  const prices: TokenPrices = { ...price.prices };
  const replaced = new Set<string>();
  for (const tokenClass of TOKEN_CLASSES) {
    const value = override[tokenClass];
    if (value !== undefined) {
      prices[tokenClass] = value;
      replaced.add(tokenClass);
    }
  }
  const tiers: PriceTier[] =
    override.tiers !== undefined
      ? [...override.tiers].sort((a, b) => a.aboveInputTokens - b.aboveInputTokens)
      : price.tiers
          .map((tier) => ({
            aboveInputTokens: tier.aboveInputTokens,
            prices: Object.fromEntries(
              Object.entries(tier.prices).filter(([tokenClass]) => !replaced.has(tokenClass)),
            ),
          }))
          .filter((tier) => Object.keys(tier.prices).length > 0);
  return { prices, tiers };
}

function checkOverrides(models: Readonly<Record<string, PriceOverride>>): void {
  const issues: { path: string; message: string }[] = [];
  const checkPrice = (path: string, value: unknown): void => {
    if (
      value !== undefined &&
      !(typeof value === 'number' && Number.isFinite(value) && value >= 0)
    ) {
      issues.push({
        path,
        message: `expected a finite number ≥ 0 (USD per million tokens), got ${typeof value === 'number' ? String(value) : JSON.stringify(value)}`,
      });
    }
  };
  for (const [key, override] of Object.entries(models)) {
    const at = `models[${JSON.stringify(key)}]`;
    for (const field of Object.keys(override)) {
      if (field !== 'tiers' && !(TOKEN_CLASSES as readonly string[]).includes(field)) {
        issues.push({
          path: `${at}.${field}`,
          message: `unknown token class; expected one of ${TOKEN_CLASSES.join(', ')} or tiers`,
        });
      }
    }
    for (const tokenClass of TOKEN_CLASSES) checkPrice(`${at}.${tokenClass}`, override[tokenClass]);
    override.tiers?.forEach((tier, i) => {
      checkPrice(`${at}.tiers[${i}].aboveInputTokens`, tier.aboveInputTokens);
      for (const tokenClass of TOKEN_CLASSES) {
        checkPrice(`${at}.tiers[${i}].prices.${tokenClass}`, tier.prices[tokenClass]);
      }
    });
  }
  if (issues.length > 0) throw new ValidationError(issues, { subject: 'createPricing() options' });
}
