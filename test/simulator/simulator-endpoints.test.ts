import { Agent, fetch, type Response } from 'undici';
import type { StreamFormat } from '../../src/chunk/streaming-chunk';
import { toCompletion } from '../../src/chunk/collect-completion';
import { decodeProviderStream } from '../../src/providers/decode-provider-stream';
import {
  expectedAnswer,
  simulatedText,
  simulatorRequest,
  startSimulator,
  type Simulator,
  type SimulatorRequest,
  type SimulatorRequestOptions,
} from '../../src/simulator/index';

const formats = ['openai', 'anthropic', 'google'] as const;

let sim: Simulator;
let agent: Agent;

beforeAll(async () => {
  sim = await startSimulator();
  agent = new Agent();
});

afterAll(async () => {
  await agent.close();
  await sim.close();
});

function send(
  r: SimulatorRequest,
  init: { headers?: Record<string, string>; body?: string; path?: string } = {},
): Promise<Response> {
  return fetch(sim.url + (init.path ?? r.path), {
    method: r.method,
    headers: { ...r.headers, ...init.headers },
    body: init.body ?? JSON.stringify(r.body),
    dispatcher: agent,
  });
}

async function decode(format: StreamFormat, res: Response) {
  expect(res.status).toBe(200);
  return toCompletion(decodeProviderStream(format, res.body!));
}

interface OpenAIBody {
  choices: { message: { content: string | null } }[];
  usage: { prompt_tokens: number; completion_tokens: number };
}
interface AnthropicBody {
  content: { type: string; text?: string }[];
  usage: { input_tokens: number; output_tokens: number };
}
interface GoogleBody {
  responseId: string;
  modelVersion: string;
  candidates: {
    finishReason?: string;
    content: { parts: { text?: string; thought?: boolean; thoughtSignature?: string }[] };
  }[];
  usageMetadata: { promptTokenCount: number; candidatesTokenCount: number };
}
interface OpenAIChunk {
  id: string;
  choices: { delta: unknown; finish_reason: string | null }[];
  usage: unknown;
}
interface AnthropicEvent {
  type: string;
  delta?: { type: string };
  message?: unknown;
}

/** The text and the [prompt, completion] usage of a non-streaming body, per format. */
function readBody(format: StreamFormat, json: unknown): { text: string; usage: number[] } {
  switch (format) {
    case 'openai': {
      const body = json as OpenAIBody;
      return {
        text: body.choices[0]?.message.content ?? '',
        usage: [body.usage.prompt_tokens, body.usage.completion_tokens],
      };
    }
    case 'anthropic': {
      const body = json as AnthropicBody;
      return {
        text: body.content
          .filter((b) => b.type === 'text')
          .map((b) => b.text)
          .join(''),
        usage: [body.usage.input_tokens, body.usage.output_tokens],
      };
    }
    case 'google': {
      const body = json as GoogleBody;
      return {
        text: (body.candidates[0]?.content.parts ?? [])
          .filter((p) => p.thought !== true)
          .map((p) => p.text ?? '')
          .join(''),
        usage: [body.usageMetadata.promptTokenCount, body.usageMetadata.candidatesTokenCount],
      };
    }
  }
}

describe.each(formats)('the %s endpoint', (format) => {
  const check = async (options: SimulatorRequestOptions, tokens?: number) => {
    const r = simulatorRequest(format, { ...options, ...(tokens === undefined ? {} : { tokens }) });
    const expected = expectedAnswer(format, r.body, tokens === undefined ? {} : { tokens });
    const completion = await decode(format, await send(r));
    const choice = completion.choices[0]!;
    return { expected, completion, choice };
  };

  it('should stream the expected text, finish reason and usage', async () => {
    const { expected, completion, choice } = await check({ prompt: 'Tell me a story' });
    expect(choice.message.content).toBe(expected.text);
    expect(expected.text).toBe(simulatedText('Tell me a story', 24));
    expect(choice.finish_reason).toBe('stop');
    expect(completion.usage).toMatchObject({
      prompt_tokens: 4,
      completion_tokens: 24,
      total_tokens: 28,
    });
    expect(completion.model).toBe(simulatorRequest(format).body.model ?? 'gemini-2.5-flash');
  });

  it('should honour x-simulator-tokens', async () => {
    const { expected, choice, completion } = await check({ prompt: 'Short' }, 3);
    expect(choice.message.content).toBe(expected.text);
    expect(completion.usage?.completion_tokens).toBe(3);
  });

  it('should answer without streaming with the same text and usage', async () => {
    const r = simulatorRequest(format, { prompt: 'Tell me a story', stream: false });
    const res = await send(r);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const { text, usage } = readBody(format, await res.json());
    expect(text).toBe(simulatedText('Tell me a story', 24));
    expect(usage).toEqual([4, 24]);
  });

  it('should stream reasoning before the text when asked', async () => {
    const { expected, choice, completion } = await check({ reasoning: true }, 4);
    expect(choice.message.reasoning).toBe(expected.reasoning);
    expect(choice.message.content).toBe(expected.text);
    expect(completion.usage?.completion_tokens).toBe(12);
    if (format !== 'anthropic') {
      expect(completion.usage?.completion_tokens_details?.reasoning_tokens).toBe(8);
    }
  });

  it('should stream a tool call with the expected arguments', async () => {
    const tools = [
      {
        name: 'get_weather',
        parameters: {
          type: 'object',
          properties: { city: { type: 'string' }, days: { type: 'integer' } },
        },
      },
    ];
    const { expected, choice, completion } = await check({ tools, toolChoice: 'required' });
    expect(expected.toolCall).toBeDefined();
    expect(choice.message.tool_calls).toEqual([
      {
        id: expect.any(String),
        type: 'function',
        function: { name: 'get_weather', arguments: expected.toolCall!.arguments },
      },
    ]);
    expect(choice.finish_reason).toBe('tool_calls');
    expect(completion.usage?.completion_tokens).toBe(expected.usage.completionTokens);
  });

  it('should cut the answer at max tokens with finish reason length', async () => {
    const { expected, choice, completion } = await check({ maxTokens: 4 });
    expect(choice.message.content).toBe(expected.text);
    expect(choice.finish_reason).toBe('length');
    expect(completion.usage?.completion_tokens).toBe(4);
  });

  it('should continue a prefill exactly and count only the rest', async () => {
    const prefill = simulatedText('Hello', 9);
    const { expected, choice, completion } = await check({ prefill });
    expect(prefill + (choice.message.content ?? '')).toBe(simulatedText('Hello', 24));
    expect(choice.message.content).toBe(expected.text);
    expect(completion.usage?.completion_tokens).toBe(15);
  });

  it('should answer invalid JSON with 400 in the provider error shape', async () => {
    const r = simulatorRequest(format);
    const res = await send(r, { body: '{"model": ' });
    expect(res.status).toBe(400);
    const json = await res.json();
    const shape = {
      openai: { error: { type: 'invalid_request_error', param: null } },
      anthropic: { type: 'error', error: { type: 'invalid_request_error' } },
      google: { error: { code: 400, status: 'INVALID_ARGUMENT' } },
    }[format];
    expect(json).toMatchObject(shape);
  });

  it('should answer a request the provider would refuse with 400', async () => {
    const r = simulatorRequest(format);
    const body = format === 'google' ? {} : { ...r.body, messages: undefined };
    const res = await send(r, { body: JSON.stringify(body) });
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/messages|contents/);
  });
});

describe('wire framing', () => {
  it('should frame OpenAI as data-only events with usage null, a usage chunk and [DONE]', async () => {
    const res = await send(simulatorRequest('openai', { tokens: 3 }));
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const raw = await res.text();
    expect(raw).not.toContain('event:');
    expect(raw).not.toContain('\r');
    const events = raw.split('\n\n').filter((e) => e !== '');
    for (const event of events) expect(event).toMatch(/^data: /);
    expect(events[events.length - 1]).toBe('data: [DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e.slice(6)) as OpenAIChunk);
    expect(chunks[0]!.choices[0]!.delta).toEqual({ role: 'assistant', content: '', refusal: null });
    const ids = new Set(chunks.map((c) => c.id));
    expect(ids.size).toBe(1);
    expect([...ids][0]).toMatch(/^chatcmpl-[A-Za-z0-9]{29}$/);
    for (const chunk of chunks) {
      expect(chunk).toMatchObject({
        object: 'chat.completion.chunk',
        created: expect.any(Number),
        model: 'gpt-4o-mini',
        system_fingerprint: expect.stringMatching(/^fp_[0-9a-f]{10}$/),
      });
    }
    // role, 3 content chunks, finish, usage.
    expect(chunks).toHaveLength(6);
    expect(chunks.slice(0, 5).every((c) => c.usage === null)).toBe(true);
    expect(chunks[4]!.choices[0]).toMatchObject({ delta: {}, finish_reason: 'stop' });
    expect(chunks[5]).toMatchObject({
      choices: [],
      usage: { prompt_tokens: 1, completion_tokens: 3 },
    });
  });

  it('should leave the OpenAI usage chunk out without include_usage', async () => {
    const res = await send(simulatorRequest('openai', { tokens: 2, includeUsage: false }));
    const raw = await res.text();
    expect(raw).not.toContain('"prompt_tokens"');
    expect(raw.endsWith('data: [DONE]\n\n')).toBe(true);
  });

  it('should frame Anthropic with event lines matching each payload type, ending with message_stop', async () => {
    const res = await send(simulatorRequest('anthropic', { tokens: 2, reasoning: true }));
    const raw = await res.text();
    const events = raw
      .split('\n\n')
      .filter((e) => e !== '')
      .map((e) => {
        const [eventLine, dataLine, ...rest] = e.split('\n');
        expect(rest).toEqual([]);
        expect(eventLine).toMatch(/^event: /);
        expect(dataLine).toMatch(/^data: /);
        const json = JSON.parse(dataLine!.slice(6)) as AnthropicEvent;
        expect(json.type).toBe(eventLine!.slice(7));
        return json;
      });
    expect(events.map((e) => (e.type === 'content_block_delta' ? e.delta!.type : e.type))).toEqual([
      'message_start',
      'ping',
      'content_block_start',
      ...Array<string>(8).fill('thinking_delta'),
      'signature_delta',
      'content_block_stop',
      'content_block_start',
      'text_delta',
      'text_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    expect(events[0]!.message).toMatchObject({
      id: expect.stringMatching(/^msg_01/),
      usage: {
        input_tokens: 1,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
        output_tokens: 1,
      },
    });
    expect(events[events.length - 2]).toMatchObject({
      delta: { stop_reason: 'end_turn' },
      usage: { output_tokens: 10 },
    });
  });

  it('should frame Anthropic tool calls with an empty partial_json first', async () => {
    const res = await send(
      simulatorRequest('anthropic', { tools: [{ name: 'lookup' }], prompt: 'call lookup now' }),
    );
    const raw = await res.text();
    expect(raw).toContain('"content_block":{"type":"tool_use","id":"toolu_01');
    expect(raw).toContain('"delta":{"type":"input_json_delta","partial_json":""}');
    expect(raw).toContain('"stop_reason":"tool_use"');
  });

  it('should frame Gemini with CRLF, no terminator, and finishReason and usage on the last event', async () => {
    const res = await send(simulatorRequest('google', { tokens: 3 }));
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const raw = await res.text();
    expect(raw.endsWith('\r\n\r\n')).toBe(true);
    expect(raw.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
    const events = raw.split('\r\n\r\n').filter((e) => e !== '');
    for (const event of events) expect(event).toMatch(/^data: \{"candidates": \[/);
    const json = events.map((e) => JSON.parse(e.slice(6)) as GoogleBody);
    expect(json).toHaveLength(4);
    const ids = new Set(json.map((j) => j.responseId));
    expect(ids.size).toBe(1);
    expect(json.every((j) => j.modelVersion === 'gemini-2.5-flash')).toBe(true);
    expect(json.slice(0, 3).every((j) => j.candidates[0]!.finishReason === undefined)).toBe(true);
    expect(json[3]).toMatchObject({
      candidates: [{ finishReason: 'STOP', content: { parts: [{ text: '' }], role: 'model' } }],
      usageMetadata: { promptTokenCount: 1, candidatesTokenCount: 3, totalTokenCount: 4 },
    });
  });

  it('should stream Gemini thoughts as thought parts with thoughtsTokenCount', async () => {
    const res = await send(simulatorRequest('google', { tokens: 1, reasoning: true }));
    const json = (await res.text())
      .split('\r\n\r\n')
      .filter((e) => e !== '')
      .map((e) => JSON.parse(e.slice(6)) as GoogleBody);
    expect(json[0]!.candidates[0]!.content.parts[0]).toMatchObject({ thought: true });
    expect(json[8]!.candidates[0]!.content.parts[0]).toMatchObject({
      thoughtSignature: expect.any(String),
    });
    expect(json[9]!.usageMetadata).toMatchObject({
      thoughtsTokenCount: 8,
      candidatesTokenCount: 1,
    });
  });

  it('should answer Gemini streamGenerateContent without alt=sse with a JSON array', async () => {
    const r = simulatorRequest('google', { tokens: 3 });
    const res = await send(r, { path: r.path.replace('?alt=sse', '') });
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const json = JSON.parse(await res.text()) as GoogleBody[];
    expect(Array.isArray(json)).toBe(true);
    expect(json.map((j) => j.candidates[0]?.content.parts[0]?.text).join('')).toBe(
      simulatedText('Hello', 3),
    );
  });

  it('should read the Gemini model from the path, URL-decoded', async () => {
    const r = simulatorRequest('google', { model: 'tuned/my model', tokens: 1 });
    const completion = await decode('google', await send(r));
    expect(completion.model).toBe('tuned/my model');
  });
});

describe('other endpoints', () => {
  it('should list models in each provider shape', async () => {
    const get = (path: string, headers: Record<string, string> = {}) =>
      fetch(sim.url + path, { headers, dispatcher: agent }).then((res) => res.json());
    expect(await get('/v1/models')).toMatchObject({
      object: 'list',
      data: [{ id: 'sim-gpt-4o-mini', object: 'model' }, {}, {}],
    });
    expect(await get('/v1/models', { 'anthropic-version': '2023-06-01' })).toMatchObject({
      data: [{ type: 'model', id: 'sim-gpt-4o-mini' }, {}, {}],
      has_more: false,
    });
    expect(await get('/v1beta/models')).toMatchObject({
      models: [{ name: 'models/sim-gpt-4o-mini' }, {}, {}],
    });
    expect(await get('/v1/models/gpt-x')).toMatchObject({ id: 'gpt-x', object: 'model' });
  });

  it('should answer unknown paths with 404 naming the served endpoints', async () => {
    const res = await fetch(`${sim.url}/v1/completions`, {
      method: 'POST',
      body: '{}',
      dispatcher: agent,
    });
    expect(res.status).toBe(404);
    const json = (await res.json()) as { error: { message: string } };
    expect(json.error.message).toContain('POST /v1/completions');
    expect(json.error.message).toContain('/v1/chat/completions');
  });
});

describe('limits and keys', () => {
  let strict: Simulator;
  beforeAll(async () => {
    strict = await startSimulator({ requireApiKey: 'sk-test', maxBodyBytes: 2048 });
  });
  afterAll(async () => {
    await strict.close();
  });
  const post = (r: SimulatorRequest, body = JSON.stringify(r.body)) =>
    fetch(strict.url + r.path, { method: 'POST', headers: r.headers, body, dispatcher: agent });

  it.each<[StreamFormat, number, number, string]>([
    ['openai', 401, 401, 'invalid_api_key'],
    ['anthropic', 401, 401, 'authentication_error'],
    ['google', 403, 400, 'API_KEY_INVALID'],
  ])('should check the %s key like the real API', async (format, missing, wrong, marker) => {
    const none = await post(simulatorRequest(format));
    expect(none.status).toBe(missing);
    await none.text();
    const bad = await post(simulatorRequest(format, { apiKey: 'sk-wrong' }));
    expect(bad.status).toBe(wrong);
    expect(await bad.text()).toContain(marker);
    const good = await post(simulatorRequest(format, { apiKey: 'sk-test', tokens: 1 }));
    expect(good.status).toBe(200);
    await good.text();
  });

  it.each(formats)('should answer %s bodies over maxBodyBytes with 413', async (format) => {
    const r = simulatorRequest(format, { apiKey: 'sk-test', prompt: 'word '.repeat(1000) });
    const res = await post(r);
    expect(res.status).toBe(413);
    expect(await res.text()).toContain('2048 bytes');
    const attempt = strict.attempts[strict.attempts.length - 1]!;
    expect(attempt).toMatchObject({ status: 413, outcome: 'error-status' });
  });
});
