import { toCompletion } from '../../src/chunk/collect-completion';
import { from } from 'rxjs';
import { hasErrorCode } from '../../src/errors/router-error';
import { IncompleteStreamError } from '../../src/errors/incomplete-stream-error';
import { NetworkError } from '../../src/errors/network-error';
import { ProviderError } from '../../src/errors/provider-error';
import { RateLimitError } from '../../src/errors/rate-limit-error';
import { TimeoutError } from '../../src/errors/timeout-error';
import { isContentChunk } from '../../src/operators/is-content-chunk';
import {
  chunksFromText,
  deltaChunk,
  finishChunk,
  httpError,
  incompleteStream,
  networkError,
  quotaExceeded,
  rateLimited,
  reasoningChunk,
  refusalChunk,
  roleChunk,
  splitWords,
  streamError,
  textChunk,
  timeoutError,
  toolCallChunk,
  usage,
  usageChunk,
} from '../../src/testing/index';

describe('chunk builders', () => {
  it('should build deterministic chunks that compare equal', () => {
    expect(textChunk('hi')).toEqual(textChunk('hi'));
    expect(textChunk('hi')).toEqual({
      id: 'chatcmpl-fake',
      object: 'chat.completion.chunk',
      created: 0,
      model: 'fake-model',
      provider: 'fake',
      choices: [{ index: 0, delta: { content: 'hi' }, finish_reason: null }],
    });
  });

  it('should stamp the given provider, model, id, time and choice', () => {
    expect(
      textChunk('hi', { provider: 'p1', model: 'm1', id: 'c1', created: 5, choice: 1 }),
    ).toMatchObject({
      id: 'c1',
      created: 5,
      model: 'm1',
      provider: 'p1',
      choices: [{ index: 1, delta: { content: 'hi' } }],
    });
  });

  it('should build role, reasoning, refusal and finish chunks', () => {
    expect(roleChunk().choices[0]?.delta).toEqual({ role: 'assistant', content: '' });
    expect(isContentChunk(roleChunk())).toBe(false);
    expect(reasoningChunk('hmm').choices[0]?.delta).toEqual({ reasoning: 'hmm' });
    expect(refusalChunk('no').choices[0]?.delta).toEqual({ refusal: 'no' });
    expect(finishChunk().choices[0]).toEqual({ index: 0, delta: {}, finish_reason: 'stop' });
    expect(finishChunk('length', { raw: 'max_tokens' }).choices[0]).toEqual({
      index: 0,
      delta: {},
      finish_reason: 'length',
      raw_finish_reason: 'max_tokens',
    });
    expect(deltaChunk({ content: 'x' }, 'stop').choices[0]?.finish_reason).toBe('stop');
  });

  it('should build tool-call pieces that collect into one call', async () => {
    const chunks = [
      toolCallChunk({ id: 'call_1', name: 'weather', arguments: '{"city":' }),
      toolCallChunk({ arguments: '"Paris"}' }),
      toolCallChunk({ index: 1, id: 'call_2', name: 'time', arguments: { tz: 'CET' } }),
      finishChunk('tool_calls'),
    ];
    expect(chunks[0]?.choices[0]?.delta.tool_calls).toEqual([
      {
        index: 0,
        id: 'call_1',
        type: 'function',
        function: { name: 'weather', arguments: '{"city":' },
      },
    ]);
    expect(chunks[1]?.choices[0]?.delta.tool_calls).toEqual([
      { index: 0, function: { arguments: '"Paris"}' } },
    ]);
    const completion = await toCompletion(from(chunks));
    expect(completion.choices[0]?.message.tool_calls).toEqual([
      {
        id: 'call_1',
        type: 'function',
        function: { name: 'weather', arguments: '{"city":"Paris"}' },
      },
      { id: 'call_2', type: 'function', function: { name: 'time', arguments: '{"tz":"CET"}' } },
    ]);
  });

  it('should build usage with totals and details', () => {
    expect(usage({ prompt: 10, completion: 5 })).toEqual({
      prompt_tokens: 10,
      completion_tokens: 5,
      total_tokens: 15,
    });
    expect(usage({ prompt: 10, completion: 5, cached: 8, cacheWrite: 2, reasoning: 3 })).toEqual({
      prompt_tokens: 10,
      completion_tokens: 5,
      total_tokens: 15,
      prompt_tokens_details: { cached_tokens: 8, cache_write_tokens: 2 },
      completion_tokens_details: { reasoning_tokens: 3 },
    });
    const chunk = usageChunk({ prompt: 1, completion: 2 }, { provider: 'p' });
    expect(chunk.choices).toEqual([]);
    expect(chunk.usage?.total_tokens).toBe(3);
    expect(chunk.provider).toBe('p');
  });

  it('should split text into word pieces that join back exactly', () => {
    expect(splitWords('Hello world')).toEqual(['Hello', ' world']);
    expect(splitWords(' two  spaces\nand a line ')).toEqual([
      ' two',
      '  spaces',
      '\nand',
      ' a',
      ' line',
      ' ',
    ]);
    expect(splitWords('')).toEqual([]);
    for (const text of ['a', ' a', 'a ', '  ', 'héllo wörld ✓']) {
      expect(splitWords(text).join('')).toBe(text);
    }
  });

  it('should build a whole answer from text', async () => {
    const chunks = chunksFromText('Hello world', { provider: 'p1' });
    expect(chunks).toEqual([
      textChunk('Hello', { provider: 'p1' }),
      textChunk(' world', { provider: 'p1' }),
      finishChunk('stop', { provider: 'p1' }),
      usageChunk({ prompt: 0, completion: 2 }, { provider: 'p1' }),
    ]);
    const completion = await toCompletion(from(chunks));
    expect(completion.choices[0]?.message.content).toBe('Hello world');
    expect(completion.provider).toBe('p1');
  });

  it('should let chunksFromText add a role chunk and drop the finish and usage', () => {
    expect(chunksFromText('a b', { role: true, finishReason: null, usage: false })).toEqual([
      roleChunk(),
      textChunk('a'),
      textChunk(' b'),
    ]);
    expect(
      chunksFromText('a', { finishReason: 'length', usage: { prompt: 7, cached: 4 } }),
    ).toEqual([
      textChunk('a'),
      finishChunk('length'),
      usageChunk({ prompt: 7, completion: 1, cached: 4 }),
    ]);
  });
});

describe('error builders', () => {
  it('should classify HTTP statuses like the HTTP layer', () => {
    const e503 = httpError(503);
    expect(e503).toBeInstanceOf(ProviderError);
    expect(e503).toMatchObject({
      kind: 'server_error',
      status: 503,
      provider: 'fake',
      isRetryable: true,
      code: 'RXLLM_PROVIDER_SERVER_ERROR',
    });
    expect(e503.message).toMatch(/fake answered HTTP 503: Service Unavailable/);
    expect(httpError(529)).toMatchObject({ kind: 'overloaded', isRetryable: true });
    expect(httpError(400)).toMatchObject({ kind: 'invalid_request', isRetryable: false });
    expect(httpError(401)).toMatchObject({ kind: 'authentication', isRetryable: false });
    expect(httpError(404)).toMatchObject({ kind: 'not_found' });
    expect(httpError(408)).toMatchObject({ isRetryable: true });
    expect(httpError(429)).toBeInstanceOf(RateLimitError);
    expect(httpError(418)).toMatchObject({ kind: 'other', isRetryable: false });
    expect(
      hasErrorCode(
        httpError(400, { code: 'context_length_exceeded', provider: 'p1' }),
        'RXLLM_CONTEXT_LENGTH_EXCEEDED',
      ),
    ).toBe(true);
    expect(() => httpError(42)).toThrow(RangeError);
  });

  it('should build rate-limit and quota errors', () => {
    const limited = rateLimited(1500, { provider: 'p1' });
    expect(limited).toBeInstanceOf(RateLimitError);
    expect(limited).toMatchObject({ retryAfterMs: 1500, provider: 'p1', isRetryable: true });
    expect(rateLimited().retryAfterMs).toBeUndefined();
    expect(quotaExceeded()).toMatchObject({ quotaExceeded: true, isRetryable: false });
  });

  it('should build mid-stream, network, timeout and incomplete-stream errors', () => {
    expect(streamError({ type: 'overloaded_error', message: 'Overloaded' })).toMatchObject({
      kind: 'overloaded',
      status: undefined,
      isRetryable: true,
    });
    expect(streamError()).toMatchObject({ kind: 'server_error', isRetryable: true });
    expect(networkError()).toBeInstanceOf(NetworkError);
    expect(networkError('reset', { provider: 'p' })).toMatchObject({
      message: 'reset',
      provider: 'p',
    });
    const timeout = timeoutError('first-token', 2000);
    expect(timeout).toBeInstanceOf(TimeoutError);
    expect(timeout).toMatchObject({ kind: 'first-token', timeoutMs: 2000 });
    const cut = incompleteStream('Hel');
    expect(cut).toBeInstanceOf(IncompleteStreamError);
    expect(cut).toMatchObject({ partialText: 'Hel', provider: 'fake' });
  });
});
