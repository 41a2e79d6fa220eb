import type { FinishReason, StreamingChunk } from '../../src/chunk/streaming-chunk';
import { IncompleteStreamError } from '../../src/errors/incomplete-stream-error';
import { ParseError } from '../../src/errors/parse-error';
import { ProviderError } from '../../src/errors/provider-error';
import { RateLimitError } from '../../src/errors/rate-limit-error';
import { createGoogleDecoder } from '../../src/providers/google/google-stream-decoder';
import { mapGoogleFinishReason } from '../../src/providers/google/map-google-finish-reason';
import { parseGoogleRetryDelay } from '../../src/providers/google/parse-retry-delay';
import type { StreamDecoder } from '../../src/providers/stream-decoder';
import { FROZEN_NOW_MS, freezeNow } from '../helpers/fixtures';

interface Harness {
  decoder: StreamDecoder;
  chunks: StreamingChunk[];
  /** Feeds one `data:` event built from `json`. */
  send: (json: unknown) => void;
}

function harness(options: { model?: string; requestId?: string } = {}): Harness {
  const chunks: StreamingChunk[] = [];
  const decoder = createGoogleDecoder({
    provider: 'google',
    model: options.model,
    requestId: options.requestId,
    emit: (chunk) => chunks.push(chunk),
  });
  return {
    decoder,
    chunks,
    send(json) {
      expect(decoder.event({ data: JSON.stringify(json) })).toBe(false);
    },
  };
}

const text = (value: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  content: { parts: [{ text: value }], role: 'model' },
  index: 0,
  ...extra,
});

function caught(fn: () => void): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

beforeEach(() => {
  freezeNow();
});
afterEach(() => jest.restoreAllMocks());

describe('mapGoogleFinishReason', () => {
  it.each<[string, FinishReason]>([
    ['STOP', 'stop'],
    ['MAX_TOKENS', 'length'],
    ['SAFETY', 'content_filter'],
    ['RECITATION', 'content_filter'],
    ['BLOCKLIST', 'content_filter'],
    ['PROHIBITED_CONTENT', 'content_filter'],
    ['SPII', 'content_filter'],
    ['IMAGE_SAFETY', 'content_filter'],
    ['IMAGE_PROHIBITED_CONTENT', 'content_filter'],
    ['IMAGE_RECITATION', 'content_filter'],
    ['MALFORMED_FUNCTION_CALL', 'stop'],
    ['UNEXPECTED_TOOL_CALL', 'stop'],
    ['LANGUAGE', 'stop'],
    ['OTHER', 'stop'],
    ['FINISH_REASON_UNSPECIFIED', 'stop'],
    ['SOMETHING_NEW', 'stop'],
  ])('should map %s to %s', (raw, mapped) => {
    expect(mapGoogleFinishReason(raw)).toBe(mapped);
  });

  it('should map STOP to tool_calls only when the candidate called a function', () => {
    expect(mapGoogleFinishReason('STOP', true)).toBe('tool_calls');
    expect(mapGoogleFinishReason('MAX_TOKENS', true)).toBe('length');
    expect(mapGoogleFinishReason('MALFORMED_FUNCTION_CALL', true)).toBe('stop');
    expect(mapGoogleFinishReason('SAFETY', true)).toBe('content_filter');
  });
});

describe('parseGoogleRetryDelay', () => {
  const retryInfo = (retryDelay: unknown): Record<string, unknown> => ({
    '@type': 'type.googleapis.com/google.rpc.RetryInfo',
    retryDelay,
  });

  it.each<[string, number]>([
    ['34.4s', 34400],
    ['34s', 34000],
    ['0.5s', 500],
    ['0s', 0],
    ['34.407227262s', 34408],
    ['1.000000001s', 1001],
  ])('should read %s as %d ms, rounding up', (delay, ms) => {
    expect(parseGoogleRetryDelay({ details: [retryInfo(delay)] })).toBe(ms);
  });

  it('should accept the whole body, the error object or the details array', () => {
    const details = [{ '@type': 'type.googleapis.com/google.rpc.Help' }, retryInfo('2s')];
    expect(parseGoogleRetryDelay({ error: { code: 429, details } })).toBe(2000);
    expect(parseGoogleRetryDelay({ code: 429, details })).toBe(2000);
    expect(parseGoogleRetryDelay(details)).toBe(2000);
  });

  it('should read the {seconds, nanos} form', () => {
    expect(parseGoogleRetryDelay([retryInfo({ seconds: '3', nanos: 500000000 })])).toBe(3500);
    expect(parseGoogleRetryDelay([retryInfo({ seconds: 1 })])).toBe(1000);
  });

  it('should return undefined when there is no readable delay', () => {
    expect(parseGoogleRetryDelay(undefined)).toBeUndefined();
    expect(parseGoogleRetryDelay({ error: { code: 503, message: 'x' } })).toBeUndefined();
    expect(parseGoogleRetryDelay([{ '@type': 'type.googleapis.com/google.rpc.Help' }])).toBe(
      undefined,
    );
    for (const bad of ['34', '-1s', 'abc', '1.5ms', '', 12, { seconds: '-3' }])
      expect(parseGoogleRetryDelay([retryInfo(bad)])).toBeUndefined();
  });

  it('should skip an unreadable delay for a later readable one', () => {
    expect(parseGoogleRetryDelay([retryInfo('soon'), retryInfo('7s')])).toBe(7000);
  });
});

describe('createGoogleDecoder', () => {
  it("should turn a candidate's logprobsResult into OpenAI's logprobs, step by step", () => {
    const { send, chunks } = harness();
    const logprobsResult = {
      topCandidates: [
        {
          candidates: [
            { token: 'Hé', tokenId: 1, logProbability: -0.1 },
            { token: 'Hi', tokenId: 2, logProbability: -2.5 },
          ],
        },
      ],
      chosenCandidates: [{ token: 'Hé', tokenId: 1, logProbability: -0.1 }, { junk: true }],
    };
    send({ candidates: [text('Hé', { logprobsResult })] });
    send({ candidates: [text('!', { logprobsResult: { chosenCandidates: [] } })] });
    expect(chunks[0]?.choices[0]?.logprobs).toEqual({
      content: [
        {
          token: 'Hé',
          logprob: -0.1,
          bytes: [72, 195, 169],
          top_logprobs: [
            { token: 'Hé', logprob: -0.1, bytes: [72, 195, 169] },
            { token: 'Hi', logprob: -2.5, bytes: [72, 105] },
          ],
        },
      ],
      refusal: null,
    });
    expect(chunks[1]?.choices[0]).not.toHaveProperty('logprobs');
  });

  it('should compute usage with OpenAI semantics, ignoring totalTokenCount', () => {
    const { send, chunks } = harness();
    send({
      candidates: [text('Hi', { finishReason: 'STOP' })],
      usageMetadata: {
        promptTokenCount: 1000,
        cachedContentTokenCount: 600,
        candidatesTokenCount: 20,
        thoughtsTokenCount: 80,
        toolUsePromptTokenCount: 400,
        totalTokenCount: 1500,
      },
    });
    expect(chunks[0]?.usage).toEqual({
      prompt_tokens: 1000,
      completion_tokens: 100,
      total_tokens: 1100,
      prompt_tokens_details: { cached_tokens: 600 },
      completion_tokens_details: { reasoning_tokens: 80 },
    });
  });

  it('should emit usage once, the last seen, on the chunk that finishes the answer', () => {
    const { send, chunks } = harness();
    send({ candidates: [text('a')], usageMetadata: { promptTokenCount: 10 } });
    send({
      candidates: [text('b')],
      usageMetadata: { promptTokenCount: 10, cachedContentTokenCount: 4 },
    });
    send({
      candidates: [text('c', { finishReason: 'STOP' })],
      usageMetadata: { promptTokenCount: 12, candidatesTokenCount: 3, cachedContentTokenCount: 4 },
    });
    expect(chunks.map((c) => c.usage)).toEqual([
      undefined,
      undefined,
      {
        prompt_tokens: 12,
        completion_tokens: 3,
        total_tokens: 15,
        prompt_tokens_details: { cached_tokens: 4 },
      },
    ]);
  });

  it('should follow a later usage change with a usage-only chunk, and a repeat with nothing', () => {
    const { send, chunks } = harness();
    send({ candidates: [text('a', { finishReason: 'STOP' })] });
    expect(chunks).toHaveLength(1);
    expect(chunks[0]?.usage).toBeUndefined();
    send({ usageMetadata: { promptTokenCount: 5, candidatesTokenCount: 1 } });
    send({ usageMetadata: { promptTokenCount: 5, candidatesTokenCount: 1 } });
    expect(chunks).toHaveLength(2);
    expect(chunks[1]?.choices).toEqual([]);
    expect(chunks[1]?.usage).toEqual({ prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 });
  });

  it('should report a STOP after a functionCall as tool_calls, with the whole call in one delta', () => {
    const { send, chunks, decoder } = harness();
    send({
      candidates: [
        {
          content: {
            parts: [
              {
                functionCall: { name: 'lookup', args: { q: 'x' } },
                thoughtSignature: 'sig==',
              },
            ],
            role: 'model',
          },
          index: 0,
        },
      ],
      responseId: 'resp1',
    });
    send({ candidates: [text('', { finishReason: 'STOP' })], responseId: 'resp1' });
    decoder.end();
    expect(chunks[0]?.choices[0]?.delta).toEqual({
      role: 'assistant',
      reasoning_signature: 'sig==',
      tool_calls: [
        {
          index: 0,
          id: 'call_resp1_0',
          type: 'function',
          function: { name: 'lookup', arguments: '{"q":"x"}' },
        },
      ],
    });
    expect(chunks[1]?.choices[0]).toEqual({
      index: 0,
      delta: {},
      finish_reason: 'tool_calls',
      raw_finish_reason: 'STOP',
    });
  });

  it("should keep a functionCall's own id, and fall back to the request id, then to a counter", () => {
    const call = (id?: string): Record<string, unknown> => ({
      candidates: [
        {
          content: { parts: [{ functionCall: { name: 'f', ...(id ? { id } : {}) } }] },
          index: 0,
        },
      ],
    });
    const withRequest = harness({ requestId: 'req9' });
    withRequest.send(call('fc-own'));
    withRequest.send(call());
    expect(withRequest.chunks.map((c) => c.choices[0]?.delta.tool_calls?.[0]?.id)).toEqual([
      'fc-own',
      'call_req9_0',
    ]);
    expect(withRequest.chunks[1]?.choices[0]?.delta.tool_calls?.[0]).toMatchObject({
      index: 1,
      function: { name: 'f', arguments: '{}' },
    });
    const bare = harness();
    bare.send(call());
    expect(bare.chunks[0]?.choices[0]?.delta.tool_calls?.[0]?.id).toBe('call_0');
  });

  it('should split thought parts into reasoning and text parts into content', () => {
    const { send, chunks } = harness();
    send({
      candidates: [
        {
          content: {
            parts: [
              { text: 'think ', thought: true },
              { text: 'more', thought: true },
              { text: 'Answer' },
              { text: '' },
            ],
          },
        },
      ],
    });
    expect(chunks[0]?.choices[0]?.delta).toEqual({
      role: 'assistant',
      reasoning: 'think more',
      content: 'Answer',
    });
  });

  it('should use responseId and modelVersion, else the context, and stamp created once', () => {
    const { send, chunks } = harness({ model: 'gemini-2.5-flash', requestId: 'req1' });
    send({ candidates: [text('a')] });
    send({ candidates: [text('b')], responseId: 'r2', modelVersion: 'gemini-2.5-flash-001' });
    expect(chunks.map((c) => [c.id, c.model, c.created])).toEqual([
      ['req1', 'gemini-2.5-flash', FROZEN_NOW_MS / 1000],
      ['r2', 'gemini-2.5-flash-001', FROZEN_NOW_MS / 1000],
    ]);
  });

  it('should report a blocked prompt as a complete content_filter answer', () => {
    const { send, chunks, decoder } = harness();
    send({
      promptFeedback: { blockReason: 'PROHIBITED_CONTENT' },
      usageMetadata: { promptTokenCount: 7, totalTokenCount: 7 },
    });
    expect(() => {
      decoder.end();
    }).not.toThrow();
    expect(chunks[0]?.choices).toEqual([
      {
        index: 0,
        delta: { role: 'assistant' },
        finish_reason: 'content_filter',
        raw_finish_reason: 'PROHIBITED_CONTENT',
      },
    ]);
    expect(chunks[0]?.usage).toEqual({ prompt_tokens: 7, completion_tokens: 0, total_tokens: 7 });
  });

  it('should throw IncompleteStreamError at the end unless every candidate finished', () => {
    const empty = harness();
    expect(
      caught(() => {
        empty.decoder.end();
      }),
    ).toBeInstanceOf(IncompleteStreamError);

    const oneOpen = harness();
    oneOpen.send({
      candidates: [text('a', { finishReason: 'STOP' }), { ...text('b'), index: 1 }],
    });
    expect(
      caught(() => {
        oneOpen.decoder.end();
      }),
    ).toBeInstanceOf(IncompleteStreamError);
    oneOpen.send({ candidates: [{ finishReason: 'MAX_TOKENS', index: 1 }] });
    expect(() => {
      oneOpen.decoder.end();
    }).not.toThrow();
  });

  it('should throw an error sent in a data event, with the RetryInfo delay', () => {
    const { decoder } = harness();
    const error = caught(() =>
      decoder.event({
        data: JSON.stringify({
          error: {
            code: 429,
            message: 'Resource has been exhausted (e.g. check quota).',
            status: 'RESOURCE_EXHAUSTED',
            details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '1.5s' }],
          },
        }),
      }),
    );
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error).toMatchObject({ status: 429, retryAfterMs: 1500, isRetryable: true });
  });

  it('should throw the error carried by bare JSON as a typed error', () => {
    const { decoder } = harness();
    const body = { error: { code: 500, message: 'Internal error', status: 'INTERNAL' } };
    const error = caught(() => {
      decoder.bareJson(body, JSON.stringify(body, null, 2));
    });
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ kind: 'server_error', status: 500, isRetryable: true });
  });

  it('should throw the error of a bare JSON array, and explain alt=sse when there is none', () => {
    const { decoder } = harness();
    const withError = [{ error: { code: 503, message: 'Overloaded', status: 'UNAVAILABLE' } }];
    expect(
      caught(() => {
        decoder.bareJson(withError, '[...]');
      }),
    ).toMatchObject({ status: 503 });
    const responses = [{ candidates: [text('a')] }];
    const error = caught(() => {
      decoder.bareJson(responses, '[...]');
    });
    expect(error).toBeInstanceOf(ParseError);
    expect((error as Error).message).toMatch(/alt=sse/);
  });

  it('should throw a ParseError for a malformed event', () => {
    const { decoder } = harness();
    expect(caught(() => decoder.event({ data: '{"candidates": [' }))).toBeInstanceOf(ParseError);
  });

  it('should skip events that carry nothing new', () => {
    const { send, chunks } = harness();
    send({ candidates: [text('a')] });
    send({ candidates: [text('')], usageMetadata: { promptTokenCount: 3 } });
    send({ modelVersion: 'gemini-2.5-flash' });
    expect(chunks).toHaveLength(1);
  });
});
