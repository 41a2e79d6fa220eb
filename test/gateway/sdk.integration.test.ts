import OpenAI from 'openai';
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import { expectedAnswer, expectedChoices, simulatedText } from '../../src/simulator/index';
import { attemptsFor, DEFAULT_ROUTES, simProvider, useGateway } from './gateway-fixtures';

/**
 * The official OpenAI SDK (v6) as the client of the gateway: what any OpenAI application sees.
 */
const PROMPT = 'Tell me about gateways';
const TOKENS = 24;
const TEXT = simulatedText(PROMPT, TOKENS);

const env = useGateway({
  routes: {
    ...DEFAULT_ROUTES,
    // Its own provider: the 429 puts the provider in a cooldown that must not touch other tests.
    'rate-limited': [{ provider: 'limited', model: 'sim-fault-status-429-retry-30' }],
    // Anthropic first: it cannot take `n` above 1.
    'claude-first': [
      { provider: 'anthropic', model: 'claude-sonnet-4-5' },
      { provider: 'openai', model: 'gpt-4o-mini' },
    ],
  },
  providers: (sim) => ({ limited: simProvider(sim, 'openai') }),
});

beforeEach(() => {
  env.sim.reset();
});

const messages = [{ role: 'user' as const, content: PROMPT }];

/** Reads a streamed answer to its end: the chunks and the joined text. */
async function readAll(
  stream: AsyncIterable<ChatCompletionChunk>,
): Promise<{ chunks: ChatCompletionChunk[]; text: string }> {
  const chunks: ChatCompletionChunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return { chunks, text: chunks.map((c) => c.choices[0]?.delta.content ?? '').join('') };
}

const tools = [
  {
    type: 'function' as const,
    function: {
      name: 'get_weather',
      parameters: {
        type: 'object',
        properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['c', 'f'] } },
        required: ['city', 'unit'],
      },
    },
  },
];

describe('the OpenAI SDK against the gateway', () => {
  it('should stream the answer with the serving provider and model in every chunk', async () => {
    const stream = await env.client.chat.completions.create({
      model: 'fast',
      messages,
      stream: true,
    });
    const { chunks, text } = await readAll(stream);
    expect(text).toBe(TEXT);
    for (const chunk of chunks) {
      expect(chunk).toMatchObject({ object: 'chat.completion.chunk', model: 'gpt-4o-mini' });
      expect((chunk as unknown as { provider: string }).provider).toBe('openai');
      expect(chunk.usage ?? undefined).toBeUndefined();
    }
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('stop');
    expect(attemptsFor(env.sim, 'gpt-4o-mini')).toHaveLength(1);
  });

  it('should return the whole completion without streaming', async () => {
    const completion = await env.client.chat.completions.create({ model: 'fast', messages });
    expect(completion).toMatchObject({
      object: 'chat.completion',
      model: 'gpt-4o-mini',
      choices: [{ index: 0, message: { role: 'assistant', content: TEXT }, finish_reason: 'stop' }],
      usage: { completion_tokens: TOKENS },
    });
    expect((completion as unknown as { provider: string }).provider).toBe('openai');
  });

  it('should send the usage chunk last when include_usage is set', async () => {
    const stream = await env.client.chat.completions.create({
      model: 'claude-sonnet-4-5',
      messages,
      stream: true,
      stream_options: { include_usage: true },
    });
    const { chunks, text } = await readAll(stream);
    expect(text).toBe(TEXT);
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage).toMatchObject({
      completion_tokens: TOKENS,
      total_tokens: expect.any(Number),
    });
    expect(chunks.slice(0, -1).every((c) => c.usage === undefined || c.usage === null)).toBe(true);
    expect((last as unknown as { provider: string }).provider).toBe('anthropic');
  });

  it('should stream a tool call and return it whole without streaming', async () => {
    const body = { model: 'gpt-4o', messages, tools, tool_choice: 'required' as const };
    const expected = expectedAnswer('openai', body).toolCall!;
    expect(expected).toBeDefined();

    const stream = await env.client.chat.completions.create({ ...body, stream: true });
    const { chunks } = await readAll(stream);
    const deltas = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    expect(deltas[0]).toMatchObject({
      index: 0,
      type: 'function',
      function: { name: 'get_weather' },
    });
    expect(deltas.map((d) => d.function?.arguments ?? '').join('')).toBe(expected.arguments);
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('tool_calls');

    const completion = await env.client.chat.completions.create(body);
    const call = completion.choices[0]?.message.tool_calls?.[0];
    expect(call).toMatchObject({
      type: 'function',
      function: { name: 'get_weather', arguments: expected.arguments },
    });
    expect(completion.choices[0]?.finish_reason).toBe('tool_calls');
    expect(JSON.parse(expected.arguments)).toMatchObject({ unit: 'c' });
  });

  it('should stream n: 2 choices, each whole, from the first candidate that can take n', async () => {
    const body = { model: 'claude-first', messages, n: 2, max_completion_tokens: 8 };
    const stream = await env.client.chat.completions.create({
      ...body,
      stream: true,
      stream_options: { include_usage: true },
    });
    const { chunks } = await readAll(stream);
    const texts = ['', ''];
    for (const chunk of chunks) {
      for (const choice of chunk.choices)
        texts[choice.index] = (texts[choice.index] ?? '') + (choice.delta.content ?? '');
    }
    expect(texts).toEqual(expectedChoices('openai', body).map((choice) => choice.text));
    expect(texts[0]).not.toBe(texts[1]);
    expect(chunks.at(-1)?.usage?.completion_tokens).toBe(16);
    // Anthropic refused before sending anything; OpenAI answered once.
    expect(attemptsFor(env.sim, 'claude-sonnet-4-5')).toHaveLength(0);
    expect(attemptsFor(env.sim, 'gpt-4o-mini')).toHaveLength(1);
  });

  it('should return n: 2 candidates of Gemini without streaming', async () => {
    const body = { model: 'gemini-2.5-flash', messages, n: 2, max_completion_tokens: 4 };
    const completion = await env.client.chat.completions.create(body);
    expect(completion.choices.map((c) => [c.index, c.message.content, c.finish_reason])).toEqual(
      expectedChoices('google', {
        contents: [{ role: 'user', parts: [{ text: PROMPT }] }],
        generationConfig: { candidateCount: 2, maxOutputTokens: 4 },
      }).map((choice, index) => [index, choice.text, 'length']),
    );
    expect(completion.usage?.completion_tokens).toBe(8);
  });

  it('should raise BadRequestError naming n when no candidate can take it', async () => {
    const error = await env.client.chat.completions
      .create({ model: 'claude-sonnet-4-5', messages, n: 2 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('n');
    expect((error as Error).message).toContain('Anthropic returns one choice per request');
    expect(attemptsFor(env.sim, 'claude-sonnet-4-5')).toHaveLength(0);
  });

  it.each([true, false])(
    'should pass the log probabilities on, from the first candidate that gives them, with stream: %s',
    async (stream) => {
      const body = { model: 'claude-first', messages, max_completion_tokens: 6, logprobs: true };
      const completion = stream
        ? await env.client.chat.completions.stream({ ...body, stream: true }).finalChatCompletion()
        : await env.client.chat.completions.create({ ...body, stream: false });
      const tokens = completion.choices[0]?.logprobs?.content?.map((entry) => entry.token);
      expect(tokens?.join('')).toBe(simulatedText(PROMPT, 6));
      expect(tokens).toHaveLength(6);
      // Anthropic cannot give them: it was not called, OpenAI answered.
      expect(attemptsFor(env.sim, 'claude-sonnet-4-5')).toHaveLength(0);
      expect(attemptsFor(env.sim, 'gpt-4o-mini')).toHaveLength(1);
    },
  );

  it("should give Gemini's log probabilities in OpenAI's shape", async () => {
    const completion = await env.client.chat.completions
      .stream({
        model: 'gemini-2.5-flash',
        messages,
        max_completion_tokens: 5,
        logprobs: true,
        top_logprobs: 2,
        stream: true,
      })
      .finalChatCompletion();
    const content = completion.choices[0]?.logprobs?.content ?? [];
    expect(content.map((entry) => entry.token).join('')).toBe(simulatedText(PROMPT, 5));
    for (const entry of content) {
      expect(entry.top_logprobs).toHaveLength(2);
      expect(Buffer.from(entry.bytes ?? []).toString('utf8')).toBe(entry.token);
    }
  });

  it('should raise NotFoundError listing the models for an unknown model', async () => {
    const error = await env.client.chat.completions
      .create({ model: 'no-such-model', messages, stream: true })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    const e = error as InstanceType<typeof OpenAI.NotFoundError>;
    expect(e.status).toBe(404);
    expect(e.code).toBe('model_not_found');
    expect(e.param).toBe('model');
    expect(e.message).toContain('fast, gpt-*, claude-*, gemini-*, sim-fault-*');
    expect(e.headers.get('x-session-id')).toMatch(/^sess_/);
  });

  it('should raise BadRequestError naming the field of an invalid request', async () => {
    const error = await env.client.chat.completions
      .create({ model: 'fast', messages: [{ role: 'robot', content: 'hi' }] as never })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    const e = error as InstanceType<typeof OpenAI.BadRequestError>;
    expect(e.param).toBe('messages[0].role');
    expect(e.message).toContain('messages[0].role');
  });

  it('should raise RateLimitError with the Retry-After when the only candidate is rate-limited', async () => {
    const error = await env.client.chat.completions
      .create({ model: 'rate-limited', messages, stream: true })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    const e = error as InstanceType<typeof OpenAI.RateLimitError>;
    expect(e.status).toBe(429);
    expect(e.headers.get('retry-after')).toBe('30');
    expect(e.type).toBe('rate_limit_error');
    // A 30 s Retry-After is longer than the router waits: one attempt, no retry.
    expect(attemptsFor(env.sim, 'sim-fault-status-429-retry-30')).toHaveLength(1);
  });

  it('should raise InternalServerError-class errors for an upstream outage', async () => {
    const error = await env.client.chat.completions
      .create({ model: 'sim-fault-status-503', messages })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(503);
    expect((error as InstanceType<typeof OpenAI.APIError>).type).toBe('server_error');
  });

  it('should raise when the stream fails after it started, after the text that came', async () => {
    const stream = await env.client.chat.completions.create({
      model: 'sim-fault-inband-error-after-4',
      messages,
      stream: true,
    });
    let text = '';
    const error = await (async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as Error).message).toMatch(/\S/);
    expect(text).toBe(simulatedText(PROMPT, 4));
  });
});
