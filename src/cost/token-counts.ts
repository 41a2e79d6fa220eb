import type { Usage } from '../chunk/streaming-chunk';

/** The classes of tokens that are priced separately. */
export type TokenClass = 'input' | 'cachedInput' | 'cacheWrite' | 'output' | 'reasoning';

/** Every {@link TokenClass}, in a stable order. */
export const TOKEN_CLASSES: readonly TokenClass[] = [
  'input',
  'cachedInput',
  'cacheWrite',
  'output',
  'reasoning',
];

/**
 * Token counts split into disjoint, separately priced classes. Unlike {@link Usage}, no class
 * includes another: the total input is `input + cachedInput + cacheWrite`, the total output is
 * `output + reasoning`.
 */
export interface TokenCounts {
  /** Input tokens neither read from nor written to the prompt cache. */
  input: number;
  /** Input tokens read from the prompt cache. */
  cachedInput: number;
  /** Input tokens written to the prompt cache. */
  cacheWrite: number;
  /** Output tokens other than reasoning. */
  output: number;
  /** Reasoning ("thinking") output tokens. */
  reasoning: number;
}

/** All counts zero. */
export const NO_TOKENS: Readonly<TokenCounts> = Object.freeze({
  input: 0,
  cachedInput: 0,
  cacheWrite: 0,
  output: 0,
  reasoning: 0,
});

/** The whole input side of `counts`: what providers call the prompt size. */
export function inputTokensOf(counts: TokenCounts): number {
  return counts.input + counts.cachedInput + counts.cacheWrite;
}

/**
 * Splits a normalized {@link Usage} (OpenAI semantics: `prompt_tokens` includes the cache reads
 * and writes, `completion_tokens` includes the reasoning) into disjoint {@link TokenCounts}:
 *
 * - `input = prompt_tokens − cached_tokens − cache_write_tokens`
 * - `output = completion_tokens − reasoning_tokens`
 *
 * Counts that are missing, negative or not finite read as 0, and an inconsistent usage (more
 * cache tokens than prompt tokens) never yields a negative class: the difference is clamped at 0.
 */
export function tokenCountsFromUsage(usage: Usage): TokenCounts {
  const prompt = count(usage.prompt_tokens);
  const completion = count(usage.completion_tokens);
  const cachedInput = count(usage.prompt_tokens_details?.cached_tokens);
  const cacheWrite = count(usage.prompt_tokens_details?.cache_write_tokens);
  const reasoning = Math.min(count(usage.completion_tokens_details?.reasoning_tokens), completion);
  return {
    input: Math.max(0, prompt - cachedInput - cacheWrite),
    cachedInput,
    cacheWrite,
    output: completion - reasoning,
    reasoning,
  };
}

function count(value: number | undefined): number {
  return value !== undefined && Number.isFinite(value) && value > 0 ? value : 0;
}
