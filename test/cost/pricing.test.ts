import { calcPrice } from '@pydantic/genai-prices';
import type { Usage } from '../../src/chunk/streaming-chunk';
import { computeCost } from '../../src/cost/compute-cost';
import { genaiPricesCatalog } from '../../src/cost/genai-prices-catalog';
import type { PriceCatalog } from '../../src/cost/price-catalog';
import { createPricing, defaultPricing, type ResolvedPrice } from '../../src/cost/pricing';
import { tokenCountsFromUsage } from '../../src/cost/token-counts';
import { ValidationError } from '../../src/errors/validation-error';

/**
 * Published list prices, USD per million tokens, copied by hand from the providers' pricing
 * pages (standard tier, text, prompts up to 200k tokens), so that the test checks the bundled
 * catalog and our arithmetic against the providers rather than against the catalog itself:
 *
 * - OpenAI: https://platform.openai.com/docs/pricing ("Text tokens", Standard): input, cached
 *   input, output. OpenAI has no cache-write charge; reasoning tokens are billed as output.
 * - Anthropic: https://docs.claude.com/en/docs/about-claude/pricing ("Model pricing"): base
 *   input, 5-minute cache writes, cache hits and refreshes, output. Thinking is billed as output.
 * - Google: https://ai.google.dev/gemini-api/docs/pricing (Paid tier, text/image/video input,
 *   "output price (including thinking tokens)", context caching price).
 */
interface Published {
  provider: string;
  model: string;
  input: number;
  cachedInput: number;
  /** Anthropic's 5-minute cache write; elsewhere writes cost the input price. */
  cacheWrite: number;
  output: number;
}

const PUBLISHED: readonly Published[] = [
  {
    provider: 'openai',
    model: 'gpt-4o',
    input: 2.5,
    cachedInput: 1.25,
    cacheWrite: 2.5,
    output: 10,
  },
  {
    provider: 'openai',
    model: 'gpt-4o-mini',
    input: 0.15,
    cachedInput: 0.075,
    cacheWrite: 0.15,
    output: 0.6,
  },
  {
    provider: 'anthropic',
    model: 'claude-sonnet-4-5',
    input: 3,
    cachedInput: 0.3,
    cacheWrite: 3.75,
    output: 15,
  },
  {
    provider: 'anthropic',
    model: 'claude-sonnet-4-5-20250929',
    input: 3,
    cachedInput: 0.3,
    cacheWrite: 3.75,
    output: 15,
  },
  {
    provider: 'anthropic',
    model: 'claude-3-5-haiku-20241022',
    input: 0.8,
    cachedInput: 0.08,
    cacheWrite: 1,
    output: 4,
  },
  {
    provider: 'anthropic',
    model: 'claude-haiku-4-5',
    input: 1,
    cachedInput: 0.1,
    cacheWrite: 1.25,
    output: 5,
  },
  {
    provider: 'google',
    model: 'gemini-2.5-flash',
    input: 0.3,
    cachedInput: 0.03,
    cacheWrite: 0.3,
    output: 2.5,
  },
  {
    provider: 'google',
    model: 'gemini-2.5-pro',
    input: 1.25,
    cachedInput: 0.125,
    cacheWrite: 1.25,
    output: 10,
  },
];

/** A usage with every class in play: 12,345 prompt tokens of which 3,000 cached, 1,000 written. */
const usage: Usage = {
  prompt_tokens: 12_345,
  completion_tokens: 2_468,
  total_tokens: 14_813,
  prompt_tokens_details: { cached_tokens: 3_000, cache_write_tokens: 1_000 },
  completion_tokens_details: { reasoning_tokens: 800 },
};

function resolved(provider: string, model: string): ResolvedPrice {
  const resolution = defaultPricing.resolve(provider, model);
  if (!resolution.priced) throw new Error(resolution.reason);
  return resolution.price;
}

describe('published prices', () => {
  it.each(PUBLISHED)(
    'should price $provider/$model as published, each class at its own rate',
    ({ provider, model, input, cachedInput, cacheWrite, output }) => {
      const cost = computeCost(tokenCountsFromUsage(usage), resolved(provider, model));

      // 12,345 − 3,000 − 1,000 = 8,345 uncached; 2,468 − 800 = 1,668 plain output.
      const expected = {
        input: (8_345 * input) / 1e6,
        cachedInput: (3_000 * cachedInput) / 1e6,
        cacheWrite: (1_000 * cacheWrite) / 1e6,
        output: (1_668 * output) / 1e6,
        reasoning: (800 * output) / 1e6,
      };
      for (const key of Object.keys(expected) as (keyof typeof expected)[]) {
        expect(Math.abs(cost[key] - expected[key])).toBeLessThan(1e-9);
      }
      const total = Object.values(expected).reduce((a, b) => a + b, 0);
      expect(Math.abs(cost.total - total)).toBeLessThan(1e-9);
    },
  );

  it('should price a known usage of gpt-4o to the cent: 1M in (half cached), 1M out', () => {
    const cost = computeCost(
      tokenCountsFromUsage({
        prompt_tokens: 1_000_000,
        completion_tokens: 1_000_000,
        total_tokens: 2_000_000,
        prompt_tokens_details: { cached_tokens: 500_000 },
      }),
      resolved('openai', 'gpt-4o'),
    );
    // 0.5 × $2.50 + 0.5 × $1.25 + 1 × $10.00
    expect(Math.abs(cost.total - 11.875)).toBeLessThan(1e-9);
  });

  it('should price a whole gemini-2.5-pro request at the >200k tier (published $2.50 / $0.25 / $15)', () => {
    const tokens = tokenCountsFromUsage({
      prompt_tokens: 250_000,
      completion_tokens: 10_000,
      total_tokens: 260_000,
      prompt_tokens_details: { cached_tokens: 50_000 },
    });
    const cost = computeCost(tokens, resolved('google', 'gemini-2.5-pro'));
    const expected = (200_000 * 2.5 + 50_000 * 0.25 + 10_000 * 15) / 1e6;
    expect(Math.abs(cost.total - expected)).toBeLessThan(1e-9);
  });

  it('should keep gemini-2.5-pro at the base tier at exactly 200k input tokens', () => {
    const cost = computeCost(
      { input: 200_000, cachedInput: 0, cacheWrite: 0, output: 1_000, reasoning: 0 },
      resolved('google', 'gemini-2.5-pro'),
    );
    expect(Math.abs(cost.total - (200_000 * 1.25 + 1_000 * 10) / 1e6)).toBeLessThan(1e-9);
  });

  it.each(PUBLISHED)(
    "should agree with the catalog's own calculator on $provider/$model",
    ({ provider, model }) => {
      const ours = computeCost(tokenCountsFromUsage(usage), resolved(provider, model)).total;
      const theirs = calcPrice(
        {
          input_tokens: usage.prompt_tokens,
          cache_read_tokens: 3_000,
          cache_write_tokens: 1_000,
          output_tokens: usage.completion_tokens,
        },
        model,
        { providerId: provider },
      );
      expect(theirs).not.toBeNull();
      expect(Math.abs(ours - theirs!.total_price)).toBeLessThan(1e-9);
    },
  );

  it('should name the catalog ids a dated model matched', () => {
    expect(resolved('anthropic', 'claude-3-5-haiku-20241022')).toMatchObject({
      source: 'catalog',
      catalogProvider: 'anthropic',
      catalogModel: 'claude-3-5-haiku-latest',
    });
  });
});

describe('createPricing overrides', () => {
  it('should replace only the classes an override names on a catalog model', () => {
    const pricing = createPricing({ models: { 'gpt-4o': { output: 8, reasoning: 12 } } });
    expect(pricing.resolve('openai', 'gpt-4o')).toEqual({
      priced: true,
      price: {
        prices: { input: 2.5, cachedInput: 1.25, cacheWrite: 2.5, output: 8, reasoning: 12 },
        tiers: [],
        source: 'catalog+override',
        catalogProvider: 'openai',
        catalogModel: 'gpt-4o',
      },
    });
  });

  it('should prefer a "<provider>/<model>" override to a "<model>" one', () => {
    const pricing = createPricing({
      catalog: null,
      models: {
        'llama-3': { input: 1, output: 2 },
        'groq/llama-3': { input: 0.05, output: 0.08 },
      },
    });
    const groq = pricing.resolve('groq', 'llama-3');
    const other = pricing.resolve('together', 'llama-3');
    expect(groq.priced && groq.price.prices).toEqual({
      input: 0.05,
      cachedInput: 0.05,
      cacheWrite: 0.05,
      output: 0.08,
      reasoning: 0.08,
    });
    expect(other.priced && other.price.prices.output).toBe(2);
  });

  it('should price a model unknown to the catalog from an override with input and output', () => {
    const pricing = createPricing({
      models: { 'local-vllm/my-model': { input: 0, output: 0.5, cachedInput: 0 } },
    });
    expect(pricing.resolve('local-vllm', 'my-model')).toEqual({
      priced: true,
      price: {
        prices: { input: 0, cachedInput: 0, cacheWrite: 0, output: 0.5, reasoning: 0.5 },
        tiers: [],
        source: 'override',
      },
    });
  });

  it('should leave a model unpriced when its override lacks input or output and the catalog has none', () => {
    const resolution = createPricing({ models: { mystery: { output: 1 } } }).resolve(
      'openai',
      'mystery',
    );
    expect(resolution.priced).toBe(false);
    expect(!resolution.priced && resolution.reason).toMatch(/override lacks input or output/);
  });

  it('should flatten the tiers of an overridden class and keep the others', () => {
    const pricing = createPricing({ models: { 'gemini-2.5-pro': { output: 9 } } });
    const resolution = pricing.resolve('google', 'gemini-2.5-pro');
    expect(resolution.priced && resolution.price.tiers).toEqual([
      {
        aboveInputTokens: 200_000,
        prices: { input: 2.5, cachedInput: 0.25, cacheWrite: 2.5, reasoning: 15 },
      },
    ]);
  });

  it('should use override tiers in place of the catalog tiers', () => {
    const tiers = [{ aboveInputTokens: 1_000, prices: { input: 100 } }];
    const pricing = createPricing({ catalog: null, models: { m: { input: 1, output: 2, tiers } } });
    const resolution = pricing.resolve('p', 'm');
    if (!resolution.priced) throw new Error(resolution.reason);
    const big = { input: 1_001, cachedInput: 0, cacheWrite: 0, output: 0, reasoning: 0 };
    expect(computeCost(big, resolution.price).total).toBeCloseTo((1_001 * 100) / 1e6, 12);
  });

  it('should throw a ValidationError naming each bad price and unknown class', () => {
    let error: unknown;
    try {
      createPricing({
        models: { 'gpt-4o': { output: -1, input: Number.NaN }, x: { outptu: 1 } as never },
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues.map((i) => i.path)).toEqual([
      'models["gpt-4o"].input',
      'models["gpt-4o"].output',
      'models["x"].outptu',
    ]);
    expect((error as Error).message).toMatch(/unknown token class; expected one of input/);
  });
});

describe('unknown models and providers', () => {
  it('should report an unknown model as unpriced with a reason that says how to price it', () => {
    const resolution = defaultPricing.resolve('openai', 'gpt-imaginary-9');
    expect(resolution).toEqual({
      priced: false,
      reason: expect.stringMatching(
        /No price for openai\/gpt-imaginary-9: .*no price for model "gpt-imaginary-9".*createPricing/,
      ),
    });
  });

  it("should not price a model of an unknown provider at another provider's rate by default", () => {
    expect(defaultPricing.resolve('local-vllm', 'gpt-4o').priced).toBe(false);
  });

  it('should match across providers with matchAnyProvider, and map names with providerIds', () => {
    const any = createPricing({ catalog: genaiPricesCatalog({ matchAnyProvider: true }) });
    expect(any.resolve('corp-proxy', 'gpt-4o')).toMatchObject({ priced: true });
    const mapped = createPricing({
      catalog: genaiPricesCatalog({ providerIds: { 'claude-eu': 'anthropic' } }),
    });
    expect(mapped.resolve('claude-eu', 'claude-haiku-4-5')).toMatchObject({
      priced: true,
      price: { catalogProvider: 'anthropic', prices: { input: 1, output: 5 } },
    });
  });

  it('should strip a "models/" prefix from Gemini model names', () => {
    expect(defaultPricing.resolve('google', 'models/gemini-2.5-flash')).toMatchObject({
      priced: true,
      price: { catalogModel: 'gemini-2.5-flash' },
    });
  });

  it('should consult the catalog once per provider and model', () => {
    const lookup = jest.fn<ReturnType<PriceCatalog['lookup']>, [string, string]>(() => ({
      found: false,
      reason: 'none',
    }));
    const pricing = createPricing({ catalog: { name: 'fake', lookup } });
    pricing.resolve('p', 'm');
    pricing.resolve('p', 'm');
    pricing.resolve('q', 'm');
    expect(lookup.mock.calls).toEqual([
      ['p', 'm'],
      ['q', 'm'],
    ]);
  });
});
