import { inputTokensOf, tokenCountsFromUsage } from '../../src/cost/token-counts';

describe('tokenCountsFromUsage', () => {
  it('should split OpenAI-semantics usage into disjoint classes', () => {
    expect(
      tokenCountsFromUsage({
        prompt_tokens: 1_000,
        completion_tokens: 300,
        total_tokens: 1_300,
        prompt_tokens_details: { cached_tokens: 600, cache_write_tokens: 100 },
        completion_tokens_details: { reasoning_tokens: 120 },
      }),
    ).toEqual({ input: 300, cachedInput: 600, cacheWrite: 100, output: 180, reasoning: 120 });
  });

  it('should read missing details as 0', () => {
    expect(
      tokenCountsFromUsage({ prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 }),
    ).toEqual({ input: 10, cachedInput: 0, cacheWrite: 0, output: 5, reasoning: 0 });
  });

  it('should never yield a negative or NaN class from an inconsistent usage', () => {
    const counts = tokenCountsFromUsage({
      prompt_tokens: 10,
      completion_tokens: Number.NaN,
      total_tokens: 10,
      prompt_tokens_details: { cached_tokens: 50, cache_write_tokens: -3 },
      completion_tokens_details: { reasoning_tokens: 7 },
    });
    expect(counts).toEqual({ input: 0, cachedInput: 50, cacheWrite: 0, output: 0, reasoning: 0 });
  });

  it('should add the input classes back up to the prompt size', () => {
    expect(
      inputTokensOf({ input: 1, cachedInput: 2, cacheWrite: 3, output: 4, reasoning: 5 }),
    ).toBe(6);
  });
});
