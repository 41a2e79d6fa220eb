import { firstValueFrom, lastValueFrom, toArray } from 'rxjs';
import type { StreamingChunk } from '../../../src/chunk/streaming-chunk';
import { toCompletion } from '../../../src/chunk/collect-completion';
import { NetworkError } from '../../../src/errors/network-error';
import { ProviderError } from '../../../src/errors/provider-error';
import { openaiCompatible } from '../../../src/providers/http/openai-compatible-provider';
import {
  expectedAnswer,
  simulatorRequest,
  type AttemptRecord,
  type SimulatorRequestOptions,
} from '../../../src/simulator/index';
import {
  chatRequest,
  chunkText,
  closedPort,
  FORMAT_OF,
  latestEndedAttempt,
  oneKeyForAll,
  PROVIDER_KINDS as kinds,
  streamError,
  useProviderSimulator,
  type ProviderKind,
} from '../../helpers/provider-fixtures';

/** The simulator requires exactly this key, so a provider that sends it wrongly gets a 401. */
const API_KEY = 'sk-sim-happy-path-0123456789abcdef';

const nameOf: Record<ProviderKind, string> = {
  openai: 'openai',
  anthropic: 'anthropic',
  google: 'google',
  openaiCompatible: 'local-vllm',
};

const env = useProviderSimulator({
  keys: oneKeyForAll(API_KEY),
  compatName: nameOf.openaiCompatible,
  simulator: { requireApiKey: API_KEY },
});

/** What the simulator answers, computed from the request its own client would build. */
function expected(kind: ProviderKind, options: SimulatorRequestOptions) {
  const format = FORMAT_OF[kind];
  return expectedAnswer(format, simulatorRequest(format, options).body);
}

/** The finished attempt for `model`, the latest one if several. */
function attemptFor(model: string): Promise<AttemptRecord> {
  return latestEndedAttempt(env.sim, (a) => a.model === model);
}

function pathFor(kind: ProviderKind, model: string): string {
  switch (FORMAT_OF[kind]) {
    case 'openai':
      return '/v1/chat/completions';
    case 'anthropic':
      return '/v1/messages';
    case 'google':
      return `/v1beta/models/${model}:streamGenerateContent`;
  }
}

describe('streaming a text answer', () => {
  it.each(kinds)(
    'should stream the simulator text, usage, provider and model (%s)',
    async (kind) => {
      const provider = env.provider(kind);
      const model = `happy-${kind}`;
      const request = chatRequest(model, 'Hello there');
      const chunks = await lastValueFrom(provider.stream(request).pipe(toArray()));
      const answer = expected(kind, { prompt: 'Hello there', model });

      const text = chunks.map(chunkText).join('');
      expect(text).toBe(answer.text);
      expect(text.length).toBeGreaterThan(0);
      for (const chunk of chunks) {
        expect(chunk).toMatchObject({
          object: 'chat.completion.chunk',
          provider: nameOf[kind],
          model,
        });
      }
      const completion = await toCompletion(provider.stream(request));
      expect(completion.choices[0]!.message.content).toBe(answer.text);
      expect(completion.choices[0]!.finish_reason).toBe('stop');
      expect(completion.usage).toMatchObject({
        prompt_tokens: answer.usage.promptTokens,
        completion_tokens: answer.usage.completionTokens,
        total_tokens: answer.usage.totalTokens,
      });

      // The request went to the provider's real endpoint, with the model and as a stream.
      expect(await attemptFor(model)).toMatchObject({
        method: 'POST',
        path: pathFor(kind, model),
        format: FORMAT_OF[kind],
        endpoint: 'chat',
        model,
        stream: true,
        status: 200,
        outcome: 'completed',
        promptTokens: answer.usage.promptTokens,
      });
    },
  );

  it.each(['openai', 'openaiCompatible'] as const)(
    'should ask %s for usage (stream_options.include_usage): the usage chunk has no choices',
    async (kind) => {
      const chunks = await lastValueFrom(
        env.provider(kind).stream(chatRequest('usage-check', 'Hi')).pipe(toArray()),
      );
      // The simulator sends the `choices: []` usage chunk only when include_usage was asked for.
      const usage = chunks.filter((c) => c.usage !== undefined);
      expect(usage).toHaveLength(1);
      expect(usage[0]!.choices).toEqual([]);
    },
  );

  it.each(kinds)(
    'should translate the system message and max_tokens (%s): a length finish',
    async (kind) => {
      const model = `translated-${kind}`;
      const completion = await toCompletion(
        env.provider(kind).stream({
          model,
          messages: [
            { role: 'system', content: 'Answer in one short line' },
            { role: 'user', content: 'Tell me about rivers' },
          ],
          max_tokens: 5,
        }),
      );
      const answer = expected(kind, {
        model,
        system: 'Answer in one short line',
        prompt: 'Tell me about rivers',
        maxTokens: 5,
      });
      expect(answer.finishReason).toBe('length');
      expect(completion.choices[0]!.message.content).toBe(answer.text);
      expect(completion.choices[0]!.finish_reason).toBe('length');
      // The system text was sent (the simulator counts its words as prompt tokens).
      expect(completion.usage?.prompt_tokens).toBe(answer.usage.promptTokens);
      expect((await attemptFor(model)).promptTokens).toBe(answer.usage.promptTokens);
    },
  );

  it('should be refused with an authentication error when the key is missing', async () => {
    const provider = openaiCompatible({ name: 'keyless', baseURL: `${env.sim.url}/v1` });
    env.track(provider);
    const error = await streamError(provider.stream(chatRequest('keyless', 'Hi')));
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ kind: 'authentication', status: 401, provider: 'keyless' });
  });
});

describe('streaming a tool call', () => {
  const parameters = {
    type: 'object',
    properties: { city: { type: 'string' }, days: { type: 'integer' } },
    required: ['city'],
  };

  it.each(kinds)('should stream the tool call with its name and arguments (%s)', async (kind) => {
    const model = `tool-${kind}`;
    const completion = await toCompletion(
      env.provider(kind).stream({
        model,
        messages: [{ role: 'user', content: 'What is the weather? Please use the tool' }],
        tools: [{ type: 'function', function: { name: 'get_weather', parameters } }],
      }),
    );
    const answer = expected(kind, {
      model,
      prompt: 'What is the weather? Please use the tool',
      tools: [{ name: 'get_weather', parameters }],
    });
    expect(answer.toolCall).toBeDefined();
    const message = completion.choices[0]!.message;
    expect(message.tool_calls).toHaveLength(1);
    const call = message.tool_calls![0]!;
    expect(call.type).toBe('function');
    expect(call.id).toEqual(expect.any(String));
    expect(call.function.name).toBe('get_weather');
    expect(JSON.parse(call.function.arguments)).toEqual(JSON.parse(answer.toolCall!.arguments));
    expect(completion.choices[0]!.finish_reason).toBe('tool_calls');
    expect(completion.usage?.completion_tokens).toBe(answer.usage.completionTokens);
    expect(await attemptFor(model)).toMatchObject({ outcome: 'completed', status: 200 });
  });
});

describe('cold streams', () => {
  it.each(kinds)(
    'should send nothing until subscribed, and one request per subscription (%s)',
    async (kind) => {
      const model = `cold-${kind}`;
      const stream$ = env.provider(kind).stream(chatRequest(model, 'Hi'));
      await new Promise((resolve) => setTimeout(resolve, 30));
      expect(env.sim.attempts.filter((a) => a.model === model)).toHaveLength(0);

      const [first, second] = await Promise.all([
        lastValueFrom(stream$.pipe(toArray())),
        lastValueFrom(stream$.pipe(toArray())),
      ]);
      expect(first.length).toBeGreaterThan(0);
      const contents = (chunks: StreamingChunk[]): string =>
        chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
      expect(contents(second)).toBe(contents(first));
      expect(env.sim.attempts.filter((a) => a.model === model)).toHaveLength(2);

      // A third subscription, even just for the first chunk, is a third request.
      await firstValueFrom(stream$);
      expect(env.sim.attempts.filter((a) => a.model === model)).toHaveLength(3);
    },
  );
});

describe('healthCheck', () => {
  it('should GET /v1/models for OpenAI and resolve', async () => {
    const provider = env.provider('openai');
    env.sim.clearAttempts();
    await expect(provider.healthCheck!()).resolves.toBeUndefined();
    const attempt = await env.sim.waitForAttempt((a) => a.outcome !== 'in-progress');
    expect(attempt).toMatchObject({
      method: 'GET',
      path: '/v1/models',
      endpoint: 'models',
      format: 'openai',
      status: 200,
      outcome: 'completed',
    });
  });

  it.each<[ProviderKind, string]>([
    ['anthropic', '/v1/models'],
    ['google', '/v1beta/models'],
    ['openaiCompatible', '/v1/models'],
  ])('should resolve for %s (GET %s)', async (kind, path) => {
    const provider = env.provider(kind);
    env.sim.clearAttempts();
    await expect(provider.healthCheck!()).resolves.toBeUndefined();
    expect(await env.sim.waitForAttempt((a) => a.outcome !== 'in-progress')).toMatchObject({
      method: 'GET',
      path,
      endpoint: 'models',
      format: FORMAT_OF[kind],
      status: 200,
    });
  });

  it.each(kinds)('should reject with a NetworkError when %s is unreachable', async (kind) => {
    const port = await closedPort();
    const provider = env.provider(kind, { origin: `http://127.0.0.1:${port}` });
    const error = await provider.healthCheck!().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NetworkError);
    expect(error).toMatchObject({
      code: 'RXLLM_NETWORK',
      isRetryable: true,
      provider: nameOf[kind],
    });
    expect((error as Error).message).toContain(`127.0.0.1:${port}`);
  });
});
