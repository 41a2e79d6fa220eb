/**
 * The official clients as independent judges of the simulator: whatever the OpenAI, Anthropic
 * and Google GenAI SDKs read from it must be exactly what the simulator meant to say
 * (`expectedAnswer`), and its errors must surface as each SDK's own typed errors.
 */
import Anthropic from '@anthropic-ai/sdk';
import {
  ApiError,
  FinishReason,
  FunctionCallingConfigMode,
  type GenerateContentResponse,
} from '@google/genai';
import OpenAI from 'openai';
import type {
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionCreateParamsStreaming,
  ChatCompletionTool,
} from 'openai/resources/chat/completions';
import {
  expectedAnswer,
  expectedChoices,
  startSimulator,
  type Simulator,
} from '../../src/simulator/index';
import { sdkClients, settleSockets, type SdkClients } from '../helpers/sdk-clients';

let sim: Simulator;
let clients: SdkClients;

beforeAll(async () => {
  sim = await startSimulator({ host: '127.0.0.1', port: 0 });
  clients = sdkClients(sim.url);
});

afterAll(async () => {
  await sim.close();
  // Node's fetch keeps its sockets alive; they must close with the simulator's connections.
  const left = await settleSockets();
  expect(left).not.toContain('TCPSocketWrap');
  expect(left).not.toContain('TCPServerWrap');
});

/** One JSON Schema for every provider's tool, so the simulator plans the same arguments. */
const weatherSchema = {
  type: 'object',
  properties: {
    city: { type: 'string' },
    days: { type: 'integer' },
    unit: { type: 'string', enum: ['celsius', 'fahrenheit'] },
    hourly: { type: 'boolean' },
  },
  required: ['city', 'days'],
};

/** The parsed arguments the simulator planned for a request's tool call. */
function plannedArgs(answer: ReturnType<typeof expectedAnswer>): unknown {
  if (answer.toolCall === undefined) throw new Error('The simulator planned no tool call.');
  return JSON.parse(answer.toolCall.arguments);
}

/** The error a promise rejects with (fails the test if it resolves). */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('Expected the SDK call to reject, but it resolved.');
}

describe('the openai SDK (v6) as a judge', () => {
  const tools: ChatCompletionTool[] = [
    {
      type: 'function',
      function: { name: 'get_weather', description: 'The forecast.', parameters: weatherSchema },
    },
  ];

  it('should stream exactly the planned text, finish reason and usage', async () => {
    const body: ChatCompletionCreateParamsStreaming = {
      model: 'sim-gpt-4o-mini',
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'user', content: 'Describe the harbor at dawn' },
      ],
      stream: true,
      stream_options: { include_usage: true },
    };
    const expected = expectedAnswer('openai', body);

    const stream = await clients.openai.chat.completions.create(body);
    let text = '';
    const finishReasons: string[] = [];
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      text += choice?.delta.content ?? '';
      if (choice?.finish_reason != null) finishReasons.push(choice.finish_reason);
      if (chunk.usage != null) usage = chunk.usage;
    }

    expect(text).toBe(expected.text);
    expect(text.split(' ')).toHaveLength(24);
    expect(finishReasons).toEqual(['stop']);
    expect(usage?.prompt_tokens).toBe(expected.usage.promptTokens);
    expect(usage?.completion_tokens).toBe(expected.usage.completionTokens);
    expect(usage?.total_tokens).toBe(expected.usage.totalTokens);
    // "You are terse." + "Describe the harbor at dawn": 3 + 5 words.
    expect([usage?.prompt_tokens, usage?.completion_tokens]).toEqual([8, 24]);
  });

  it('should read exactly the planned text and usage without streaming', async () => {
    const body: ChatCompletionCreateParamsNonStreaming = {
      model: 'sim-gpt-4o-mini',
      messages: [{ role: 'user', content: 'Name three copper things' }],
      max_completion_tokens: 10,
    };
    const expected = expectedAnswer('openai', body);

    const completion = await clients.openai.chat.completions.create(body);

    expect(completion.choices).toHaveLength(1);
    expect(completion.choices[0]?.message.content).toBe(expected.text);
    expect(completion.choices[0]?.finish_reason).toBe('length');
    expect(completion.usage?.prompt_tokens).toBe(expected.usage.promptTokens);
    expect(completion.usage?.completion_tokens).toBe(expected.usage.completionTokens);
    expect(completion.usage?.completion_tokens).toBe(10);
  });

  it.each([true, false])(
    'should see the planned tool call (name, arguments, tool_calls) with stream: %s',
    async (stream) => {
      const body = {
        model: 'sim-gpt-4o-mini',
        messages: [{ role: 'user' as const, content: 'Use the tool for Lisbon' }],
        tools,
        stream,
      };
      const expected = expectedAnswer('openai', body);

      // The SDK's own accumulator assembles the streamed argument pieces.
      const completion = stream
        ? await clients.openai.chat.completions
            .stream({ ...body, stream: true, stream_options: { include_usage: true } })
            .finalChatCompletion()
        : await clients.openai.chat.completions.create({ ...body, stream: false });

      const choice = completion.choices[0];
      expect(choice?.finish_reason).toBe('tool_calls');
      expect(choice?.message.content).toBeNull();
      expect(choice?.message.tool_calls).toHaveLength(1);
      const call = choice?.message.tool_calls?.[0];
      expect(call?.type).toBe('function');
      if (call?.type !== 'function') throw new Error('Expected a function tool call.');
      expect(call.id).toMatch(/^call_[0-9A-Za-z]{24}$/);
      expect(call.function.name).toBe('get_weather');
      expect(JSON.parse(call.function.arguments)).toEqual(plannedArgs(expected));
      expect(completion.usage?.completion_tokens).toBe(expected.usage.completionTokens);
    },
  );

  it('should stream n: 3 choices interleaved, each exactly as planned, with the usage of all', async () => {
    const body: ChatCompletionCreateParamsStreaming = {
      model: 'sim-gpt-4o-mini',
      messages: [{ role: 'user', content: 'Three ways to say hello' }],
      n: 3,
      max_completion_tokens: 6,
      stream: true,
      stream_options: { include_usage: true },
    };
    const expected = expectedChoices('openai', body);
    const usage = expectedAnswer('openai', body).usage;

    const stream = await clients.openai.chat.completions.create(body);
    const texts = ['', '', ''];
    const order: number[] = [];
    const finishes = new Map<number, string>();
    let reported: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) {
      for (const choice of chunk.choices) {
        order.push(choice.index);
        texts[choice.index] = (texts[choice.index] ?? '') + (choice.delta.content ?? '');
        if (choice.finish_reason != null) finishes.set(choice.index, choice.finish_reason);
      }
      if (chunk.usage != null) reported = chunk.usage;
    }

    expect(expected).toHaveLength(3);
    expect(texts).toEqual(expected.map((choice) => choice.text));
    // Three different answers, each cut at 6 tokens.
    expect(new Set(texts).size).toBe(3);
    expect(texts.map((text) => text.split(' ').length)).toEqual([6, 6, 6]);
    expect([...finishes]).toEqual([
      [0, 'length'],
      [1, 'length'],
      [2, 'length'],
    ]);
    // Interleaved: the first chunks are the role chunks of choices 0, 1 and 2 in turn.
    expect(order.slice(0, 6)).toEqual([0, 0, 1, 1, 2, 2]);
    expect(reported?.completion_tokens).toBe(18);
    expect(reported?.completion_tokens).toBe(usage.completionTokens);
    expect(reported?.prompt_tokens).toBe(usage.promptTokens);
  });

  it('should answer n: 2 without streaming with two choices and the usage of both', async () => {
    const body: ChatCompletionCreateParamsNonStreaming = {
      model: 'sim-gpt-4o-mini',
      messages: [{ role: 'user', content: 'Two ways to say hello' }],
      n: 2,
    };
    const expected = expectedChoices('openai', body);

    const completion = await clients.openai.chat.completions.create(body);

    expect(completion.choices.map((choice) => choice.index)).toEqual([0, 1]);
    expect(completion.choices.map((choice) => choice.message.content)).toEqual(
      expected.map((choice) => choice.text),
    );
    expect(expected[0]?.text).toBe(expectedAnswer('openai', { ...body, n: 1 }).text);
    expect(completion.usage?.completion_tokens).toBe(48);
  });

  it.each([0, 129, 1.5])('should refuse n: %s with a 400 naming n', async (n) => {
    const error = await rejection(
      clients.openai.chat.completions.create({
        model: 'sim-gpt-4o-mini',
        messages: [{ role: 'user', content: 'Hi' }],
        n,
      }),
    );
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('n');
  });

  it.each([true, false])(
    'should give each text token a log probability and top_logprobs alternatives with stream: %s',
    async (stream) => {
      const body = {
        model: 'sim-gpt-4o-mini',
        messages: [{ role: 'user' as const, content: 'How sure are you' }],
        max_completion_tokens: 5,
        logprobs: true,
        top_logprobs: 3,
      };
      const expected = expectedAnswer('openai', body);
      const completion = stream
        ? await clients.openai.chat.completions
            .stream({ ...body, stream: true })
            .finalChatCompletion()
        : await clients.openai.chat.completions.create({ ...body, stream: false });

      const content = completion.choices[0]?.logprobs?.content ?? [];
      expect(content.map((entry) => entry.token).join('')).toBe(expected.text);
      expect(content).toHaveLength(5);
      for (const entry of content) {
        expect(entry.logprob).toBeLessThanOrEqual(0);
        expect(Buffer.from(entry.bytes ?? []).toString('utf8')).toBe(entry.token);
        expect(entry.top_logprobs).toHaveLength(3);
        expect(entry.top_logprobs[0]?.token).toBe(entry.token);
      }
    },
  );

  it('should refuse top_logprobs without logprobs, naming the field', async () => {
    const error = await rejection(
      clients.openai.chat.completions.create({
        model: 'sim-gpt-4o-mini',
        messages: [{ role: 'user', content: 'Hi' }],
        top_logprobs: 2,
      }),
    );
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('top_logprobs');
  });

  it('should carry reasoning_content in the raw chunks (outside the SDK types)', async () => {
    const body: ChatCompletionCreateParamsStreaming = {
      model: 'sim-gpt-4o-mini',
      messages: [{ role: 'user', content: 'Think about the glacier' }],
      reasoning_effort: 'low',
      stream: true,
      stream_options: { include_usage: true },
    };
    const expected = expectedAnswer('openai', body);

    let reasoning = '';
    let text = '';
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of await clients.openai.chat.completions.create(body)) {
      // `choices` is empty in the usage chunk.
      const delta = chunk.choices[0]?.delta as
        { reasoning_content?: string | null; content?: string | null } | undefined;
      reasoning += delta?.reasoning_content ?? '';
      text += delta?.content ?? '';
      if (chunk.usage != null) usage = chunk.usage;
    }

    expect(expected.reasoning.split(' ')).toHaveLength(8);
    expect(reasoning).toBe(expected.reasoning);
    expect(text).toBe(expected.text);
    expect(usage?.completion_tokens_details?.reasoning_tokens).toBe(8);
    expect(usage?.completion_tokens).toBe(expected.usage.completionTokens);
  });

  it('should raise its RateLimitError for status-429', async () => {
    const error = await rejection(
      clients.openai.chat.completions.create(
        { model: 'sim-gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] },
        { headers: { 'x-simulator-fault': 'status-429' } },
      ),
    );

    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    const rateLimit = error as InstanceType<typeof OpenAI.RateLimitError>;
    expect(rateLimit.status).toBe(429);
    expect(rateLimit.code).toBe('rate_limit_exceeded');
    expect(rateLimit.type).toBe('requests');
    expect(rateLimit.requestID).toMatch(/^req_[0-9a-f]{32}$/);
    expect(sim.attempts.at(-1)).toMatchObject({ fault: 'status-429', status: 429 });
  });

  it('should raise an APIError while iterating when the stream carries an in-band error', async () => {
    const body: ChatCompletionCreateParamsStreaming = {
      model: 'sim-gpt-4o-mini',
      messages: [{ role: 'user', content: 'Tell a long story' }],
      stream: true,
    };
    const stream = await clients.openai.chat.completions.create(body, {
      headers: { 'x-simulator-fault': 'inband-error-after-3' },
    });
    let text = '';
    const error = await rejection(
      (async () => {
        for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
      })(),
    );

    expect(text).toBe(expectedAnswer('openai', body, { tokens: 3 }).text);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    const apiError = error as InstanceType<typeof OpenAI.APIError>;
    // The SDK does not know a status for an error event; it keeps the error object.
    expect(apiError.status).toBeUndefined();
    expect(apiError.type).toBe('server_error');
    expect(apiError.message).toBe('The engine is currently overloaded, please try again later');
    expect(sim.attempts.at(-1)?.outcome).toBe('inband-error');
  });
});

describe('the @anthropic-ai/sdk (v1) as a judge', () => {
  const tools: Anthropic.Tool[] = [
    {
      name: 'get_weather',
      description: 'The forecast.',
      input_schema: weatherSchema as Anthropic.Tool.InputSchema,
    },
  ];

  it('should stream exactly the planned text, stop reason and usage', async () => {
    const body: Anthropic.MessageCreateParamsNonStreaming = {
      model: 'sim-claude-sonnet',
      max_tokens: 1024,
      system: 'You are terse.',
      messages: [{ role: 'user', content: 'Describe the harbor at dawn' }],
    };
    const expected = expectedAnswer('anthropic', { ...body, stream: true });

    const stream = clients.anthropic.messages.stream(body);
    let text = '';
    stream.on('text', (delta) => {
      text += delta;
    });
    const message = await stream.finalMessage();

    expect(text).toBe(expected.text);
    expect(message.content).toEqual([{ type: 'text', text: expected.text }]);
    expect(message.stop_reason).toBe('end_turn');
    expect(message.usage.input_tokens).toBe(expected.usage.promptTokens);
    expect(message.usage.output_tokens).toBe(expected.usage.completionTokens);
    expect([message.usage.input_tokens, message.usage.output_tokens]).toEqual([8, 24]);
  });

  it('should read exactly the planned text and usage without streaming', async () => {
    const body: Anthropic.MessageCreateParamsNonStreaming = {
      model: 'sim-claude-sonnet',
      max_tokens: 10,
      messages: [{ role: 'user', content: 'Name three copper things' }],
    };
    const expected = expectedAnswer('anthropic', body);

    const message = await clients.anthropic.messages.create(body);

    expect(message.content).toEqual([{ type: 'text', text: expected.text }]);
    expect(message.stop_reason).toBe('max_tokens');
    expect(message.usage.input_tokens).toBe(expected.usage.promptTokens);
    expect(message.usage.output_tokens).toBe(10);
  });

  it.each([true, false])(
    'should see the planned tool_use block (name, input, tool_use) with stream: %s',
    async (stream) => {
      const body: Anthropic.MessageCreateParamsNonStreaming = {
        model: 'sim-claude-sonnet',
        max_tokens: 1024,
        messages: [{ role: 'user', content: 'Use the tool for Lisbon' }],
        tools,
        tool_choice: { type: 'tool', name: 'get_weather' },
      };
      const expected = expectedAnswer('anthropic', { ...body, stream });

      // The SDK's MessageStream parses the streamed partial JSON into `input` itself.
      const message = stream
        ? await clients.anthropic.messages.stream(body).finalMessage()
        : await clients.anthropic.messages.create(body);

      expect(message.stop_reason).toBe('tool_use');
      expect(message.content).toHaveLength(1);
      const block = message.content[0];
      expect(block?.type).toBe('tool_use');
      if (block?.type !== 'tool_use') throw new Error('Expected a tool_use block.');
      expect(block.id).toMatch(/^toolu_01[0-9A-Za-z]{22}$/);
      expect(block.name).toBe('get_weather');
      expect(block.input).toEqual(plannedArgs(expected));
      expect(message.usage.output_tokens).toBe(expected.usage.completionTokens);
    },
  );

  it('should read the thinking block when thinking is enabled', async () => {
    const body: Anthropic.MessageCreateParamsNonStreaming = {
      model: 'sim-claude-sonnet',
      max_tokens: 4096,
      thinking: { type: 'enabled', budget_tokens: 2048 },
      messages: [{ role: 'user', content: 'Think about the glacier' }],
    };
    const expected = expectedAnswer('anthropic', { ...body, stream: true });

    let thinking = '';
    const stream = clients.anthropic.messages.stream(body);
    stream.on('thinking', (delta) => {
      thinking += delta;
    });
    const message = await stream.finalMessage();

    expect(expected.reasoning.split(' ')).toHaveLength(8);
    expect(thinking).toBe(expected.reasoning);
    expect(message.content.map((block) => block.type)).toEqual(['thinking', 'text']);
    const [thought, answer] = message.content;
    if (thought?.type !== 'thinking' || answer?.type !== 'text') throw new Error('Bad blocks.');
    expect(thought.thinking).toBe(expected.reasoning);
    expect(thought.signature).toMatch(/^Eq[0-9A-Za-z]{86}==$/);
    expect(answer.text).toBe(expected.text);
    expect(message.usage.output_tokens).toBe(expected.usage.completionTokens);
  });

  it('should raise its RateLimitError for status-429', async () => {
    const error = await rejection(
      clients.anthropic.messages.create(
        {
          model: 'sim-claude-sonnet',
          max_tokens: 64,
          messages: [{ role: 'user', content: 'Hi' }],
        },
        { headers: { 'x-simulator-fault': 'status-429' } },
      ),
    );

    expect(error).toBeInstanceOf(Anthropic.RateLimitError);
    const rateLimit = error as InstanceType<typeof Anthropic.RateLimitError>;
    expect(rateLimit.status).toBe(429);
    expect(rateLimit.requestID).toMatch(/^req_011C[0-9A-Za-z]{20}$/);
    expect(rateLimit.error).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } });
  });

  it('should raise an APIError while iterating when the stream carries an error event', async () => {
    const body: Anthropic.MessageCreateParamsStreaming = {
      model: 'sim-claude-sonnet',
      max_tokens: 1024,
      messages: [{ role: 'user', content: 'Tell a long story' }],
      stream: true,
    };
    const stream = await clients.anthropic.messages.create(body, {
      headers: { 'x-simulator-fault': 'inband-error-after-3' },
    });
    let text = '';
    const error = await rejection(
      (async () => {
        for await (const event of stream) {
          if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') {
            text += event.delta.text;
          }
        }
      })(),
    );

    expect(text).toBe(expectedAnswer('anthropic', body, { tokens: 3 }).text);
    expect(error).toBeInstanceOf(Anthropic.APIError);
    const apiError = error as InstanceType<typeof Anthropic.APIError>;
    expect(apiError.status).toBeUndefined();
    expect(apiError.error).toMatchObject({
      type: 'error',
      error: { type: 'overloaded_error', message: 'Overloaded' },
    });
    expect(sim.attempts.at(-1)?.outcome).toBe('inband-error');
  });
});

describe('the @google/genai SDK (v1) as a judge', () => {
  /** The text of a response's non-thought parts (read directly: `.text` warns on other parts). */
  const textOf = (response: GenerateContentResponse): string =>
    (response.candidates?.[0]?.content?.parts ?? [])
      .filter((part) => part.thought !== true)
      .map((part) => part.text ?? '')
      .join('');

  /**
   * What the SDK puts on the wire for `contents: "<text>"` and a config (the prompt counts
   * below confirm it).
   */
  const wireBody = (
    text: string,
    extra: Record<string, unknown> = {},
  ): Record<string, unknown> => ({
    contents: [{ role: 'user', parts: [{ text }] }],
    ...extra,
  });

  it('should stream exactly the planned text, finish reason and usage', async () => {
    const expected = expectedAnswer(
      'google',
      wireBody('Describe the harbor at dawn', {
        systemInstruction: { parts: [{ text: 'You are terse.' }] },
      }),
    );

    const responses: GenerateContentResponse[] = [];
    for await (const response of await clients.google.models.generateContentStream({
      model: 'sim-gemini-flash',
      contents: 'Describe the harbor at dawn',
      config: { systemInstruction: 'You are terse.' },
    })) {
      responses.push(response);
    }

    expect(responses.map(textOf).join('')).toBe(expected.text);
    const last = responses.at(-1);
    expect(last?.candidates?.[0]?.finishReason).toBe(FinishReason.STOP);
    expect(last?.usageMetadata?.promptTokenCount).toBe(expected.usage.promptTokens);
    expect(last?.usageMetadata?.candidatesTokenCount).toBe(expected.usage.completionTokens);
    expect(last?.usageMetadata?.totalTokenCount).toBe(expected.usage.totalTokens);
    expect(last?.usageMetadata?.promptTokenCount).toBe(8);
  });

  it('should read exactly the planned text and usage without streaming', async () => {
    const expected = expectedAnswer(
      'google',
      wireBody('Name three copper things', { generationConfig: { maxOutputTokens: 10 } }),
    );

    const response = await clients.google.models.generateContent({
      model: 'sim-gemini-flash',
      contents: 'Name three copper things',
      config: { maxOutputTokens: 10 },
    });

    expect(response.text).toBe(expected.text);
    expect(response.candidates?.[0]?.finishReason).toBe(FinishReason.MAX_TOKENS);
    expect(response.usageMetadata?.promptTokenCount).toBe(expected.usage.promptTokens);
    expect(response.usageMetadata?.candidatesTokenCount).toBe(10);
  });

  it.each([true, false])(
    'should answer candidateCount: 2 with two planned candidates, with stream: %s',
    async (stream) => {
      const config = { candidateCount: 2, maxOutputTokens: 5 };
      const expected = expectedChoices(
        'google',
        wireBody('Two ways to say hello', { generationConfig: config }),
      );
      const request = { model: 'sim-gemini-flash', contents: 'Two ways to say hello', config };
      const responses: GenerateContentResponse[] = [];
      if (stream) {
        for await (const response of await clients.google.models.generateContentStream(request)) {
          responses.push(response);
        }
      } else {
        responses.push(await clients.google.models.generateContent(request));
      }

      const texts = ['', ''];
      const finishes: unknown[] = [];
      for (const response of responses) {
        for (const candidate of response.candidates ?? []) {
          const index = candidate.index ?? 0;
          for (const part of candidate.content?.parts ?? [])
            texts[index] = (texts[index] ?? '') + (part.text ?? '');
          if (candidate.finishReason !== undefined) finishes.push([index, candidate.finishReason]);
        }
      }
      expect(texts).toEqual(expected.map((choice) => choice.text));
      expect(texts[0]).not.toBe(texts[1]);
      expect(finishes).toEqual([
        [0, FinishReason.MAX_TOKENS],
        [1, FinishReason.MAX_TOKENS],
      ]);
      expect(responses.at(-1)?.usageMetadata?.candidatesTokenCount).toBe(10);
    },
  );

  it('should give each text token a logprobsResult step when responseLogprobs is set', async () => {
    const config = { responseLogprobs: true, logprobs: 2, maxOutputTokens: 4 };
    const expected = expectedAnswer(
      'google',
      wireBody('How sure are you', { generationConfig: config }),
    );
    const chosen: string[] = [];
    for await (const response of await clients.google.models.generateContentStream({
      model: 'sim-gemini-flash',
      contents: 'How sure are you',
      config,
    })) {
      const result = response.candidates?.[0]?.logprobsResult;
      for (const [step, entry] of (result?.chosenCandidates ?? []).entries()) {
        chosen.push(entry.token ?? '');
        expect(entry.logProbability).toBeLessThanOrEqual(0);
        expect(result?.topCandidates?.[step]?.candidates?.map((c) => c.token)[0]).toBe(entry.token);
        expect(result?.topCandidates?.[step]?.candidates).toHaveLength(2);
      }
    }
    expect(chosen.join('')).toBe(expected.text);
    expect(chosen).toHaveLength(4);
  });

  it('should refuse candidateCount: 9 with a 400', async () => {
    const error = await rejection(
      clients.google.models.generateContent({
        model: 'sim-gemini-flash',
        contents: 'Hi',
        config: { candidateCount: 9 },
      }),
    );
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(400);
    expect((error as ApiError).message).toContain('candidateCount');
  });

  it.each([true, false])(
    'should see the planned functionCall part (name, args, STOP) with stream: %s',
    async (stream) => {
      const functionCallingConfig = {
        mode: FunctionCallingConfigMode.ANY,
        allowedFunctionNames: ['get_weather'],
      };
      const declaration = {
        name: 'get_weather',
        description: 'The forecast.',
        parametersJsonSchema: weatherSchema,
      };
      const expected = expectedAnswer(
        'google',
        wireBody('Use the tool for Lisbon', {
          tools: [{ functionDeclarations: [declaration] }],
          toolConfig: { functionCallingConfig },
        }),
      );

      const request = {
        model: 'sim-gemini-flash',
        contents: 'Use the tool for Lisbon',
        config: {
          tools: [{ functionDeclarations: [declaration] }],
          toolConfig: { functionCallingConfig },
        },
      };
      const responses: GenerateContentResponse[] = [];
      if (stream) {
        for await (const response of await clients.google.models.generateContentStream(request)) {
          responses.push(response);
        }
      } else {
        responses.push(await clients.google.models.generateContent(request));
      }

      const calls = responses.flatMap((response) => response.functionCalls ?? []);
      expect(calls).toEqual([{ name: 'get_weather', args: plannedArgs(expected) }]);
      expect(responses.at(-1)?.candidates?.[0]?.finishReason).toBe(FinishReason.STOP);
      expect(responses.at(-1)?.usageMetadata?.candidatesTokenCount).toBe(
        expected.usage.completionTokens,
      );
    },
  );

  it('should read thought parts when thinkingConfig.includeThoughts is set', async () => {
    const expected = expectedAnswer(
      'google',
      wireBody('Think about the glacier', {
        generationConfig: { thinkingConfig: { includeThoughts: true } },
      }),
    );

    const responses: GenerateContentResponse[] = [];
    for await (const response of await clients.google.models.generateContentStream({
      model: 'sim-gemini-flash',
      contents: 'Think about the glacier',
      config: { thinkingConfig: { includeThoughts: true } },
    })) {
      responses.push(response);
    }

    const parts = responses.flatMap((response) => response.candidates?.[0]?.content?.parts ?? []);
    const thoughts = parts.filter((part) => part.thought === true).map((part) => part.text);
    expect(thoughts).toHaveLength(8);
    expect(thoughts.join('')).toBe(expected.reasoning);
    expect(responses.map(textOf).join('')).toBe(expected.text);
    // The first part after the thoughts carries the signature.
    const signed = parts.filter((part) => part.thoughtSignature !== undefined);
    expect(signed).toHaveLength(1);
    expect(signed[0]?.thought).toBeUndefined();
    const usage = responses.at(-1)?.usageMetadata;
    expect(usage?.thoughtsTokenCount).toBe(8);
    expect((usage?.candidatesTokenCount ?? 0) + (usage?.thoughtsTokenCount ?? 0)).toBe(
      expected.usage.completionTokens,
    );
  });

  it('should raise its ApiError with status 429 for status-429', async () => {
    const error = await rejection(
      clients.google.models.generateContentStream({
        model: 'sim-gemini-flash',
        contents: 'Hi',
        config: { httpOptions: { headers: { 'x-simulator-fault': 'status-429' } } },
      }),
    );

    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(429);
    expect((error as ApiError).message).toContain('RESOURCE_EXHAUSTED');
    expect(sim.attempts.at(-1)).toMatchObject({ fault: 'status-429', status: 429 });
  });

  /** Streams with a fault; returns the text read and the error the iteration ended with. */
  async function streamUntilError(
    contents: string,
    fault: string,
  ): Promise<{ text: string; error: unknown }> {
    const responses: GenerateContentResponse[] = [];
    const error = await rejection(
      (async () => {
        for await (const response of await clients.google.models.generateContentStream({
          model: 'sim-gemini-flash',
          contents,
          config: { httpOptions: { headers: { 'x-simulator-fault': fault } } },
        })) {
          responses.push(response);
        }
      })(),
    );
    return { text: responses.map(textOf).join(''), error };
  }

  // Gemini's mid-stream error is pretty-printed JSON outside the SSE framing. The SDK looks for
  // it by trying `JSON.parse` on each raw read of the body, before splitting the read into
  // events. So it recognizes the error only when one read is exactly that JSON. Node's fetch
  // joins whatever bytes have arrived into one read, so the error is often glued to the events
  // before it. Then the parse fails, the events are decoded, and the error text stays in the
  // SDK's buffer as a non-`data:` leftover. The stream ends with a plain
  // `Error('Incomplete JSON segment at the end')`, with no status and no message. This timing
  // dependence is why our decoder detects the bare error explicitly.

  it('should raise its ApiError (503) when the bare JSON error is the whole body', async () => {
    const { text, error } = await streamUntilError('Tell a long story', 'inband-error-after-0');

    expect(text).toBe('');
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(503);
    expect((error as ApiError).message).toBe(
      'got status: UNAVAILABLE. {"error":{"code":503,"message":"The model is overloaded. Please try again later.","status":"UNAVAILABLE"}}',
    );
    expect(sim.attempts.at(-1)?.outcome).toBe('inband-error');
  });

  it('should raise, typed or not depending on read boundaries, when the error follows events', async () => {
    const { text, error } = await streamUntilError('Tell a long story', 'inband-error-after-3');

    // The three events before the error are decoded either way.
    expect(text).toBe(expectedAnswer('google', wireBody('Tell a long story'), { tokens: 3 }).text);
    expect(sim.attempts.at(-1)?.outcome).toBe('inband-error');
    // The read that holds the error either is exactly the error JSON (ApiError, 503) or also
    // holds event bytes (untyped Error: status and message are lost).
    expect(error).toBeInstanceOf(Error);
    const seen =
      error instanceof ApiError
        ? { kind: 'ApiError', status: error.status, message: error.message.slice(0, 25) }
        : { kind: 'Error', status: undefined, message: (error as Error).message };
    expect([
      { kind: 'ApiError', status: 503, message: 'got status: UNAVAILABLE.' },
      { kind: 'Error', status: undefined, message: 'Incomplete JSON segment at the end' },
    ]).toContainEqual(seen);
  });
});
