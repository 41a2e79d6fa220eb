import type { ChatRequest } from '../../src/request/chat-request';
import { toOpenAIRequest } from '../../src/providers/openai/convert-to-openai-request';

function request(extra: Record<string, unknown> = {}): ChatRequest {
  return {
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: 'Hi' }],
    ...extra,
  };
}

describe('toOpenAIRequest', () => {
  it('should pass the request through with stream: true and include_usage', () => {
    expect(toOpenAIRequest(request({ temperature: 0.2, max_tokens: 50 }))).toEqual({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Hi' }],
      temperature: 0.2,
      max_tokens: 50,
      stream: true,
      stream_options: { include_usage: true },
    });
  });

  it('should keep unknown extra fields', () => {
    const body = toOpenAIRequest(
      request({ logit_bias: { '50256': -100 }, provider: { order: ['a'] }, store: false }),
    ) as unknown as Record<string, unknown>;
    expect(body.logit_bias).toEqual({ '50256': -100 });
    expect(body.provider).toEqual({ order: ['a'] });
    expect(body.store).toBe(false);
  });

  it('should always set include_usage: true, even when the caller turned it off', () => {
    const body = toOpenAIRequest(
      request({ stream: false, stream_options: { include_usage: false } }),
    );
    expect(body.stream).toBe(true);
    expect(body.stream_options).toEqual({ include_usage: true });
  });

  it('should keep the other stream_options keys', () => {
    const body = toOpenAIRequest(request({ stream_options: { include_obfuscation: false } }));
    expect(body.stream_options).toEqual({ include_obfuscation: false, include_usage: true });
  });

  it('should treat stream_options: null as absent', () => {
    expect(toOpenAIRequest(request({ stream_options: null })).stream_options).toEqual({
      include_usage: true,
    });
  });

  it('should replace the model with options.model', () => {
    expect(toOpenAIRequest(request(), { model: 'gpt-4o-mini-2024-07-18' }).model).toBe(
      'gpt-4o-mini-2024-07-18',
    );
  });

  it('should strip the router-only fields models and fallbacks', () => {
    const body = toOpenAIRequest(
      request({ models: ['openai/gpt-4o', 'anthropic/claude'], fallbacks: [{ model: 'x' }] }),
    );
    expect(body).not.toHaveProperty('models');
    expect(body).not.toHaveProperty('fallbacks');
  });

  it('should not mutate the input request', () => {
    const input = request({ fallbacks: ['b'], stream_options: { include_usage: false } });
    const copy = structuredClone(input);
    toOpenAIRequest(input, { model: 'other' });
    expect(input).toEqual(copy);
  });
});
