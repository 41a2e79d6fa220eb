import { encode } from 'gpt-tokenizer/encoding/o200k_base';
import { estimatePromptTokens } from '../../src/cost/estimate-prompt-tokens';
import { gptTokenEstimator } from '../../src/cost/gpt-token-estimator';
import { estimateTokensByChars } from '../../src/cost/token-estimator';

describe('estimateTokensByChars', () => {
  it('should count a quarter token per UTF-16 code unit, fractions included', () => {
    expect(estimateTokensByChars('abcd', 'any')).toBe(1);
    expect(estimateTokensByChars('abcdef', 'any')).toBe(1.5);
    expect(estimateTokensByChars('', 'any')).toBe(0);
  });
});

describe('gptTokenEstimator', () => {
  it.each(['gpt-4o', 'gpt-4o-mini-2024-07-18', 'gpt-4.1', 'gpt-5', 'o3-mini', 'openai/gpt-4o'])(
    'should count %s with the o200k_base tokenizer',
    (model) => {
      const text = ' Hello, world! Ünïcödé 東京 🌊 and some code: const x = 1;';
      expect(gptTokenEstimator(text, model)).toBe(encode(text).length);
    },
  );

  it.each(['claude-sonnet-4-5', 'gemini-2.5-flash', 'gpt-4', 'gpt-3.5-turbo', 'llama-3'])(
    'should fall back to four characters per token for %s',
    (model) => {
      expect(gptTokenEstimator('abcdefgh', model)).toBe(2);
    },
  );

  it('should count special-token markup as plain text instead of throwing', () => {
    expect(gptTokenEstimator('a <|endoftext|> b', 'gpt-4o')).toBeGreaterThan(2);
  });
});

describe('estimatePromptTokens', () => {
  it('should count message text, tool calls, tool definitions and framing', () => {
    const byWords = (text: string): number => text.split(' ').filter(Boolean).length;
    const tokens = estimatePromptTokens(
      {
        model: 'm',
        messages: [
          { role: 'system', content: 'be brief' },
          { role: 'user', content: [{ type: 'text', text: 'one two three' }] },
          {
            role: 'assistant',
            content: null,
            tool_calls: [
              { id: 'c', type: 'function', function: { name: 'lookup', arguments: '{"q": "x"}' } },
            ],
          },
          { role: 'tool', tool_call_id: 'c', content: 'result here' },
        ],
        tools: [{ type: 'function', function: { name: 'lookup' } }],
      },
      byWords,
    );
    // 3 reply + 4 × 3 framing + 2 + 3 + (1 + 2) + 2 + 1 tool JSON without spaces
    expect(tokens).toBe(3 + 12 + 2 + 3 + 3 + 2 + 1);
  });

  it('should use four characters per token by default and round up', () => {
    expect(
      estimatePromptTokens({ model: 'm', messages: [{ role: 'user', content: 'abcde' }] }),
    ).toBe(Math.ceil(3 + 3 + 5 / 4));
  });
});
