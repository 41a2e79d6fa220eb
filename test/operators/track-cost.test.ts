import { lastValueFrom, map, of, toArray } from 'rxjs';
import type { TestScheduler } from 'rxjs/testing';
import type { StreamingChunk } from '../../src/chunk/streaming-chunk';
import type { CostSnapshot } from '../../src/cost/cost-snapshot';
import { gptTokenEstimator } from '../../src/cost/gpt-token-estimator';
import { createPricing, defaultPricing, type ResolvedPrice } from '../../src/cost/pricing';
import type { TokenCounts } from '../../src/cost/token-counts';
import { ProviderError } from '../../src/errors/provider-error';
import { ValidationError } from '../../src/errors/validation-error';
import { trackCost, type CostedChunk } from '../../src/operators/track-cost';
import { chunk, createComparingScheduler, usageChunk } from '../helpers/marbles';

/**
 * Round prices so the expected costs read at a glance: USD per token (the table is per
 * million), each class different so a mispriced class shows.
 */
const PER_TOKEN = { input: 1, cachedInput: 0.5, cacheWrite: 2, output: 10, reasoning: 30 };
const pricing = createPricing({
  catalog: null,
  models: {
    m: {
      input: PER_TOKEN.input * 1e6,
      cachedInput: PER_TOKEN.cachedInput * 1e6,
      cacheWrite: PER_TOKEN.cacheWrite * 1e6,
      output: PER_TOKEN.output * 1e6,
      reasoning: PER_TOKEN.reasoning * 1e6,
    },
  },
});
const PRICE: ResolvedPrice = {
  prices: {
    input: 1e6,
    cachedInput: 0.5e6,
    cacheWrite: 2e6,
    output: 10e6,
    reasoning: 30e6,
  },
  tiers: [],
  source: 'override',
};

const tokens = (counts: Partial<TokenCounts>): TokenCounts => ({
  input: 0,
  cachedInput: 0,
  cacheWrite: 0,
  output: 0,
  reasoning: 0,
  ...counts,
});

/** The snapshot expected for `counts` at {@link PER_TOKEN}, computed by hand. */
function snapshot(counts: Partial<TokenCounts>, estimated: boolean): CostSnapshot {
  const t = tokens(counts);
  const cost = {
    input: t.input * PER_TOKEN.input,
    cachedInput: t.cachedInput * PER_TOKEN.cachedInput,
    cacheWrite: t.cacheWrite * PER_TOKEN.cacheWrite,
    output: t.output * PER_TOKEN.output,
    reasoning: t.reasoning * PER_TOKEN.reasoning,
    total: 0,
  };
  cost.total = cost.input + cost.cachedInput + cost.cacheWrite + cost.output + cost.reasoning;
  return {
    provider: 'p',
    model: 'm',
    tokens: t,
    estimated,
    priced: true,
    cost,
    totalUsd: cost.total,
    price: PRICE,
  };
}

// a: 4 chars = 1 token, b: 8 chars = 2 tokens (chars/4); r: role-only.
const a = chunk({ content: 'abcd' });
const b = chunk({ content: 'abcdefgh' });
const r = chunk({ role: 'assistant' });

describe('trackCost', () => {
  let testScheduler: TestScheduler;

  beforeEach(() => {
    testScheduler = createComparingScheduler();
  });

  it('should emit a running, estimated snapshot with each chunk as the tokens stream', () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold(' -r-a--b-a-|', { r, a, b });
      const subs = '        ^---------!';
      const expected = '    -w-x--y-z-|';
      expectObservable(source.pipe(trackCost(pricing))).toBe(expected, {
        w: { chunk: r, cost: snapshot({}, true) },
        x: { chunk: a, cost: snapshot({ output: 1 }, true) },
        y: { chunk: b, cost: snapshot({ output: 3 }, true) },
        z: { chunk: a, cost: snapshot({ output: 4 }, true) },
      });
      expectSubscriptions(source.subscriptions).toBe(subs);
    });
  });

  it('should true up to the provider usage when the usage chunk arrives', () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      // The estimate says 3 output tokens; the provider says 5, and 7 of input.
      const u = usageChunk({ prompt_tokens: 7, completion_tokens: 5, total_tokens: 12 });
      const source = cold(' -a--b--u|', { a, b, u });
      const subs = '        ^-------!';
      const expected = '    -x--y--z|';
      expectObservable(source.pipe(trackCost(pricing))).toBe(expected, {
        x: { chunk: a, cost: snapshot({ output: 1 }, true) },
        y: { chunk: b, cost: snapshot({ output: 3 }, true) },
        z: { chunk: u, cost: snapshot({ input: 7, output: 5 }, false) },
      });
      expectSubscriptions(source.subscriptions).toBe(subs);
    });
  });

  it('should price uncached input, cache reads, cache writes, output and reasoning separately', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      const u = usageChunk({
        prompt_tokens: 100,
        completion_tokens: 30,
        total_tokens: 130,
        prompt_tokens_details: { cached_tokens: 60, cache_write_tokens: 25 },
        completion_tokens_details: { reasoning_tokens: 12 },
      });
      const source = cold(' -u|', { u });
      const expected = '    -z|';
      const cost = snapshot(
        { input: 15, cachedInput: 60, cacheWrite: 25, output: 18, reasoning: 12 },
        false,
      );
      // 15 × $1 + 60 × $0.5 + 25 × $2 + 18 × $10 + 12 × $30
      expect(cost.totalUsd).toBe(15 + 30 + 50 + 180 + 360);
      expectObservable(source.pipe(trackCost(pricing))).toBe(expected, {
        z: { chunk: u, cost },
      });
    });
  });

  it('should estimate reasoning as reasoning, and refusals and tool calls as output', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      const think = chunk({ reasoning: 'abcdefgh' }); // 2 reasoning tokens
      const refuse = chunk({ refusal: 'abcd' }); // 1 output token
      const call = chunk({
        tool_calls: [
          { index: 0, id: 'x', type: 'function', function: { name: 'look', arguments: 'abcd' } },
        ],
      }); // name 1 + arguments 1
      const source = cold(' -t-f-c|', { t: think, f: refuse, c: call });
      const expected = '    -x-y-z|';
      expectObservable(source.pipe(trackCost(pricing))).toBe(expected, {
        x: { chunk: think, cost: snapshot({ reasoning: 2 }, true) },
        y: { chunk: refuse, cost: snapshot({ reasoning: 2, output: 1 }, true) },
        z: { chunk: call, cost: snapshot({ reasoning: 2, output: 3 }, true) },
      });
    });
  });

  it('should round the summed estimate up, not each delta', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      const c = chunk({ content: 'ab' }); // half a token each
      const source = cold(' -c-c-c|', { c });
      const expected = '    -x-y-z|';
      expectObservable(source.pipe(trackCost(pricing))).toBe(expected, {
        x: { chunk: c, cost: snapshot({ output: 1 }, true) },
        y: { chunk: c, cost: snapshot({ output: 1 }, true) },
        z: { chunk: c, cost: snapshot({ output: 2 }, true) },
      });
    });
  });

  it('should count promptTokens as input until the usage replaces it', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      const u = usageChunk({ prompt_tokens: 9, completion_tokens: 1, total_tokens: 10 });
      const source = cold(' -r-a-u|', { r, a, u });
      const expected = '    -w-x-z|';
      expectObservable(source.pipe(trackCost(pricing, { promptTokens: 12 }))).toBe(expected, {
        w: { chunk: r, cost: snapshot({ input: 12 }, true) },
        x: { chunk: a, cost: snapshot({ input: 12, output: 1 }, true) },
        z: { chunk: u, cost: snapshot({ input: 9, output: 1 }, false) },
      });
    });
  });

  it('should keep the usage of a chunk that also carries content, without counting it twice', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      // LiteLLM #36168: the usage arrives on a chunk with non-empty choices.
      const last = chunk(
        { content: 'abcdefgh' },
        { usage: { prompt_tokens: 2, completion_tokens: 3, total_tokens: 5 } },
      );
      const source = cold(' -a-l|', { a, l: last });
      const expected = '    -x-z|';
      expectObservable(source.pipe(trackCost(pricing))).toBe(expected, {
        x: { chunk: a, cost: snapshot({ output: 1 }, true) },
        z: { chunk: last, cost: snapshot({ input: 2, output: 3 }, false) },
      });
    });
  });

  it('should estimate content that arrives after a usage on top of it, and let a later usage win', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      const u1 = usageChunk({ prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 });
      const u2 = usageChunk({ prompt_tokens: 5, completion_tokens: 4, total_tokens: 9 });
      const source = cold(' -u-b-v|', { u: u1, b, v: u2 });
      const expected = '    -x-y-z|';
      expectObservable(source.pipe(trackCost(pricing))).toBe(expected, {
        x: { chunk: u1, cost: snapshot({ input: 5, output: 1 }, false) },
        y: { chunk: b, cost: snapshot({ input: 5, output: 3 }, true) },
        z: { chunk: u2, cost: snapshot({ input: 5, output: 4 }, false) },
      });
    });
  });

  it('should end on an estimate, flagged as one, when no usage ever arrives', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      const source = cold(' -a|', { a });
      expectObservable(
        source.pipe(
          trackCost(pricing),
          map(({ cost }) => cost.estimated),
        ),
      ).toBe('-t|', { t: true });
    });
  });

  it('should apply a price override per token class on top of the catalog', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      const overridden = createPricing({ models: { 'gpt-4o': { output: 8 } } });
      const gpt = (c: StreamingChunk): StreamingChunk => ({
        ...c,
        model: 'gpt-4o',
        provider: 'openai',
      });
      const u = gpt(
        usageChunk({
          prompt_tokens: 1_000_000,
          completion_tokens: 1_000_000,
          total_tokens: 2_000_000,
          prompt_tokens_details: { cached_tokens: 400_000 },
        }),
      );
      const source = cold(' -u|', { u });
      // 600k × $2.50 + 400k × $1.25 (catalog) + 1M × $8 (override) per million
      expectObservable(
        source.pipe(
          trackCost(overridden),
          map(({ cost }) => ({ total: cost.totalUsd, source: cost.price?.source })),
        ),
      ).toBe('-z|', { z: { total: 1.5 + 0.5 + 8, source: 'catalog+override' } });
    });
  });

  it('should report an unknown model as unpriced with a null cost and a reason, never 0 or NaN', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      const unknown = { ...a, model: 'mystery-model', provider: 'openai' };
      const u = {
        ...usageChunk({ prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 }),
        model: 'mystery-model',
        provider: 'openai',
      };
      const source = cold(' -a-u|', { a: unknown, u });
      const expected = '    -x-z|';
      const resolution = defaultPricing.resolve('openai', 'mystery-model');
      const reason = resolution.priced ? '' : resolution.reason;
      expect(reason).toMatch(/^No price for openai\/mystery-model: /);
      expectObservable(source.pipe(trackCost(defaultPricing))).toBe(expected, {
        x: {
          chunk: unknown,
          cost: {
            provider: 'openai',
            model: 'mystery-model',
            tokens: tokens({ output: 1 }),
            estimated: true,
            priced: false,
            cost: null,
            totalUsd: null,
            unpricedReason: reason,
          },
        },
        z: {
          chunk: u,
          cost: {
            provider: 'openai',
            model: 'mystery-model',
            tokens: tokens({ input: 3, output: 1 }),
            estimated: false,
            priced: false,
            cost: null,
            totalUsd: null,
            unpricedReason: reason,
          },
        },
      });
    });
  });

  it('should pass a source error through with the snapshots before it', () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const error = new ProviderError('overloaded', 'Overloaded', { provider: 'p' });
      const source = cold(' -a-#', { a }, error);
      const subs = '        ^--!';
      expectObservable(source.pipe(trackCost(pricing))).toBe(
        '-x-#',
        { x: { chunk: a, cost: snapshot({ output: 1 }, true) } },
        error,
      );
      expectSubscriptions(source.subscriptions).toBe(subs);
    });
  });

  it('should unsubscribe from the source when the consumer unsubscribes', () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold(' -a-a-a-a-|', { a });
      const subs = '        ^---!';
      expectObservable(source.pipe(trackCost(pricing)), '^---!').toBe('-x-y', {
        x: { chunk: a, cost: snapshot({ output: 1 }, true) },
        y: { chunk: a, cost: snapshot({ output: 2 }, true) },
      });
      expectSubscriptions(source.subscriptions).toBe(subs);
    });
  });

  it('should count from zero for each subscription', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      const source = cold(' -a|', { a });
      const tracked = source.pipe(trackCost(pricing));
      const one = { x: { chunk: a, cost: snapshot({ output: 1 }, true) } };
      expectObservable(tracked).toBe('-x|', one);
      expectObservable(tracked).toBe('-x|', one);
    });
  });

  it('should ignore an estimator that returns NaN, negative or infinite counts', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      const answers = [Number.NaN, -5, Number.POSITIVE_INFINITY, 2];
      let i = 0;
      const broken = (): number => answers[i++ % answers.length]!;
      const source = cold(' -a-a-a-a|', { a });
      expectObservable(
        source.pipe(
          trackCost(pricing, { estimateTokens: broken }),
          map(({ cost }) => cost.totalUsd),
        ),
      ).toBe('-w-x-y-z|', { w: 0, x: 0, y: 0, z: 20 });
    });
  });

  it('should reject a promptTokens that is negative or not finite', () => {
    expect(() => trackCost(pricing, { promptTokens: -1 })).toThrow(ValidationError);
    expect(() => trackCost(pricing, { promptTokens: Number.NaN })).toThrow(
      /promptTokens: expected a finite number ≥ 0/,
    );
  });
});

describe('trackCost with the catalog and a tokenizer', () => {
  it('should count gpt-4o deltas with the real tokenizer and price them at the catalog price', async () => {
    const gpt = (content: string): StreamingChunk => ({
      ...chunk({ content }),
      model: 'gpt-4o',
      provider: 'openai',
    });
    const costs: CostedChunk[] = await lastValueFrom(
      of(gpt('Hello'), gpt(','), gpt(' world'), gpt('!')).pipe(
        trackCost(defaultPricing, { estimateTokens: gptTokenEstimator }),
        toArray(),
      ),
    );
    const last = costs.at(-1)!.cost;
    expect(last.tokens.output).toBe(4);
    expect(last.estimated).toBe(true);
    expect(Math.abs(last.totalUsd! - (4 * 10) / 1e6)).toBeLessThan(1e-12);
  });
});
