import { map, scan, type OperatorFunction } from 'rxjs';
import type { StreamingChunk } from '../chunk/streaming-chunk';
import type { CostSnapshot } from '../cost/cost-snapshot';
import {
  advanceCostState,
  initialCostState,
  snapshotCostState,
  type CostState,
} from '../cost/cost-state';
import { defaultPricing, type Pricing } from '../cost/pricing';
import { estimateTokensByChars, type TokenEstimator } from '../cost/token-estimator';
import { ValidationError } from '../errors/validation-error';

/** Configuration of {@link trackCost}. */
export interface TrackCostConfig {
  /**
   * Estimates the tokens of each streamed piece of text until the usage arrives. Default
   * `estimateTokensByChars` (four characters per token, any model); `gptTokenEstimator` counts
   * OpenAI models with their real tokenizer.
   */
  estimateTokens?: TokenEstimator | undefined;
  /**
   * The input tokens of the request, counted as uncached input until the usage arrives (see
   * `estimatePromptTokens`). Default 0: until then, the running cost covers the output only.
   */
  promptTokens?: number | undefined;
}

interface CostedState<T> {
  state: CostState;
  chunk: T;
}

/** A chunk with the running cost of its stream up to and including it. */
export interface CostedChunk<T extends StreamingChunk = StreamingChunk> {
  chunk: T;
  cost: CostSnapshot;
}

/**
 * Pairs every chunk of a stream with the stream's running cost: estimated while the tokens
 * stream, exact once the provider's usage arrives.
 *
 * <span class="informal">A `scan` of the chunks into a cost, emitted beside each chunk.</span>
 *
 * 1. Emits one `{ chunk, cost }` per source chunk, in order, at the same time; the chunk is
 *    passed through untouched. Errors and completion are passed through.
 * 2. Until a chunk carries `usage`, the counts are estimates (`cost.estimated: true`): the
 *    output and reasoning text of each delta (text, refusals, tool-call names and arguments,
 *    reasoning) goes through `estimateTokens`, and the input is `promptTokens`.
 * 3. A chunk with `usage` **trues up** the counts: they become the provider's own, split into
 *    uncached input (`prompt_tokens − cached − cache_write`), cache reads, cache writes, output
 *    (`completion_tokens − reasoning`) and reasoning, and `estimated` turns false. A later usage
 *    replaces it (the last one wins); content after a usage is estimated on top of it.
 * 4. Each class is priced at its own rate by `pricing` (see `createPricing`), for the model
 *    and provider named on the chunks, with prompt-size tiers applied on the total input.
 * 5. A model with no known price gives `priced: false`, `cost: null`, `totalUsd: null` and an
 *    `unpricedReason`: never a silent 0 or NaN. The token counts are still tracked.
 * 6. A stream that ends with no usage (a server that never sends one) ends on an estimate,
 *    and says so.
 * 7. Cold and stateless between subscriptions: each subscription counts from zero.
 *
 * It prices one provider call: with failover, apply it per attempt. Take the snapshots alone
 * with `map(({ cost }) => cost)`, the chunks back with `map(({ chunk }) => chunk)`.
 *
 * ```
 * pricing: $1 per token, chars/4 estimate    (a = 'abcd', b = 'abcdefgh', u = usage: 1 in, 4 out)
 *
 * source:     -a--b--u|
 * trackCost:  -x--y--z|     x: 1 token, $1 (estimated); y: 3 tokens, $3 (estimated);
 *                           z: exact, 5 tokens, $5 (estimated: false)
 * ```
 *
 * ## Example
 *
 * ```ts
 * import { trackCost, openai } from 'rx-llm-router';
 *
 * const gpt = openai({ apiKey: process.env.OPENAI_API_KEY! });
 * gpt
 *   .stream({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] })
 *   .pipe(trackCost())
 *   .subscribe(({ chunk, cost }) => {
 *     process.stdout.write(chunk.choices[0]?.delta.content ?? '');
 *     if (!cost.estimated) console.log(`\n$${cost.totalUsd?.toFixed(6)}`, cost.tokens);
 *   });
 * ```
 *
 * @see {@link budget}
 * @param pricing The prices. Default `defaultPricing`: the bundled `@pydantic/genai-prices`
 * catalog, no overrides.
 * @param config The token estimator and the prompt's estimated size.
 * @return A function that returns an Observable of each chunk with the running cost.
 */
export function trackCost<T extends StreamingChunk>(
  pricing: Pricing = defaultPricing,
  config: TrackCostConfig = {},
): OperatorFunction<T, CostedChunk<T>> {
  const { estimateTokens = estimateTokensByChars, promptTokens = 0 } = config;
  if (!Number.isFinite(promptTokens) || promptTokens < 0) {
    throw new ValidationError(
      [{ path: 'promptTokens', message: `expected a finite number ≥ 0, got ${promptTokens}` }],
      { subject: 'trackCost() config' },
    );
  }
  const initial = initialCostState(promptTokens);
  return (source) =>
    source.pipe(
      scan<T, CostedState<T>, undefined>(
        (previous, chunk) => ({
          state: advanceCostState(previous?.state ?? initial, chunk, estimateTokens),
          chunk,
        }),
        undefined,
      ),
      map(({ state, chunk }) => ({ chunk, cost: snapshotCostState(state, pricing) })),
    );
}
