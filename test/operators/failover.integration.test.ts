import { tap, type Observable } from 'rxjs';
import type { StreamingChunk } from '../../src/chunk/streaming-chunk';
import { toCompletion } from '../../src/chunk/collect-completion';
import { IncompleteStreamError } from '../../src/errors/incomplete-stream-error';
import { toAsyncIterable } from '../../src/flow/to-async-iterable';
import {
  candidate,
  failover,
  type FailoverCandidate,
  type FailoverInfo,
} from '../../src/operators/failover';
import type { ChatRequest } from '../../src/request/chat-request';
import { countWords, simulatedText, type AttemptRecord } from '../../src/simulator/index';
import {
  chatRequest,
  keysPerProvider,
  useProviderSimulator,
  streamError,
} from '../helpers/provider-fixtures';

/** The simulator's default answer length, in tokens. */
const TOKENS = 24;
const PROMPT = 'Tell me about failover';
/** The whole answer the simulator gives PROMPT, whoever serves it. */
const FULL_TEXT = simulatedText(PROMPT, TOKENS);
/** Where the `reset-after-K` faults cut it. */
const K = 5;

const env = useProviderSimulator({ keys: keysPerProvider('failover') });

beforeEach(() => {
  env.sim.clearAttempts();
});

/** A candidate that records the requests it is sent. */
function recording(c: FailoverCandidate): FailoverCandidate & { requests: ChatRequest[] } {
  const requests: ChatRequest[] = [];
  return {
    name: c.name,
    model: c.model,
    requests,
    stream(request) {
      requests.push(request);
      return c.stream(request);
    },
  };
}

/** The ended generation attempts, oldest first. */
async function attempts(count: number): Promise<AttemptRecord[]> {
  await env.sim.waitForAttempt(
    () =>
      env.sim.attempts.filter((a) => a.endpoint === 'chat' && a.outcome !== 'in-progress').length >=
      count,
    { timeoutMs: 2000 },
  );
  return env.sim.attempts.filter((a) => a.endpoint === 'chat');
}

/** The source leg: the OpenAI provider, with the fault in the model name. */
function sourceWith(fault: string): { request: ChatRequest; source$: Observable<StreamingChunk> } {
  const request = chatRequest(`sim-fault-${fault}`, PROMPT);
  return { request, source$: env.provider('openai').stream(request) };
}

describe('failover against the simulator', () => {
  it('should fail over invisibly after a reset before the headers, and complete the answer', async () => {
    const { request, source$ } = sourceWith('reset-before-headers');
    const backup = recording(candidate(env.provider('anthropic'), 'claude-sonnet-4-5'));
    const infos: FailoverInfo[] = [];

    const completion = await toCompletion(
      source$.pipe(failover([backup], { request, onFailover: (i) => infos.push(i) })),
    );

    expect(completion.choices[0]?.message.content).toBe(FULL_TEXT);
    expect(completion.choices[0]?.finish_reason).toBe('stop');
    expect(completion).toMatchObject({ provider: 'anthropic', model: 'claude-sonnet-4-5' });
    const log = await attempts(2);
    expect(log.map((a) => [a.model, a.outcome])).toEqual([
      ['sim-fault-reset-before-headers', 'reset'],
      ['claude-sonnet-4-5', 'completed'],
    ]);
    expect(backup.requests).toEqual([request]); // candidate() sets the model below this wrapper
    expect(infos).toMatchObject([{ mode: 'restart', resumed: false, partialText: '' }]);
  });

  it('should resume after a reset after K tokens with the exact full text, the second attempt carrying the prefill', async () => {
    const { request, source$ } = sourceWith(`reset-after-${K}`);
    const backup = recording(candidate(env.provider('anthropic'), 'claude-sonnet-4-5'));
    const chunks: StreamingChunk[] = [];

    const completion = await toCompletion(
      source$.pipe(
        failover([backup], { request, policy: 'resume', estimateTokens: countWords }),
        tap((c) => chunks.push(c)),
      ),
    );

    expect(completion.choices[0]?.message.content).toBe(FULL_TEXT);
    const partial = simulatedText(PROMPT, K);
    expect(backup.requests).toHaveLength(1);
    expect(backup.requests[0]?.messages.at(-1)).toEqual({ role: 'assistant', content: partial });
    const [first, second] = await attempts(2);
    expect(env.sim.attempts.filter((a) => a.endpoint === 'chat')).toHaveLength(2);
    expect(first).toMatchObject({ outcome: 'reset', tokensSent: K });
    expect(second).toMatchObject({
      model: 'claude-sonnet-4-5',
      outcome: 'completed',
      tokensSent: TOKENS - K, // only the continuation
      promptTokens: countWords(PROMPT) + countWords(partial), // the prefill is input
    });
    // With the simulator's own token count as the estimate, the summed usage is exactly what
    // the simulator billed over both attempts.
    expect(completion.usage).toMatchObject({
      prompt_tokens: first!.promptTokens! + second!.promptTokens!,
      completion_tokens: first!.tokensSent + second!.tokensSent,
    });
    // Every chunk names who served it; one role chunk only.
    const servedBy = new Set(chunks.map((c) => `${c.provider}/${c.model}`));
    expect(servedBy).toEqual(
      new Set(['openai/sim-fault-reset-after-5', 'anthropic/claude-sonnet-4-5']),
    );
  });

  it('should resume through a for-await consumer with backpressure', async () => {
    const { request, source$ } = sourceWith(`reset-after-${K}`);
    const backup = candidate(env.provider('google'), 'gemini-2.5-flash');
    let text = '';
    for await (const chunk of toAsyncIterable(
      source$.pipe(failover([backup], { request, policy: 'resume' })),
      { highWaterMark: 2 },
    )) {
      text += chunk.choices[0]?.delta.content ?? '';
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(text).toBe(FULL_TEXT);
    expect((await attempts(2)).map((a) => a.outcome)).toEqual(['reset', 'completed']);
  });

  it('should regenerate and splice when the next candidate rejects the prefill', async () => {
    const { request, source$ } = sourceWith(`reset-after-${K}`);
    const backup = recording(candidate(env.provider('openai'), 'sim-fault-reject-prefill'));
    const infos: FailoverInfo[] = [];

    const completion = await toCompletion(
      source$.pipe(
        failover([backup], {
          request,
          policy: 'resume',
          estimateTokens: countWords,
          onFailover: (i) => infos.push(i),
        }),
      ),
    );

    expect(completion.choices[0]?.message.content).toBe(FULL_TEXT);
    const log = await attempts(3);
    expect(log.map((a) => [a.outcome, a.status, a.tokensSent])).toEqual([
      ['reset', 200, K],
      ['error-status', 400, 0],
      ['completed', 200, TOKENS],
    ]);
    expect(backup.requests.map((r) => r.messages.at(-1)?.role)).toEqual(['assistant', 'user']);
    expect(infos.map((i) => i.mode)).toEqual(['resume', 'regenerate']);
    // Billed: the cut attempt and the regenerated one (the 400 was not billed).
    expect(completion.usage).toMatchObject({
      prompt_tokens: log[0]!.promptTokens! + log[2]!.promptTokens!,
      completion_tokens: K + TOKENS,
    });
  });

  it("should error with an IncompleteStreamError holding the first K tokens under policy 'error'", async () => {
    const { request, source$ } = sourceWith(`reset-after-${K}`);
    const backup = recording(candidate(env.provider('anthropic'), 'claude-sonnet-4-5'));

    const error = await streamError(source$.pipe(failover([backup], { request })));

    expect(error).toBeInstanceOf(IncompleteStreamError);
    expect(error).toMatchObject({
      code: 'RXLLM_INCOMPLETE_STREAM',
      partialText: simulatedText(PROMPT, K),
      provider: 'openai',
    });
    expect((error as Error).cause).toBeDefined();
    expect(backup.requests).toEqual([]);
    expect((await attempts(1)).map((a) => a.outcome)).toEqual(['reset']);
  });
});
