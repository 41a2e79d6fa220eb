import type { StreamingChunk, Usage } from '../chunk/streaming-chunk';
import { computeCost } from './compute-cost';
import type { CostSnapshot } from './cost-snapshot';
import type { Pricing } from './pricing';
import { tokenCountsFromUsage, type TokenCounts } from './token-counts';
import type { TokenEstimator } from './token-estimator';

/**
 * The running state of a stream's cost: the latest usage, and estimates of what streamed
 * without one. Immutable: {@link advanceCostState} returns a new state.
 */
export interface CostState {
  provider: string;
  model: string;
  /** The latest usage reported; the last one wins (providers repeat and grow it). */
  usage: Usage | undefined;
  /** Estimated input tokens, counted until a usage arrives. */
  promptTokens: number;
  /** Estimated output and reasoning tokens streamed since the latest usage (or the start). */
  output: number;
  reasoning: number;
}

/** The state before any chunk. */
export function initialCostState(promptTokens: number): CostState {
  return { provider: '', model: '', usage: undefined, promptTokens, output: 0, reasoning: 0 };
}

/**
 * The state after `chunk`. A chunk with usage replaces the counts with the provider's and
 * clears the estimates; content estimates its tokens with `estimateTokens`: text, refusals and
 * tool calls (names and arguments) as output, reasoning as reasoning. Opaque redacted reasoning
 * cannot be estimated and counts only once the usage arrives.
 */
export function advanceCostState(
  state: CostState,
  chunk: StreamingChunk,
  estimateTokens: TokenEstimator,
): CostState {
  const next = { ...state };
  accumulateCostState(next, chunk, estimateTokens);
  return next;
}

/**
 * {@link advanceCostState} in place: for a hot path that owns its state and prices it only when
 * asked (the router, once per call rather than once per chunk).
 */
export function accumulateCostState(
  state: CostState,
  chunk: StreamingChunk,
  estimateTokens: TokenEstimator,
): void {
  const model = chunk.model !== '' ? chunk.model : state.model;
  state.provider = chunk.provider;
  state.model = model;
  if (chunk.usage !== undefined) {
    state.usage = chunk.usage;
    state.output = 0;
    state.reasoning = 0;
    return;
  }
  for (const { delta } of chunk.choices) {
    state.output +=
      countTokens(delta.content, model, estimateTokens) +
      countTokens(delta.refusal, model, estimateTokens);
    state.reasoning += countTokens(delta.reasoning, model, estimateTokens);
    for (const call of delta.tool_calls ?? []) {
      state.output +=
        countTokens(call.function.name, model, estimateTokens) +
        countTokens(call.function.arguments, model, estimateTokens);
    }
  }
}

/** The estimated tokens of a text; 0 for none, and for an estimator that returns nonsense. */
function countTokens(
  text: string | null | undefined,
  model: string,
  estimateTokens: TokenEstimator,
): number {
  if (typeof text !== 'string' || text === '') return 0;
  const tokens = estimateTokens(text, model);
  // A broken estimator must not turn the cost into NaN.
  return Number.isFinite(tokens) && tokens > 0 ? tokens : 0;
}

/** The {@link CostSnapshot} of `state`, priced by `pricing`. */
export function snapshotCostState(state: CostState, pricing: Pricing): CostSnapshot {
  const estimatedOutput = Math.ceil(state.output);
  const estimatedReasoning = Math.ceil(state.reasoning);
  let tokens: TokenCounts;
  if (state.usage === undefined) {
    tokens = {
      input: Math.ceil(state.promptTokens),
      cachedInput: 0,
      cacheWrite: 0,
      output: estimatedOutput,
      reasoning: estimatedReasoning,
    };
  } else {
    const exact = tokenCountsFromUsage(state.usage);
    tokens = {
      ...exact,
      output: exact.output + estimatedOutput,
      reasoning: exact.reasoning + estimatedReasoning,
    };
  }
  const estimated = state.usage === undefined || estimatedOutput + estimatedReasoning > 0;
  const { provider, model } = state;
  const resolution = pricing.resolve(provider, model);
  if (!resolution.priced) {
    return {
      provider,
      model,
      tokens,
      estimated,
      priced: false,
      cost: null,
      totalUsd: null,
      unpricedReason: resolution.reason,
    };
  }
  const cost = computeCost(tokens, resolution.price);
  return {
    provider,
    model,
    tokens,
    estimated,
    priced: true,
    cost,
    totalUsd: cost.total,
    price: resolution.price,
  };
}
