import type { ModelPrice } from './model-price';

/** A catalog's price for one model, with the ids the catalog matched it under. */
export interface CatalogPrice extends ModelPrice {
  /** The catalog's id of the provider whose price this is. */
  catalogProvider: string;
  /** The catalog's id of the model (`claude-3-5-haiku-latest` for `claude-3-5-haiku-20241022`). */
  catalogModel: string;
}

/** The result of a catalog lookup: a price, or why there is none. */
export type CatalogLookup = { found: true; price: CatalogPrice } | { found: false; reason: string };

/**
 * Where prices come from. {@link genaiPricesCatalog} is the maintained one; implement this to
 * use your own table (a database, a contract price list).
 */
export interface PriceCatalog {
  /** Named in the reasons for a missing price. */
  readonly name: string;
  /**
   * The price of `model` as served by `provider` (the provider name stamped on chunks:
   * `openai`, `anthropic`, `google`, or a custom one). Called once per provider and model by
   * {@link createPricing}, which caches the answer: it may be slow, but must be synchronous.
   */
  lookup(provider: string, model: string): CatalogLookup;
}
