import { lastValueFrom, toArray } from 'rxjs';
import type { TestScheduler } from 'rxjs/testing';
import type { CostSnapshot } from '../../src/cost/cost-snapshot';
import { estimatePromptTokens } from '../../src/cost/estimate-prompt-tokens';
import { createPricing } from '../../src/cost/pricing';
import { BudgetExceededError } from '../../src/errors/budget-exceeded-error';
import { ProviderError } from '../../src/errors/provider-error';
import { ValidationError } from '../../src/errors/validation-error';
import { budget } from '../../src/operators/budget';
import {
  chatRequest,
  keysPerProvider,
  latestEndedAttempt,
  runStream,
  useProviderSimulator,
} from '../helpers/provider-fixtures';
import { chunk, createComparingScheduler, usageChunk } from '../helpers/marbles';

/** $1 per token of every class, so costs read as token counts. */
const pricing = createPricing({ catalog: null, models: { m: { input: 1e6, output: 1e6 } } });

// With chars/4 at $1 per token: a, b, c cost $1 each; d (12 chars) costs $3.
const values = {
  r: chunk({ role: 'assistant' }),
  a: chunk({ content: 'abcd' }),
  b: chunk({ content: 'efgh' }),
  c: chunk({ content: 'ijkl' }),
  d: chunk({ content: 'mnopqrstuvwx' }),
};

describe('budget', () => {
  let testScheduler: TestScheduler;

  beforeEach(() => {
    testScheduler = createComparingScheduler();
  });

  it('should mirror the source and complete when the budget is never reached', () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold(' -r-a-b-c-|', values);
      const subs = '        ^--------!';
      const expected = '    -r-a-b-c-|';
      expectObservable(source.pipe(budget(10, { pricing }))).toBe(expected, values);
      expectSubscriptions(source.subscriptions).toBe(subs);
    });
  });

  it('should stop with BudgetExceededError at the chunk that goes over, and unsubscribe upstream', () => {
    testScheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const source = hot(' -a-b-c-a-b-|', values);
      const subs = '       ^----!';
      const expected = '   -a-b-#';
      const error = new BudgetExceededError(2.5, 3, { provider: 'p' });
      expectObservable(source.pipe(budget(2.5, { pricing }))).toBe(expected, values, error);
      expectSubscriptions(source.subscriptions).toBe(subs);
    });
  });

  it('should allow a cost that reaches the limit exactly', () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold(' -a-b-c-a-|', values);
      const subs = '        ^------!';
      const expected = '    -a-b-c-#';
      const error = new BudgetExceededError(3, 4, { provider: 'p' });
      expectObservable(source.pipe(budget(3, { pricing }))).toBe(expected, values, error);
      expectSubscriptions(source.subscriptions).toBe(subs);
    });
  });

  it('should not emit a chunk that crosses the budget in its middle', () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      // After a: $1. d carries 3 tokens: the limit ($2) falls inside it, so d is withheld and
      // the error reports what d cost too ($4: the provider generated it).
      const source = cold(' -a-d-b-|', values);
      const subs = '        ^--!';
      const expected = '    -a-#';
      const error = new BudgetExceededError(2, 4, { provider: 'p' });
      expectObservable(source.pipe(budget(2, { pricing }))).toBe(expected, values, error);
      expectSubscriptions(source.subscriptions).toBe(subs);
    });
  });

  it('should error instead of completing when the true-up at the end goes over', () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      // Estimated $2 after a and b; the usage says 3 in + 3 out = $6.
      const u = usageChunk({ prompt_tokens: 3, completion_tokens: 3, total_tokens: 6 });
      const source = cold(' -a-b-u|', { ...values, u });
      const subs = '        ^----!';
      const expected = '    -a-b-#';
      const error = new BudgetExceededError(5, 6, { provider: 'p' });
      expectObservable(source.pipe(budget(5, { pricing }))).toBe(expected, values, error);
      expectSubscriptions(source.subscriptions).toBe(subs);
    });
  });

  it('should complete when the true-up stays within the budget', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      const u = usageChunk({ prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 });
      const source = cold(' -a-b-u|', { ...values, u });
      expectObservable(source.pipe(budget(3, { pricing }))).toBe('-a-b-u|', { ...values, u });
    });
  });

  it('should count promptTokens from the first chunk on', () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold(' -r-a-|', values);
      const subs = '        ^--!';
      const expected = '    -r-#';
      const error = new BudgetExceededError(10.5, 11, { provider: 'p' });
      expectObservable(source.pipe(budget(10.5, { pricing, promptTokens: 10 }))).toBe(
        expected,
        values,
        error,
      );
      expectSubscriptions(source.subscriptions).toBe(subs);
    });
  });

  it('should fail an unpriced model at its first chunk with a ValidationError by default', () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const x = { ...values.a, model: 'nobody-knows' };
      const source = cold(' -x-x-|', { x });
      const subs = '        ^!';
      const expected = '    -#';
      const error = new ValidationError(
        [
          {
            path: 'model',
            message:
              "No price for p/nobody-knows: no catalog. Add one with createPricing({ models: { 'nobody-knows': { input, output } } }) (USD per million tokens). Or pass unpriced: 'allow' to budget() to stream it unchecked.",
          },
        ],
        { subject: 'budget', provider: 'p' },
      );
      expectObservable(source.pipe(budget(1, { pricing }))).toBe(expected, { x }, error);
      expectSubscriptions(source.subscriptions).toBe(subs);
    });
  });

  it("should let an unpriced model through with unpriced: 'allow'", () => {
    testScheduler.run(({ cold, expectObservable }) => {
      const x = { ...values.a, model: 'nobody-knows' };
      const source = cold(' -x-x-|', { x });
      expectObservable(source.pipe(budget(0, { pricing, unpriced: 'allow' }))).toBe('-x-x-|', {
        x,
      });
    });
  });

  it('should pass a source error through', () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const error = new ProviderError('overloaded', 'Overloaded', { provider: 'p' });
      const source = cold(' -a-#', values, error);
      const subs = '        ^--!';
      expectObservable(source.pipe(budget(10, { pricing }))).toBe('-a-#', values, error);
      expectSubscriptions(source.subscriptions).toBe(subs);
    });
  });

  it('should report every running cost to onCost, the one that went over included', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      const seen: (number | null)[] = [];
      const source = cold(' -a-b-c-|', values);
      const onCost = (cost: CostSnapshot): void => {
        seen.push(cost.totalUsd);
      };
      expectObservable(source.pipe(budget(1.5, { pricing, onCost }))).toBe(
        '-a-#',
        values,
        new BudgetExceededError(1.5, 2, { provider: 'p' }),
      );
      testScheduler.flush();
      expect(seen).toEqual([1, 2]);
    });
  });

  it('should reject a budget that is negative or not a finite number', () => {
    expect(() => budget(-1)).toThrow(ValidationError);
    expect(() => budget(Number.NaN)).toThrow(/maxUsd: expected a finite number of US dollars/);
    expect(() => budget(Number.POSITIVE_INFINITY)).toThrow(ValidationError);
  });
});

describe('budget against the simulator', () => {
  const env = useProviderSimulator({
    keys: keysPerProvider('budget'),
    simulator: { tokensPerSecond: 2_000 },
  });

  it('should abort the provider request as soon as the budget is exceeded', async () => {
    // $1 per output token of gpt-4o-mini: a $20 budget allows about 20 tokens of 100,000.
    const expensive = createPricing({ models: { 'gpt-4o-mini': { output: 1e6 } } });
    const provider = env.provider('openai', { headers: { 'x-simulator-tokens': '100000' } });
    const request = chatRequest('gpt-4o-mini', 'Tell me everything');
    const { chunks, error } = await runStream(
      provider.stream(request).pipe(budget(20, { pricing: expensive })),
    );

    expect(error).toBeInstanceOf(BudgetExceededError);
    expect((error as BudgetExceededError).spentUsd).toBeGreaterThan(20);
    // Only chunks within budget came through: about 20 one-word tokens of text.
    expect(chunks.length).toBeGreaterThan(5);
    expect(chunks.length).toBeLessThan(30);
    const attempt = await latestEndedAttempt(env.sim, (a) => a.model === 'gpt-4o-mini');
    expect(attempt.outcome).toBe('client-closed');
    expect(attempt.tokensSent).toBeLessThan(1_000);
  });

  it('should complete a stream that stays within budget and price it from the usage', async () => {
    const provider = env.provider('anthropic', { headers: { 'x-simulator-tokens': '40' } });
    const request = chatRequest('claude-haiku-4-5', 'A short answer please');
    const costs: CostSnapshot[] = [];
    const chunks = await lastValueFrom(
      provider.stream(request).pipe(
        budget(0.01, {
          promptTokens: estimatePromptTokens(request),
          onCost: (c) => costs.push(c),
        }),
        toArray(),
      ),
    );
    const last = costs.at(-1)!;
    expect(chunks.length).toBe(costs.length);
    expect(last.estimated).toBe(false);
    expect(last.tokens.output).toBe(40);
    // Published Claude Haiku 4.5 prices: $1 in, $5 out per million.
    const expected = (last.tokens.input * 1 + 40 * 5) / 1e6;
    expect(Math.abs(last.totalUsd! - expected)).toBeLessThan(1e-12);
  });
});
