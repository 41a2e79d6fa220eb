import type { TestScheduler } from 'rxjs/testing';
import { ProviderError } from '../../src/errors/provider-error';
import { textDeltas } from '../../src/operators/text-deltas';
import { chunk, createScheduler, withChoices } from '../helpers/marbles';

describe('textDeltas', () => {
  let testScheduler: TestScheduler;

  beforeEach(() => {
    testScheduler = createScheduler();
  });

  it('should emit the non-empty content of choice 0', () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const chunks = {
        r: chunk({ role: 'assistant' }),
        a: chunk({ content: 'Hel' }),
        e: chunk({ content: '' }),
        n: chunk({ content: null, refusal: '' }),
        b: chunk({ content: 'lo' }),
        u: {
          ...withChoices([]),
          usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 },
        },
      };
      const source = cold(' -r-a-e-n-b-u-|', chunks);
      const subs = '        ^------------!';
      const expected = '    ---a-----b---|';
      expectObservable(source.pipe(textDeltas())).toBe(expected, { a: 'Hel', b: 'lo' });
      expectSubscriptions(source.subscriptions).toBe(subs);
    });
  });

  it('should skip refusals, reasoning and tool-call arguments', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      const chunks = {
        f: chunk({ refusal: 'No.' }),
        g: chunk({ reasoning: 'Thinking' }),
        t: chunk({ tool_calls: [{ index: 0, function: { arguments: '{"a":' } }] }),
        a: chunk({ content: 'ok' }),
      };
      expectObservable(cold('f-g-t-a|', chunks).pipe(textDeltas())).toBe('------a|', {
        a: 'ok',
      });
    });
  });

  it('should read the choice with the given index, wherever it sits in choices', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      const chunks = {
        x: withChoices([
          { index: 1, delta: { content: 'one' }, finish_reason: null },
          { index: 0, delta: { content: 'zero' }, finish_reason: null },
        ]),
        y: chunk({ content: 'only zero' }),
      };
      const source = cold('x-y|', chunks);
      expectObservable(source.pipe(textDeltas())).toBe('x-y|', { x: 'zero', y: 'only zero' });
      expectObservable(source.pipe(textDeltas({ choice: 1 }))).toBe('x--|', { x: 'one' });
    });
  });

  it('should pass an error through, after the text before it', () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const failure = new ProviderError('server_error', 'Boom');
      const source = cold('-a-#', { a: chunk({ content: 'Hi' }) }, failure);
      expectObservable(source.pipe(textDeltas())).toBe('-a-#', { a: 'Hi' }, failure);
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
  });

  it('should unsubscribe from the source when unsubscribed', () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a---a-|', { a: chunk({ content: 'Hi' }) });
      expectObservable(source.pipe(textDeltas()), '---!').toBe('-a-', { a: 'Hi' });
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
  });

  it('should throw a helpful RangeError for an invalid choice', () => {
    expect(() => textDeltas({ choice: -1 })).toThrow(/choice must be a choice index/);
    expect(() => textDeltas({ choice: 0.5 })).toThrow(RangeError);
  });
});
