import type { CostBreakdown } from './model-price';
import type { ResolvedPrice } from './pricing';
import type { TokenCounts } from './token-counts';

/** The running cost of one stream, as of one chunk. */
export interface CostSnapshot {
  /** The provider of the latest chunk. */
  provider: string;
  /** The model of the latest chunk that named one. */
  model: string;
  /** Tokens so far, in disjoint classes (uncached input, cache reads, cache writes, ...). */
  tokens: TokenCounts;
  /**
   * True while any count is an estimate: until the provider's usage arrives, and again if
   * content arrives after it. False once the counts are the provider's own.
   */
  estimated: boolean;
  /** False when no price is known for the model: `cost` and `totalUsd` are then `null`. */
  priced: boolean;
  /** What the tokens cost, USD per class and in total; `null` when unpriced (never 0 or NaN). */
  cost: CostBreakdown | null;
  /** `cost.total`, or `null` when unpriced. */
  totalUsd: number | null;
  /** The price applied, when there is one. */
  price?: ResolvedPrice;
  /** Why there is no price, when there is none. */
  unpricedReason?: string;
}
