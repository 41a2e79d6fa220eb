import {
  calcPrice,
  findProvider,
  type ModelPrice as GenaiModelPrice,
} from '@pydantic/genai-prices';
import type { PriceTier, TokenPrices } from './model-price';
import type { CatalogLookup, PriceCatalog } from './price-catalog';
import type { TokenClass } from './token-counts';

/** Options of {@link genaiPricesCatalog}. */
export interface GenaiPricesCatalogOptions {
  /**
   * The catalog's provider id for a provider name stamped on chunks, when they differ: for
   * example `{ 'openai-eu': 'openai', 'corp-gateway': 'anthropic' }`. Names not listed are used
   * as they are (`openai`, `anthropic`, `google`, `openrouter`, `groq`, `deepseek`, ... are the
   * catalog's own ids).
   */
  providerIds?: Readonly<Record<string, string>>;
  /**
   * When a provider name is not a catalog provider (a self-hosted `local-vllm`), match the model
   * id against every provider of the catalog instead of reporting no price. Default `false`: a
   * model served by an unknown provider is unpriced rather than priced at some other provider's
   * rate.
   */
  matchAnyProvider?: boolean;
  /** The date whose prices apply (the catalog keeps price history). Default: the lookup time. */
  timestamp?: Date;
}

/** A catalog price: a number, or a base price with prompt-size tiers. */
type CatalogValue = number | { base: number; tiers: readonly { start: number; price: number }[] };

interface Tiered {
  base: number;
  tiers: readonly { start: number; price: number }[];
}

const NAME = '@pydantic/genai-prices';

/**
 * The price catalog of `@pydantic/genai-prices`: a maintained, versioned price list of some 40
 * providers, bundled in the package (no network access, ever), that runs in browsers and Node.
 *
 * 1. The provider is looked up by its catalog id (see
 *    {@link GenaiPricesCatalogOptions.providerIds}); the model id is matched by the catalog's
 *    own rules, so dated and aliased ids (`claude-sonnet-4-5-20250929`, `gpt-4o-2024-08-06`)
 *    find their model.
 * 2. The catalog's per-million-token prices map onto the token classes: `input_mtok` → input,
 *    `cache_read_mtok` → cachedInput, `cache_write_mtok` → cacheWrite (Anthropic's 5-minute
 *    write; one-hour writes are not distinguished in {@link Usage}), `output_mtok` → output,
 *    `output_reasoning_mtok` → reasoning.
 * 3. A class the catalog does not price costs what its parent costs, as in the catalog's own
 *    calculator: cache reads and writes cost `input`, reasoning costs `output` (OpenAI and
 *    Gemini bill reasoning as output).
 * 4. Prompt-size tiers (Gemini 2.5 Pro above 200k input tokens) become {@link PriceTier}s.
 * 5. A model with no per-token input or output price (image or audio models) is not found.
 *
 * Cost: the package adds about 480 KiB minified (80 KiB gzipped) to a browser bundle and about
 * 35 ms to a Node start; a lookup takes about 0.5 ms, which is why {@link createPricing} caches
 * them per model (pricing a chunk is then plain arithmetic).
 *
 * ```ts
 * const pricing = createPricing({ catalog: genaiPricesCatalog({ providerIds: { azure: 'azure' } }) });
 * ```
 */
export function genaiPricesCatalog(options: GenaiPricesCatalogOptions = {}): PriceCatalog {
  const { providerIds = {}, matchAnyProvider = false, timestamp } = options;
  return {
    name: NAME,
    lookup(provider: string, model: string): CatalogLookup {
      const providerId = providerIds[provider] ?? provider;
      const known = findProvider({ providerId }) !== undefined;
      if (!known && !matchAnyProvider) {
        return {
          found: false,
          reason: `${NAME} has no provider "${providerId}" (map it with providerIds, or set matchAnyProvider)`,
        };
      }
      const modelId = model.startsWith('models/') ? model.slice('models/'.length) : model;
      let result: ReturnType<typeof calcPrice>;
      try {
        result = calcPrice({}, modelId, {
          ...(known ? { providerId } : {}),
          ...(timestamp === undefined ? {} : { timestamp }),
        });
      } catch (error) {
        return {
          found: false,
          reason: `${NAME} failed to price ${providerId}/${modelId}: ${String(error)}`,
        };
      }
      if (result === null) {
        return {
          found: false,
          reason: `${NAME} has no price for model "${modelId}"${known ? ` of provider "${providerId}"` : ''}`,
        };
      }
      const prices = toTokenPrices(result.model_price);
      if (prices === undefined) {
        return {
          found: false,
          reason: `${NAME} has no per-token input and output price for ${result.provider.id}/${result.model.id}`,
        };
      }
      return {
        found: true,
        price: {
          ...prices,
          catalogProvider: result.provider.id,
          catalogModel: result.model.id,
        },
      };
    },
  };
}

function toTokenPrices(
  modelPrice: GenaiModelPrice,
): { prices: TokenPrices; tiers: PriceTier[] } | undefined {
  const input = read(modelPrice.input_mtok);
  const output = read(modelPrice.output_mtok);
  if (input === undefined || output === undefined) return undefined;
  const classes: Record<TokenClass, Tiered> = {
    input,
    cachedInput: read(modelPrice.cache_read_mtok) ?? input,
    cacheWrite: read(modelPrice.cache_write_mtok) ?? input,
    output,
    reasoning: read(modelPrice.output_reasoning_mtok) ?? output,
  };
  const prices = {} as TokenPrices;
  const byStart = new Map<number, Partial<TokenPrices>>();
  for (const [tokenClass, value] of Object.entries(classes) as [TokenClass, Tiered][]) {
    prices[tokenClass] = value.base;
    for (const { start, price } of value.tiers) {
      const tier = byStart.get(start) ?? {};
      tier[tokenClass] = price;
      byStart.set(start, tier);
    }
  }
  const tiers = [...byStart.entries()]
    .sort(([a], [b]) => a - b)
    .map(([aboveInputTokens, tierPrices]) => ({ aboveInputTokens, prices: tierPrices }));
  return { prices, tiers };
}

function read(value: GenaiModelPrice[string]): Tiered | undefined {
  const price = value as CatalogValue | undefined;
  if (typeof price === 'number')
    return Number.isFinite(price) ? { base: price, tiers: [] } : undefined;
  if (price === undefined || typeof price.base !== 'number') return undefined;
  return {
    base: price.base,
    tiers: price.tiers.filter((t) => Number.isFinite(t.start) && Number.isFinite(t.price)),
  };
}
