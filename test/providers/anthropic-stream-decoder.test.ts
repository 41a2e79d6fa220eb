import fc from 'fast-check';
import type { StreamingChunk } from '../../src/chunk/streaming-chunk';
import { IncompleteStreamError } from '../../src/errors/incomplete-stream-error';
import { ParseError } from '../../src/errors/parse-error';
import { ProviderError } from '../../src/errors/provider-error';
import { RateLimitError } from '../../src/errors/rate-limit-error';
import {
  convertAnthropicUsage,
  createAnthropicDecoder,
} from '../../src/providers/anthropic/anthropic-stream-decoder';
import { mapAnthropicFinishReason } from '../../src/providers/anthropic/map-anthropic-finish-reason';
import type { StreamDecoder } from '../../src/providers/stream-decoder';

interface Harness {
  decoder: StreamDecoder;
  chunks: StreamingChunk[];
  /** Sends one event as `event: <type>` + `data: <json>`; returns what event() returned. */
  send(type: string, payload: Record<string, unknown>): boolean;
}

function harness(context: { model?: string; requestId?: string } = {}): Harness {
  const chunks: StreamingChunk[] = [];
  const decoder = createAnthropicDecoder({
    provider: 'anthropic',
    model: context.model,
    requestId: context.requestId,
    emit: (chunk) => chunks.push(chunk),
  });
  return {
    decoder,
    chunks,
    send: (type, payload) =>
      decoder.event({ event: type, data: JSON.stringify({ type, ...payload }) }),
  };
}

function messageStart(usage: Record<string, unknown> = { input_tokens: 10, output_tokens: 1 }) {
  return {
    message: {
      id: 'msg_01TestAbCdEfGhIjKlMnOpQr',
      type: 'message',
      role: 'assistant',
      model: 'claude-sonnet-4-5-20250929',
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage,
    },
  };
}

function messageDelta(stopReason: string | null, usage: Record<string, unknown>) {
  return { delta: { stop_reason: stopReason, stop_sequence: null }, usage };
}

function toolUse(index: number, id: string, name: string, input: Record<string, unknown> = {}) {
  return { index, content_block: { type: 'tool_use', id, name, input } };
}

function jsonDelta(index: number, partialJson: string) {
  return { index, delta: { type: 'input_json_delta', partial_json: partialJson } };
}

/** The error `fn` throws. */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

afterEach(() => jest.restoreAllMocks());

describe('createAnthropicDecoder', () => {
  describe('usage', () => {
    it('should count cache reads and writes in prompt_tokens, with OpenAI semantics', () => {
      const h = harness();
      h.send(
        'message_start',
        messageStart({
          input_tokens: 100,
          cache_creation_input_tokens: 20,
          cache_read_input_tokens: 300,
          output_tokens: 1,
        }),
      );
      h.send('message_delta', messageDelta('end_turn', { output_tokens: 50 }));

      expect(h.chunks.at(-1)?.usage).toEqual({
        prompt_tokens: 420,
        completion_tokens: 50,
        total_tokens: 470,
        prompt_tokens_details: { cached_tokens: 300, cache_write_tokens: 20 },
      });
    });

    it('should let the latest non-missing count win when message_delta repeats the input counts', () => {
      const h = harness();
      h.send(
        'message_start',
        messageStart({
          input_tokens: 100,
          cache_creation_input_tokens: 20,
          cache_read_input_tokens: 300,
          output_tokens: 1,
        }),
      );
      h.send(
        'message_delta',
        messageDelta('end_turn', {
          input_tokens: 105,
          cache_creation_input_tokens: null,
          output_tokens: 7,
        }),
      );

      expect(h.chunks.at(-1)?.usage).toEqual({
        prompt_tokens: 425, // 105 + 300 + 20
        completion_tokens: 7,
        total_tokens: 432,
        prompt_tokens_details: { cached_tokens: 300, cache_write_tokens: 20 },
      });
    });

    it('should leave prompt_tokens_details out when no cache counts were reported', () => {
      const h = harness();
      h.send('message_start', messageStart({ input_tokens: 9, output_tokens: 1 }));
      h.send('message_delta', messageDelta('end_turn', { output_tokens: 5 }));

      expect(h.chunks.at(-1)?.usage).toEqual({
        prompt_tokens: 9,
        completion_tokens: 5,
        total_tokens: 14,
      });
    });

    it('should attach usage only to the finish chunk', () => {
      const h = harness();
      h.send('message_start', messageStart());
      h.send('content_block_start', { index: 0, content_block: { type: 'text', text: '' } });
      h.send('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'Hi' } });
      h.send('message_delta', messageDelta('end_turn', { output_tokens: 2 }));

      expect(h.chunks.map((c) => c.usage !== undefined)).toEqual([false, false, true]);
    });

    it('should convert counts with missing fields as zero', () => {
      expect(
        convertAnthropicUsage({
          inputTokens: undefined,
          cacheCreationTokens: undefined,
          cacheReadTokens: 64,
          outputTokens: undefined,
        }),
      ).toEqual({
        prompt_tokens: 64,
        completion_tokens: 0,
        total_tokens: 64,
        prompt_tokens_details: { cached_tokens: 64 },
      });
    });
  });

  describe('tool calls', () => {
    it('should index tool calls by their ordinal among tool_use blocks, not by block index', () => {
      const h = harness();
      h.send('message_start', messageStart());
      h.send('content_block_start', {
        index: 0,
        content_block: { type: 'thinking', thinking: '' },
      });
      h.send('content_block_stop', { index: 0 });
      h.send('content_block_start', { index: 1, content_block: { type: 'text', text: '' } });
      h.send('content_block_stop', { index: 1 });
      h.send('content_block_start', toolUse(2, 'toolu_01A', 'first'));
      h.send('content_block_delta', jsonDelta(2, '{"a":1}'));
      h.send('content_block_stop', { index: 2 });
      h.send('content_block_start', {
        index: 3,
        content_block: { type: 'server_tool_use', id: 'srvtoolu_01X', name: 'web_search' },
      });
      h.send('content_block_delta', jsonDelta(3, '{"query":"ignored"}'));
      h.send('content_block_stop', { index: 3 });
      h.send('content_block_start', toolUse(4, 'toolu_01B', 'second'));
      h.send('content_block_delta', jsonDelta(4, '{"b":'));
      h.send('content_block_delta', jsonDelta(4, '2}'));
      h.send('content_block_stop', { index: 4 });

      const calls = h.chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
      expect(calls).toEqual([
        {
          index: 0,
          id: 'toolu_01A',
          type: 'function',
          function: { name: 'first', arguments: '' },
        },
        { index: 0, function: { arguments: '{"a":1}' } },
        {
          index: 1,
          id: 'toolu_01B',
          type: 'function',
          function: { name: 'second', arguments: '' },
        },
        { index: 1, function: { arguments: '{"b":' } },
        { index: 1, function: { arguments: '2}' } },
      ]);
    });

    it('should give a tool call with no argument pieces "{}" when its block stops', () => {
      const h = harness();
      h.send('message_start', messageStart());
      h.send('content_block_start', toolUse(0, 'toolu_01A', 'get_time'));
      h.send('content_block_delta', jsonDelta(0, ''));
      h.send('content_block_stop', { index: 0 });

      expect(h.chunks.at(-1)?.choices[0]?.delta.tool_calls).toEqual([
        { index: 0, function: { arguments: '{}' } },
      ]);
    });

    it('should use the content_block_start input when no pieces come and it is not empty', () => {
      const h = harness();
      h.send('message_start', messageStart());
      h.send('content_block_start', toolUse(0, 'toolu_01A', 'get_weather', { city: 'Paris' }));
      h.send('content_block_stop', { index: 0 });

      expect(h.chunks.at(-1)?.choices[0]?.delta.tool_calls).toEqual([
        { index: 0, function: { arguments: '{"city":"Paris"}' } },
      ]);
    });

    it('should rebuild the arguments whatever the pieces partial_json is split into', () => {
      const json = JSON.stringify({ location: 'San Francisco, CA', unit: 'celsius', days: [1, 2] });
      fc.assert(
        fc.property(
          fc.uniqueArray(fc.integer({ min: 1, max: json.length - 1 }), { maxLength: 12 }),
          (cuts) => {
            const bounds = [0, ...cuts.sort((a, b) => a - b), json.length];
            const h = harness();
            h.send('message_start', messageStart());
            h.send('content_block_start', toolUse(0, 'toolu_01A', 'get_weather'));
            h.send('content_block_delta', jsonDelta(0, ''));
            for (let i = 1; i < bounds.length; i++)
              h.send('content_block_delta', jsonDelta(0, json.slice(bounds[i - 1], bounds[i])));
            h.send('content_block_stop', { index: 0 });
            const joined = h.chunks
              .flatMap((c) => c.choices[0]?.delta.tool_calls ?? [])
              .map((call) => call.function.arguments ?? '')
              .join('');
            expect(joined).toBe(json);
          },
        ),
      );
    });
  });

  describe('finish reasons', () => {
    const table: [string, string][] = [
      ['end_turn', 'stop'],
      ['stop_sequence', 'stop'],
      ['pause_turn', 'stop'],
      ['max_tokens', 'length'],
      ['model_context_window_exceeded', 'length'],
      ['tool_use', 'tool_calls'],
      ['refusal', 'content_filter'],
      ['some_future_reason', 'stop'],
    ];

    it.each(table)('should map %s to %s', (raw, mapped) => {
      expect(mapAnthropicFinishReason(raw)).toBe(mapped);
    });

    it.each(table)('should report %s as %s and keep the raw value', (raw, mapped) => {
      const h = harness();
      h.send('message_start', messageStart());
      h.send('message_delta', messageDelta(raw, { output_tokens: 3 }));

      expect(h.chunks.at(-1)?.choices).toEqual([
        { index: 0, delta: {}, finish_reason: mapped, raw_finish_reason: raw },
      ]);
    });

    it('should emit a usage-only chunk when message_delta has no stop_reason', () => {
      const h = harness();
      h.send('message_start', messageStart());
      h.send('message_delta', messageDelta(null, { output_tokens: 3 }));

      expect(h.chunks.at(-1)?.choices).toEqual([]);
      expect(h.chunks.at(-1)?.usage?.completion_tokens).toBe(3);
      expect(() => {
        h.decoder.end();
      }).toThrow(IncompleteStreamError);
    });
  });

  describe('stream lifecycle', () => {
    it('should end the stream on message_stop', () => {
      const h = harness();
      expect(h.send('message_start', messageStart())).toBe(false);
      expect(h.send('message_stop', {})).toBe(true);
    });

    it('should complete at the end of the body once a stop_reason has arrived', () => {
      const h = harness();
      h.send('message_start', messageStart());
      h.send('message_delta', messageDelta('end_turn', { output_tokens: 3 }));
      expect(() => {
        h.decoder.end();
      }).not.toThrow();
    });

    it('should throw IncompleteStreamError when the body ends before a stop_reason', () => {
      const h = harness();
      h.send('message_start', messageStart());
      const error = thrown(() => {
        h.decoder.end();
      });
      expect(error).toBeInstanceOf(IncompleteStreamError);
      expect((error as IncompleteStreamError).message).toMatch(/before message_stop/);
      expect((error as IncompleteStreamError).isRetryable).toBe(true);
    });

    it('should say nothing was answered when the body ends before message_start', () => {
      const h = harness();
      expect(() => {
        h.decoder.end();
      }).toThrow(/before message_start/);
    });

    it('should stamp created once per stream', () => {
      const now = jest.spyOn(Date, 'now').mockReturnValue(1_767_225_600_000);
      const h = harness();
      h.send('message_start', messageStart());
      now.mockReturnValue(1_767_225_659_999);
      h.send('content_block_start', { index: 0, content_block: { type: 'text', text: '' } });
      h.send('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'Hi' } });

      expect(h.chunks.map((c) => c.created)).toEqual([1_767_225_600, 1_767_225_600]);
    });

    it('should fall back to the context id and model when message_start omits them', () => {
      const h = harness({ model: 'claude-fallback', requestId: 'req_fallback' });
      h.send('message_start', { message: { usage: { input_tokens: 1 } } });

      expect(h.chunks[0]).toMatchObject({ id: 'req_fallback', model: 'claude-fallback' });
      expect(h.chunks[0]?.choices[0]?.delta).toEqual({ role: 'assistant' });
    });

    it('should ignore pings, unknown events and unknown delta types', () => {
      const h = harness();
      h.send('message_start', messageStart());
      h.decoder.event({ event: 'ping', data: '{"type": "ping"}' });
      h.send('ping', {});
      h.send('future_event', { value: 1 });
      h.send('content_block_start', { index: 0, content_block: { type: 'text', text: '' } });
      h.send('content_block_delta', { index: 0, delta: { type: 'citations_delta', citation: {} } });

      expect(h.chunks).toHaveLength(1);
    });
  });

  describe('errors', () => {
    it('should throw an overloaded_error event as a retryable overloaded ProviderError', () => {
      const h = harness();
      h.send('message_start', messageStart());
      const error = thrown(() =>
        h.decoder.event({
          event: 'error',
          data: '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}',
        }),
      );

      expect(error).toBeInstanceOf(ProviderError);
      expect(error).toMatchObject({
        kind: 'overloaded',
        code: 'RXLLM_PROVIDER_OVERLOADED',
        isRetryable: true,
        provider: 'anthropic',
        providerCode: 'overloaded_error',
      });
      expect((error as ProviderError).message).toMatch(/Overloaded/);
    });

    it('should throw an error payload that arrives without an event line', () => {
      const h = harness();
      const error = thrown(() =>
        h.decoder.event({
          data: '{"type":"error","error":{"type":"api_error","message":"Internal server error"}}',
        }),
      );

      expect(error).toMatchObject({ kind: 'server_error', isRetryable: true });
    });

    it('should throw a rate_limit_error event as a retryable RateLimitError', () => {
      const h = harness();
      const error = thrown(() =>
        h.send('error', { error: { type: 'rate_limit_error', message: 'Rate limited' } }),
      );

      expect(error).toBeInstanceOf(RateLimitError);
      expect(error).toMatchObject({ isRetryable: true, quotaExceeded: false });
    });

    it('should classify a too-long prompt as context_length_exceeded', () => {
      const h = harness();
      const error = thrown(() =>
        h.send('error', {
          error: {
            type: 'invalid_request_error',
            message: 'prompt is too long: 210000 tokens > 200000 maximum',
          },
        }),
      );

      expect(error).toMatchObject({ kind: 'context_length_exceeded', isRetryable: false });
    });

    it('should throw an invalid_request_error as a non-retryable invalid request', () => {
      const h = harness();
      const error = thrown(() =>
        h.send('error', { error: { type: 'invalid_request_error', message: 'bad tool schema' } }),
      );

      expect(error).toMatchObject({ kind: 'invalid_request', isRetryable: false });
    });

    it('should throw an error event whose data is not JSON as a server error quoting it', () => {
      const h = harness();
      const error = thrown(() => h.decoder.event({ event: 'error', data: 'upstream reset' }));

      expect(error).toMatchObject({ kind: 'server_error', isRetryable: true });
      expect((error as ProviderError).message).toMatch(/upstream reset/);
    });

    it('should throw the error a bare JSON value carries', () => {
      const h = harness();
      const error = thrown(() => {
        h.decoder.bareJson(
          { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } },
          '',
        );
      });

      expect(error).toMatchObject({ kind: 'overloaded', isRetryable: true });
    });

    it('should throw a ParseError quoting malformed JSON', () => {
      const h = harness();
      const error = thrown(() =>
        h.decoder.event({ event: 'content_block_delta', data: '{"type":"content_block_del' }),
      );

      expect(error).toBeInstanceOf(ParseError);
      expect((error as ParseError).message).toMatch(/content_block_delta/);
    });
  });
});
