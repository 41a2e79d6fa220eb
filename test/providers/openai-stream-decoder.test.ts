import type { StreamingChunk } from '../../src/chunk/streaming-chunk';
import { IncompleteStreamError } from '../../src/errors/incomplete-stream-error';
import { ParseError } from '../../src/errors/parse-error';
import { ProviderError } from '../../src/errors/provider-error';
import { RateLimitError } from '../../src/errors/rate-limit-error';
import { hasErrorCode, isRouterError } from '../../src/errors/router-error';
import { mapOpenAIFinishReason } from '../../src/providers/openai/map-openai-finish-reason';
import { createOpenAIDecoder } from '../../src/providers/openai/openai-stream-decoder';
import type { StreamDecoder } from '../../src/providers/stream-decoder';
import { FROZEN_NOW_MS, decodeAll, freezeNow } from '../helpers/fixtures';

const ID = 'chatcmpl-BvQ9e3XcJk7TqP2mZrA1sL8dN4fHw';
const MODEL = 'gpt-4o-mini-2024-07-18';
const CREATED = 1753184211;

/** One OpenAI chunk on the wire, with the fields OpenAI really sends around the choices. */
function wire(choices: unknown[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: ID,
    object: 'chat.completion.chunk',
    created: CREATED,
    model: MODEL,
    service_tier: 'default',
    system_fingerprint: 'fp_62a23a81ef',
    choices,
    usage: null,
    obfuscation: 'Kx3p',
    ...extra,
  };
}

function choice(delta: unknown, finishReason: unknown = null, index = 0): Record<string, unknown> {
  return { index, delta, logprobs: null, finish_reason: finishReason };
}

interface Harness {
  decoder: StreamDecoder;
  chunks: StreamingChunk[];
  /** Sends one `data:` payload (an object is JSON-encoded); returns the decoder's "done". */
  send(payload: unknown): boolean;
}

function harness(context: { model?: string; requestId?: string; provider?: string } = {}): Harness {
  const chunks: StreamingChunk[] = [];
  const decoder = createOpenAIDecoder({
    provider: context.provider ?? 'openai',
    model: context.model,
    requestId: context.requestId,
    emit: (chunk) => chunks.push(chunk),
  });
  return {
    decoder,
    chunks,
    send: (payload) =>
      decoder.event({
        id: undefined,
        event: undefined,
        data: typeof payload === 'string' ? payload : JSON.stringify(payload),
      }),
  };
}

/** Runs `fn` and returns what it threw. */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

/** Encodes payloads as an OpenAI SSE body (optionally ending with [DONE]). */
function body(payloads: unknown[], done: boolean): Uint8Array {
  const events = payloads.map((p) => `data: ${JSON.stringify(p)}\n\n`);
  if (done) events.push('data: [DONE]\n\n');
  return new TextEncoder().encode(events.join(''));
}

describe('mapOpenAIFinishReason', () => {
  it.each([
    ['stop', 'stop'],
    ['length', 'length'],
    ['tool_calls', 'tool_calls'],
    ['content_filter', 'content_filter'],
    ['function_call', 'function_call'],
    ['max_tokens', 'length'],
    ['model_length', 'length'],
    ['tool_use', 'tool_calls'],
    ['eos', 'stop'],
    ['end_turn', 'stop'],
    ['something_new', 'stop'],
  ])('should map %s to %s', (raw, mapped) => {
    expect(mapOpenAIFinishReason(raw)).toBe(mapped);
  });
});

describe('createOpenAIDecoder', () => {
  describe('log probabilities', () => {
    const token = (
      text: string,
      logprob: number,
      top: unknown[] = [],
    ): Record<string, unknown> => ({
      token: text,
      logprob,
      bytes: [...Buffer.from(text, 'utf8')],
      top_logprobs: top,
    });

    it("should keep a choice's logprobs, its entries checked", () => {
      const h = harness();
      h.send(
        wire([
          {
            ...choice({ content: 'Hi there' }),
            logprobs: {
              content: [
                token('Hi', -0.25, [{ token: 'Hi', logprob: -0.25, bytes: null }, { bad: 1 }]),
                { token: ' there' }, // no logprob: not an entry
                { ...token(' there', -1.5), bytes: ['x'] },
              ],
              refusal: null,
            },
          },
        ]),
      );
      expect(h.chunks[0]!.choices[0]!.logprobs).toEqual({
        content: [
          {
            token: 'Hi',
            logprob: -0.25,
            bytes: [72, 105],
            top_logprobs: [{ token: 'Hi', logprob: -0.25, bytes: null }],
          },
          { token: ' there', logprob: -1.5, bytes: null, top_logprobs: [] },
        ],
        refusal: null,
      });
    });

    it("should keep a delta's annotations (URL citations), and leave an empty list out", () => {
      const citation = {
        type: 'url_citation',
        url_citation: {
          url: 'https://example.com',
          title: 'Example',
          start_index: 0,
          end_index: 7,
        },
      };
      const h = harness();
      h.send(wire([choice({ content: 'Example', annotations: [citation, 'junk'] })]));
      h.send(wire([choice({ content: '.', annotations: [] })]));
      expect(h.chunks[0]!.choices[0]!.delta.annotations).toEqual([citation]);
      expect(h.chunks[1]!.choices[0]!.delta).not.toHaveProperty('annotations');
    });

    it('should leave logprobs out when they hold no token', () => {
      const h = harness();
      h.send(wire([{ ...choice({ content: 'a' }), logprobs: { content: [], refusal: null } }]));
      h.send(wire([{ ...choice({ content: 'b' }), logprobs: null }]));
      h.send(wire([{ ...choice({ content: 'c' }), logprobs: 'nonsense' }]));
      for (const chunk of h.chunks) expect(chunk.choices[0]).not.toHaveProperty('logprobs');
    });
  });

  describe('finish reasons', () => {
    it.each(['stop', 'length', 'tool_calls', 'content_filter', 'function_call'])(
      'should pass OpenAI’s own %s through without a raw_finish_reason',
      (reason) => {
        const h = harness();
        h.send(wire([choice({}, reason)]));
        expect(h.chunks[0]!.choices).toEqual([{ index: 0, delta: {}, finish_reason: reason }]);
        expect(h.chunks[0]!.choices[0]).not.toHaveProperty('raw_finish_reason');
      },
    );

    it.each([
      ['eos', 'stop'],
      ['max_tokens', 'length'],
      ['model_length', 'length'],
      ['tool_use', 'tool_calls'],
      ['abort', 'stop'],
    ])('should map a compatible server’s %s to %s and keep the raw value', (raw, mapped) => {
      const h = harness();
      h.send(wire([choice({}, raw)]));
      expect(h.chunks[0]!.choices[0]).toEqual({
        index: 0,
        delta: {},
        finish_reason: mapped,
        raw_finish_reason: raw,
      });
      expect(() => {
        h.decoder.end();
      }).not.toThrow();
    });

    it('should read finish_reason "" (Ollama, SGLang) as not finished', () => {
      const h = harness();
      h.send(wire([choice({ role: 'assistant', content: 'Hi' }, '')]));
      expect(h.chunks[0]!.choices[0]).toEqual({
        index: 0,
        delta: { role: 'assistant', content: 'Hi' },
        finish_reason: null,
      });
      // Without a real finish reason, the end of the body is a truncation.
      expect(
        thrown(() => {
          h.decoder.end();
        }),
      ).toBeInstanceOf(IncompleteStreamError);
      h.send(wire([choice({ content: '' }, 'stop')]));
      expect(() => {
        h.decoder.end();
      }).not.toThrow();
    });

    it('should read a missing or non-string finish_reason as null', () => {
      const h = harness();
      h.send(wire([{ index: 0, delta: { content: 'a' } }]));
      h.send(wire([choice({ content: 'b' }, 42)]));
      expect(h.chunks.map((c) => c.choices[0]!.finish_reason)).toEqual([null, null]);
    });

    it('should throw a retryable ProviderError for finish_reason "error" (OpenRouter)', () => {
      const h = harness({ provider: 'openrouter' });
      h.send(wire([choice({ content: 'partial' })]));
      const error = thrown(() => h.send(wire([choice({ content: '' }, 'error')])));
      expect(error).toBeInstanceOf(ProviderError);
      expect(error).toMatchObject({
        code: 'RXLLM_PROVIDER_SERVER_ERROR',
        kind: 'server_error',
        isRetryable: true,
        provider: 'openrouter',
      });
      expect((error as Error).message).toMatch(/finish_reason "error"/);
      // The chunk that carried the error is not emitted.
      expect(h.chunks).toHaveLength(1);
    });
  });

  describe('usage', () => {
    it('should map OpenAI usage with cached and reasoning tokens, deriving total_tokens', () => {
      const h = harness();
      h.send(
        wire([], {
          usage: {
            prompt_tokens: 1310,
            completion_tokens: 250,
            total_tokens: 999999, // ignored: derived from the parts
            prompt_tokens_details: { cached_tokens: 1152, audio_tokens: 0 },
            completion_tokens_details: {
              reasoning_tokens: 192,
              audio_tokens: 0,
              accepted_prediction_tokens: 0,
              rejected_prediction_tokens: 0,
            },
          },
        }),
      );
      expect(h.chunks).toEqual([
        {
          id: ID,
          object: 'chat.completion.chunk',
          created: CREATED,
          model: MODEL,
          provider: 'openai',
          choices: [],
          usage: {
            prompt_tokens: 1310,
            completion_tokens: 250,
            total_tokens: 1560,
            prompt_tokens_details: { cached_tokens: 1152 },
            completion_tokens_details: { reasoning_tokens: 192 },
          },
        },
      ]);
    });

    it('should read DeepSeek’s prompt_cache_hit_tokens as cached tokens', () => {
      const h = harness();
      h.send(
        wire([choice({ content: '' }, 'stop')], {
          model: 'deepseek-chat',
          usage: {
            prompt_tokens: 1200,
            completion_tokens: 40,
            total_tokens: 1240,
            prompt_cache_hit_tokens: 1024,
            prompt_cache_miss_tokens: 176,
          },
        }),
      );
      expect(h.chunks[0]!.usage).toEqual({
        prompt_tokens: 1200,
        completion_tokens: 40,
        total_tokens: 1240,
        prompt_tokens_details: { cached_tokens: 1024 },
      });
    });

    it('should prefer prompt_tokens_details.cached_tokens when DeepSeek sends both', () => {
      const h = harness();
      h.send(
        wire([], {
          usage: {
            prompt_tokens: 100,
            completion_tokens: 1,
            prompt_tokens_details: { cached_tokens: 64 },
            prompt_cache_hit_tokens: 64,
            prompt_cache_miss_tokens: 36,
          },
        }),
      );
      expect(h.chunks[0]!.usage?.prompt_tokens_details).toEqual({ cached_tokens: 64 });
    });

    it('should keep cache_write_tokens', () => {
      const h = harness();
      h.send(
        wire([], {
          usage: {
            prompt_tokens: 3000,
            completion_tokens: 10,
            prompt_tokens_details: { cached_tokens: 0, cache_write_tokens: 2048 },
          },
        }),
      );
      expect(h.chunks[0]!.usage?.prompt_tokens_details).toEqual({
        cached_tokens: 0,
        cache_write_tokens: 2048,
      });
    });

    it('should keep usage that arrives on a chunk with non-empty choices', () => {
      const h = harness();
      h.send(
        wire([choice({ content: '' }, 'stop')], {
          usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 },
        }),
      );
      expect(h.chunks[0]).toMatchObject({
        choices: [{ index: 0, finish_reason: 'stop' }],
        usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 },
      });
    });

    it('should ignore "usage": null and emit nothing for a chunk with no choices and no usage', () => {
      const h = harness();
      h.send(wire([]));
      h.send(wire([choice({ content: 'x' })]));
      expect(h.chunks).toHaveLength(1);
      expect(h.chunks[0]).not.toHaveProperty('usage');
    });
  });

  describe('in-band errors', () => {
    it('should throw a RateLimitError for rate_limit_exceeded', () => {
      const h = harness();
      const error = thrown(() =>
        h.send({
          error: {
            message:
              'Rate limit reached for gpt-4o-mini in organization org-abc on tokens per min (TPM): Limit 200000, Used 199000, Requested 2000. Please try again in 300ms.',
            type: 'tokens',
            param: null,
            code: 'rate_limit_exceeded',
          },
        }),
      );
      expect(error).toBeInstanceOf(RateLimitError);
      expect(error).toMatchObject({
        code: 'RXLLM_RATE_LIMITED',
        isRetryable: true,
        quotaExceeded: false,
        provider: 'openai',
        status: undefined,
      });
    });

    it('should throw a non-retryable RateLimitError for insufficient_quota', () => {
      const error = thrown(() =>
        harness().send({
          error: {
            message: 'You exceeded your current quota, please check your plan and billing details.',
            type: 'insufficient_quota',
            param: null,
            code: 'insufficient_quota',
          },
        }),
      );
      expect(error).toBeInstanceOf(RateLimitError);
      expect(error).toMatchObject({ isRetryable: false, quotaExceeded: true });
    });

    it('should classify context_length_exceeded', () => {
      const error = thrown(() =>
        harness().send({
          error: {
            message:
              "This model's maximum context length is 128000 tokens. However, your messages resulted in 130412 tokens. Please reduce the length of the messages.",
            type: 'invalid_request_error',
            param: 'messages',
            code: 'context_length_exceeded',
          },
        }),
      );
      expect(error).toBeInstanceOf(ProviderError);
      expect(hasErrorCode(error, 'RXLLM_CONTEXT_LENGTH_EXCEEDED')).toBe(true);
      expect(error).toMatchObject({
        kind: 'context_length_exceeded',
        isRetryable: false,
        providerCode: 'context_length_exceeded',
      });
    });

    it('should throw a retryable server error for server_error', () => {
      const h = harness();
      h.send(wire([choice({ role: 'assistant', content: '' })]));
      h.send(wire([choice({ content: 'Once' })]));
      const error = thrown(() =>
        h.send({
          error: {
            message: 'The server had an error while processing your request. Sorry about that!',
            type: 'server_error',
            param: null,
            code: null,
          },
        }),
      );
      expect(error).toBeInstanceOf(ProviderError);
      expect(error).toMatchObject({
        code: 'RXLLM_PROVIDER_SERVER_ERROR',
        kind: 'server_error',
        isRetryable: true,
        providerCode: 'server_error',
      });
      expect((error as Error).message).toMatch(/Sorry about that/);
      expect(h.chunks).toHaveLength(2);
    });

    it('should throw the error of a chunk that carries both error and choices (OpenRouter)', () => {
      const h = harness({ provider: 'openrouter' });
      const error = thrown(() =>
        h.send(
          wire([choice({ content: '' }, 'error')], {
            error: { code: 'server_error', message: 'Provider disconnected unexpectedly' },
          }),
        ),
      );
      expect(error).toMatchObject({ kind: 'server_error', isRetryable: true });
      expect((error as Error).message).toMatch(/Provider disconnected unexpectedly/);
      expect(h.chunks).toEqual([]);
    });

    it('should read OpenRouter’s numeric code as the upstream HTTP status', () => {
      const error = thrown(() =>
        harness({ provider: 'openrouter' }).send({
          error: { code: 429, message: 'Provider returned error' },
        }),
      );
      expect(error).toBeInstanceOf(RateLimitError);
      expect(error).toMatchObject({ status: 429, isRetryable: true });
    });

    it('should read an error that is a bare string', () => {
      const error = thrown(() => harness().send({ error: 'upstream timed out' }));
      expect(isRouterError(error)).toBe(true);
      expect((error as Error).message).toMatch(/upstream timed out/);
    });

    it('should ignore "error": null', () => {
      const h = harness();
      h.send(wire([choice({ content: 'ok' })], { error: null }));
      expect(h.chunks).toHaveLength(1);
    });

    it('should throw the error carried by bare JSON outside SSE framing', () => {
      const error = thrown(() => {
        harness().decoder.bareJson(
          { error: { message: 'Internal error', type: 'server_error', code: null } },
          '',
        );
      });
      expect(error).toMatchObject({ code: 'RXLLM_PROVIDER_SERVER_ERROR', isRetryable: true });
    });
  });

  describe('stream end', () => {
    it('should return true for [DONE] and false for other events', () => {
      const h = harness();
      expect(h.send(wire([choice({ content: 'x' })]))).toBe(false);
      expect(h.send('')).toBe(false);
      expect(h.send('[DONE]')).toBe(true);
    });

    it('should throw IncompleteStreamError at the end when no choice finished', () => {
      const h = harness();
      h.send(wire([choice({ role: 'assistant', content: '' })]));
      h.send(wire([choice({ content: 'The answer is' })]));
      const error = thrown(() => {
        h.decoder.end();
      });
      expect(error).toBeInstanceOf(IncompleteStreamError);
      expect(error).toMatchObject({ code: 'RXLLM_INCOMPLETE_STREAM', isRetryable: true });
    });

    it('should throw IncompleteStreamError at the end of an empty stream', () => {
      expect(
        thrown(() => {
          harness().decoder.end();
        }),
      ).toBeInstanceOf(IncompleteStreamError);
    });

    it('should throw IncompleteStreamError when one of n=2 choices finished and the other did not', () => {
      const h = harness();
      h.send(wire([choice({ role: 'assistant', content: '' }, null, 0)]));
      h.send(wire([choice({ role: 'assistant', content: '' }, null, 1)]));
      h.send(wire([choice({ content: 'Blue' }, null, 0)]));
      h.send(wire([choice({ content: 'The' }, null, 1)]));
      h.send(wire([choice({}, 'stop', 0)]));
      expect(
        thrown(() => {
          h.decoder.end();
        }),
      ).toBeInstanceOf(IncompleteStreamError);
      h.send(wire([choice({}, 'stop', 1)]));
      expect(() => {
        h.decoder.end();
      }).not.toThrow();
    });

    it('should complete when every choice finished, without [DONE]', async () => {
      const bytes = body(
        [
          wire([choice({ role: 'assistant', content: 'Sure.' })]),
          wire([choice({}, 'stop')]),
          wire([], { usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 } }),
        ],
        false,
      );
      const outcome = await decodeAll('openai', bytes);
      expect(outcome.error).toBeUndefined();
      expect(outcome.chunks).toHaveLength(3);
    });

    it.each([[[]], [[1]], [[5, 17]]])(
      'should error with IncompleteStreamError through decodeProviderStream when an n=2 stream ends with one choice open (pieces %j)',
      async (sizes) => {
        const bytes = body(
          [
            wire([choice({ role: 'assistant', content: '' }, null, 0)]),
            wire([choice({ role: 'assistant', content: '' }, null, 1)]),
            wire([choice({ content: 'Blue skies.' }, null, 0)]),
            wire([choice({ content: 'The ocean' }, null, 1)]),
            wire([choice({}, 'stop', 0)]),
          ],
          false,
        );
        const outcome = await decodeAll('openai', bytes, sizes);
        expect(outcome.error).toEqual({
          name: 'IncompleteStreamError',
          code: 'RXLLM_INCOMPLETE_STREAM',
          isRetryable: true,
        });
        expect(outcome.chunks).toHaveLength(5);
      },
    );
  });

  describe('chunks', () => {
    afterEach(() => jest.restoreAllMocks());

    it('should throw a ParseError that quotes malformed JSON', () => {
      const error = thrown(() =>
        harness().send('{"id":"chatcmpl-x","choices":[{"delta":{"content":"wor'),
      );
      expect(error).toBeInstanceOf(ParseError);
      expect(error).toMatchObject({ code: 'RXLLM_PARSE', provider: 'openai' });
      expect((error as ParseError).excerpt).toContain('"content":"wor');
    });

    it('should ignore JSON that is not an object', () => {
      const h = harness();
      expect(h.send('[1,2]')).toBe(false);
      expect(h.send('"text"')).toBe(false);
      expect(h.chunks).toEqual([]);
    });

    it('should fall back to the context id, model and the current time', () => {
      freezeNow();
      const h = harness({ model: 'fallback-model', requestId: 'req_1' });
      h.send({ id: '', model: '', choices: [choice({ content: 'a' })] });
      expect(h.chunks[0]).toMatchObject({
        id: 'req_1',
        model: 'fallback-model',
        created: Math.floor(FROZEN_NOW_MS / 1000),
      });
    });

    it('should skip Azure’s prompt-filter preamble', () => {
      const h = harness();
      h.send({
        choices: [],
        created: 0,
        id: '',
        model: '',
        object: '',
        prompt_filter_results: [{ prompt_index: 0, content_filter_results: {} }],
      });
      expect(h.chunks).toEqual([]);
    });

    it('should read reasoning_content (DeepSeek, vLLM) and reasoning (OpenRouter)', () => {
      const h = harness();
      h.send(wire([choice({ content: null, reasoning_content: 'Let me think' })]));
      h.send(wire([choice({ content: '', reasoning: ' more' })]));
      h.send(wire([choice({ content: 'Hi', reasoning_content: null })]));
      expect(h.chunks.map((c) => c.choices[0]!.delta)).toEqual([
        { content: null, reasoning: 'Let me think' },
        { content: '', reasoning: ' more' },
        { content: 'Hi' },
      ]);
    });

    it('should keep a refusal, starting with content null and refusal ""', () => {
      const h = harness();
      h.send(wire([choice({ role: 'assistant', content: null, refusal: '' })]));
      h.send(wire([choice({ refusal: "I can't help with that." })]));
      expect(h.chunks.map((c) => c.choices[0]!.delta)).toEqual([
        { role: 'assistant', content: null, refusal: '' },
        { refusal: "I can't help with that." },
      ]);
    });

    it('should decode tool-call deltas, dropping empty ids and names', () => {
      const h = harness();
      h.send(
        wire([
          choice({
            role: 'assistant',
            content: null,
            tool_calls: [
              {
                index: 0,
                id: 'call_3Jd8aQv0pLk2xNcW7sYtRb1M',
                type: 'function',
                function: { name: 'get_weather', arguments: '' },
              },
            ],
          }),
        ]),
      );
      h.send(wire([choice({ tool_calls: [{ index: 0, function: { arguments: '{"city"' } }] })]));
      // Some servers repeat empty id and name fields on every piece, or omit the index.
      h.send(
        wire([
          choice({
            tool_calls: [{ id: '', type: null, function: { name: '', arguments: ': "Paris"}' } }],
          }),
        ]),
      );
      h.send(wire([choice({ tool_calls: [] })]));
      expect(h.chunks.map((c) => c.choices[0]!.delta)).toEqual([
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            {
              index: 0,
              id: 'call_3Jd8aQv0pLk2xNcW7sYtRb1M',
              type: 'function',
              function: { name: 'get_weather', arguments: '' },
            },
          ],
        },
        { tool_calls: [{ index: 0, function: { arguments: '{"city"' } }] },
        { tool_calls: [{ index: 0, function: { arguments: ': "Paris"}' } }] },
        {},
      ]);
    });

    it('should stamp the configured provider name, not a provider field in the chunk', () => {
      const h = harness({ provider: 'openrouter' });
      h.send(wire([choice({ content: 'x' })], { provider: 'Anthropic' }));
      expect(h.chunks[0]!.provider).toBe('openrouter');
    });
  });
});
