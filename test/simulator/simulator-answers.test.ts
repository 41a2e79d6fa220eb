import {
  FaultSpecError,
  expectedAnswer,
  expectedText,
  formatFaultSpec,
  formatFaultSpecs,
  parseFaultSpec,
  planAnswer,
  readSimulatedRequest,
  SimulatedRequestError,
  simulatedText,
  simulatorRequest,
  startSimulator,
  type FaultSpec,
} from '../../src/simulator/index';
import { countWords, tokenAt, answerKey } from '../../src/simulator/deterministic-text';
import { chosenTool } from '../../src/simulator/simulated-request';

const formats = ['openai', 'anthropic', 'google'] as const;

describe('parseFaultSpec', () => {
  it.each<[string, FaultSpec]>([
    ['status-503', { type: 'status', status: 503 }],
    ['status-429-retry-2', { type: 'status', status: 429, retryAfterMs: 2000 }],
    [
      'status-429-retry-ms-150',
      { type: 'status', status: 429, retryAfterMs: 150, retryInMs: true },
    ],
    ['reset-before-headers', { type: 'reset-before-headers' }],
    ['reset-after-5', { type: 'reset-after', tokens: 5 }],
    ['stall-headers-200', { type: 'stall-headers', ms: 200 }],
    ['stall-before-headers-200', { type: 'stall-headers', ms: 200 }],
    ['stall-first-token-3000', { type: 'stall-first-token', ms: 3000 }],
    ['stall-after-5-3000', { type: 'stall-after', tokens: 5, ms: 3000 }],
    ['malformed-at-3', { type: 'malformed-at', tokens: 3 }],
    ['no-terminal', { type: 'no-terminal' }],
    ['inband-error-after-4', { type: 'inband-error-after', tokens: 4, status: 503 }],
    ['inband-error-after-4-429', { type: 'inband-error-after', tokens: 4, status: 429 }],
    ['slow-drip', { type: 'slow-drip', bytes: 16, ms: 2 }],
    ['slow-drip-4-10', { type: 'slow-drip', bytes: 4, ms: 10 }],
    ['huge-event', { type: 'huge-event', bytes: 1_048_576 }],
    ['huge-event-2048', { type: 'huge-event', bytes: 2048 }],
    ['invalid-utf8', { type: 'invalid-utf8', tokens: 1 }],
    ['invalid-utf8-at-3', { type: 'invalid-utf8', tokens: 3 }],
    ['flap-2000', { type: 'flap', ms: 2000 }],
    ['succeed-on-3', { type: 'succeed-on', attempt: 3 }],
    ['reject-prefill', { type: 'reject-prefill' }],
  ])('should parse %s', (spec, fault) => {
    expect(parseFaultSpec(spec)).toEqual([fault]);
    // The canonical form parses back to the same fault.
    expect(parseFaultSpec(formatFaultSpec(fault))).toEqual([fault]);
  });

  it('should parse several faults joined by "," or "+", case-insensitively', () => {
    const faults = parseFaultSpec('Stall-First-Token-50, reset-after-2+no-terminal');
    expect(faults).toEqual([
      { type: 'stall-first-token', ms: 50 },
      { type: 'reset-after', tokens: 2 },
      { type: 'no-terminal' },
    ]);
    expect(formatFaultSpecs(faults)).toBe('stall-first-token-50,reset-after-2,no-terminal');
  });

  it.each(['explode', 'status-200', 'status-abc', 'reset-after', 'stall-after-5', '', 'flap--1'])(
    'should refuse %j with a message naming the spec and the grammar',
    (spec) => {
      let error: unknown;
      try {
        parseFaultSpec(spec);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(FaultSpecError);
      expect((error as FaultSpecError).spec).toBe(spec);
      expect((error as Error).message).toContain(JSON.stringify(spec.split(/[,+]/)[0]));
      expect((error as Error).message).toContain('reset-before-headers');
    },
  );
});

describe('the deterministic text', () => {
  it('should give the same answer to the same prompt, and another to another prompt', () => {
    const a = expectedText('openai', simulatorRequest('openai', { prompt: 'Hi' }).body);
    expect(expectedText('openai', simulatorRequest('openai', { prompt: 'Hi' }).body)).toBe(a);
    expect(expectedText('openai', simulatorRequest('openai', { prompt: 'Bye' }).body)).not.toBe(a);
  });

  it('should not depend on the model or the format, so a failover continues the same text', () => {
    const texts = formats.map((format) =>
      expectedText(format, simulatorRequest(format, { prompt: 'Same', model: `m-${format}` }).body),
    );
    expect(new Set(texts).size).toBe(1);
  });

  it('should change with the seed', () => {
    const body = simulatorRequest('openai').body;
    expect(expectedText('openai', body, { seed: 'a' })).not.toBe(
      expectedText('openai', body, { seed: 'b' }),
    );
  });

  it('should be one word-ish token per piece, with a leading space after the first', () => {
    const key = answerKey('', 'Hello');
    expect(tokenAt(key, 0)).not.toMatch(/^\s/);
    for (let i = 1; i < 200; i++) expect(tokenAt(key, i)).toMatch(/^ \S+$/);
    expect(countWords(simulatedText('Hello', 200))).toBe(200);
  });

  it('should make a shorter answer a prefix of a longer one', () => {
    const long = simulatedText('prefix', 50);
    for (const n of [0, 1, 7, 24, 49])
      expect(long.startsWith(simulatedText('prefix', n))).toBe(true);
  });

  it('should count the answer length from x-simulator-tokens, else defaultTokens (24)', () => {
    const body = simulatorRequest('anthropic').body;
    expect(expectedAnswer('anthropic', body).usage.completionTokens).toBe(24);
    expect(expectedAnswer('anthropic', body, { defaultTokens: 3 }).usage.completionTokens).toBe(3);
    expect(expectedAnswer('anthropic', body, { tokens: 7 }).usage.completionTokens).toBe(7);
    expect(expectedAnswer('anthropic', body, { tokens: 7 }).text).toBe(simulatedText('Hello', 7));
  });

  it('should count prompt tokens as the words of every text of the request', () => {
    for (const format of formats) {
      const body = simulatorRequest(format, {
        system: 'You are terse.',
        prompt: 'Tell me three things',
        prefill: 'One',
      }).body;
      expect(expectedAnswer(format, body).usage.promptTokens).toBe(3 + 4 + 1);
    }
  });
});

describe('max tokens', () => {
  it.each(formats)('should cut the %s answer and finish with length', (format) => {
    const answer = expectedAnswer(format, simulatorRequest(format, { maxTokens: 5 }).body);
    expect(answer.text).toBe(simulatedText('Hello', 5));
    expect(answer.finishReason).toBe('length');
    expect(answer.rawFinishReason).toBe(
      { openai: 'length', anthropic: 'max_tokens', google: 'MAX_TOKENS' }[format],
    );
    expect(answer.usage.completionTokens).toBe(5);
  });
});

describe('prefill', () => {
  const full = simulatedText('Hello', 24);

  it.each(formats)('should continue a %s prefill that ends on a token boundary', (format) => {
    const prefill = simulatedText('Hello', 10);
    const answer = expectedAnswer(format, simulatorRequest(format, { prefill }).body);
    expect(prefill + answer.text).toBe(full);
    expect(answer.usage.completionTokens).toBe(14);
  });

  it('should continue a prefill that ends inside a token with the rest of that token', () => {
    // The ten first tokens, then the space and first letter of the eleventh.
    const cut = simulatedText('Hello', 11).slice(0, simulatedText('Hello', 10).length + 2);
    expect(cut).not.toMatch(/[\uD800-\uDBFF]$/);
    const answer = expectedAnswer('openai', simulatorRequest('openai', { prefill: cut }).body);
    expect(cut + answer.text).toBe(full);
    // The rest of token 10, then tokens 11 … 23.
    expect(answer.usage.completionTokens).toBe(14);
  });

  it('should stream nothing more when the prefill already holds the whole answer', () => {
    const answer = expectedAnswer(
      'anthropic',
      simulatorRequest('anthropic', { prefill: full }).body,
    );
    expect(answer.text).toBe('');
    expect(answer.usage.completionTokens).toBe(0);
    expect(answer.finishReason).toBe('stop');
  });

  it('should continue an unrelated prefill from the token at its word count', () => {
    const answer = expectedAnswer(
      'openai',
      simulatorRequest('openai', { prefill: 'Some other words' }).body,
    );
    expect(answer.text).toBe(simulatedText('Hello', 24).slice(simulatedText('Hello', 3).length));
    expect(answer.usage.completionTokens).toBe(21);
  });

  it('should refuse an Anthropic prefill with trailing whitespace, as the API does', () => {
    expect(() =>
      readSimulatedRequest('anthropic', simulatorRequest('anthropic', { prefill: 'Hi ' }).body),
    ).toThrow(SimulatedRequestError);
  });

  it('should count only the streamed rest against max tokens', () => {
    const prefill = simulatedText('Hello', 20);
    const answer = expectedAnswer(
      'google',
      simulatorRequest('google', { prefill, maxTokens: 2 }).body,
    );
    expect(answer.text).toBe(simulatedText('Hello', 22).slice(prefill.length));
    expect(answer.finishReason).toBe('length');
  });
});

describe('tool calls', () => {
  const weather = {
    name: 'get_weather',
    parameters: {
      type: 'object',
      properties: {
        city: { type: 'string' },
        days: { type: 'integer' },
        unit: { type: 'string', enum: ['celsius', 'fahrenheit'] },
        detailed: { type: 'boolean' },
      },
      required: ['city'],
    },
  };
  const time = {
    name: 'get_time',
    parameters: { type: 'OBJECT', properties: { zone: { type: 'STRING' } } },
  };

  it.each(formats)('should call the first tool when %s requires one', (format) => {
    const answer = expectedAnswer(
      format,
      simulatorRequest(format, { tools: [weather, time], toolChoice: 'required' }).body,
    );
    expect(answer.toolCall?.name).toBe('get_weather');
    const args = JSON.parse(answer.toolCall?.arguments ?? '') as Record<string, unknown>;
    expect(Object.keys(args)).toEqual(['city', 'days', 'unit', 'detailed']);
    expect(args.unit).toBe('celsius');
    expect(typeof args.city).toBe('string');
    expect(Number.isInteger(args.days)).toBe(true);
    expect(answer.finishReason).toBe('tool_calls');
    expect(answer.text).toBe('');
  });

  it.each(formats)('should call the named tool of a forced %s choice', (format) => {
    const answer = expectedAnswer(
      format,
      simulatorRequest(format, { tools: [weather, time], toolChoice: { name: 'get_time' } }).body,
    );
    expect(answer.toolCall?.name).toBe('get_time');
    expect(JSON.parse(answer.toolCall?.arguments ?? '')).toEqual({ zone: expect.any(String) });
  });

  it('should call a tool when the user asks for it, under auto', () => {
    const ask = (prompt: string): string | undefined =>
      expectedAnswer('openai', simulatorRequest('openai', { prompt, tools: [weather, time] }).body)
        .toolCall?.name;
    expect(ask('Please use the tool')).toBe('get_weather');
    expect(ask('call get_time for me')).toBe('get_time');
    expect(ask('Just talk')).toBeUndefined();
  });

  it('should not call a tool under none, or by phrase after a tool result', () => {
    const none = simulatorRequest('anthropic', {
      prompt: 'use the tool',
      tools: [weather],
      toolChoice: 'none',
    });
    expect(expectedAnswer('anthropic', none.body).toolCall).toBeUndefined();
    const afterResult = readSimulatedRequest('openai', {
      model: 'm',
      tools: [{ type: 'function', function: { name: 'get_weather' } }],
      messages: [
        { role: 'user', content: 'use the tool' },
        {
          role: 'assistant',
          tool_calls: [
            { id: 'c', type: 'function', function: { name: 'get_weather', arguments: '{}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'c', content: 'sunny' },
      ],
    });
    expect(chosenTool(afterResult)).toBeUndefined();
  });

  it('should cut the arguments into pieces of one token each', () => {
    const request = readSimulatedRequest(
      'anthropic',
      simulatorRequest('anthropic', { tools: [weather], toolChoice: 'required' }).body,
    );
    const plan = planAnswer(request);
    expect(plan.tool?.pieces.join('')).toBe(plan.tool?.arguments);
    expect(plan.tool?.pieces.length).toBeGreaterThan(3);
    expect(plan.completionTokens).toBe(plan.tool?.pieces.length);
  });
});

describe('reasoning', () => {
  it.each(formats)('should add reasoning tokens when %s asks for them', (format) => {
    const answer = expectedAnswer(format, simulatorRequest(format, { reasoning: true }).body, {
      reasoningTokens: 5,
    });
    expect(countWords(answer.reasoning)).toBe(5);
    expect(answer.usage).toMatchObject({ completionTokens: 29, reasoningTokens: 5 });
  });
});

describe('simulatorRequest', () => {
  it('should build each provider request with its own path and auth header', () => {
    expect(simulatorRequest('openai', { apiKey: 'k' })).toMatchObject({
      path: '/v1/chat/completions',
      headers: { authorization: 'Bearer k' },
    });
    expect(simulatorRequest('anthropic', { apiKey: 'k' })).toMatchObject({
      path: '/v1/messages',
      headers: { 'x-api-key': 'k', 'anthropic-version': '2023-06-01' },
    });
    expect(simulatorRequest('google', { apiKey: 'k', model: 'a/b' })).toMatchObject({
      path: '/v1beta/models/a%2Fb:streamGenerateContent?alt=sse',
      headers: { 'x-goog-api-key': 'k' },
    });
    expect(simulatorRequest('google', { stream: false }).path).toBe(
      '/v1beta/models/gemini-2.5-flash:generateContent',
    );
  });
});

describe('startSimulator options', () => {
  it('should refuse a scenario with an unknown fault spec before listening', async () => {
    await expect(
      startSimulator({ scenarios: [{ faults: ['status-503', 'bogus'] }] }),
    ).rejects.toThrow(FaultSpecError);
    await expect(
      startSimulator({ scenarios: [{ faults: [{ type: 'status', status: 200 }] }] }),
    ).rejects.toThrow(/status must be an integer from 400 to 599/);
  });

  it('should refuse negative timings', async () => {
    await expect(startSimulator({ latencyMs: -1 })).rejects.toThrow(RangeError);
    await expect(startSimulator({ tokensPerSecond: 0 })).rejects.toThrow(RangeError);
  });
});
