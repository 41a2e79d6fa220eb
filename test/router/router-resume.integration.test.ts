import { countWords, simulatedText } from '../../src/simulator/index';
import { chatRequest, chunkText, keysPerProvider } from '../helpers/provider-fixtures';
import {
  chatAttempts,
  endedChatAttempts,
  eventsOf,
  runRouted,
  useRouterSimulator,
} from '../helpers/router-fixtures';

/**
 * Resume through the router: a stream cut after K tokens is continued by the next candidate (on
 * another provider) from an assistant prefill of what was streamed, and the consumer gets the
 * exact full answer, with the usage of both legs summed.
 */

const PROMPT = 'Tell me a long story about resuming';
const TOKENS = 24;
const FULL = simulatedText(PROMPT, TOKENS);

const env = useRouterSimulator({ keys: keysPerProvider('router-resume') });

beforeEach(() => {
  env.sim.reset();
});

describe("failover policy 'resume' through the router", () => {
  it.each([
    ['openai', 'reset-after-5', 5, 'anthropic', 'claude-sonnet-4-5', 'RXLLM_INCOMPLETE_STREAM'],
    ['google', 'inband-error-after-4', 4, 'openai', 'gpt-4o-mini', 'RXLLM_PROVIDER_OVERLOADED'],
    ['anthropic', 'malformed-at-7', 7, 'google', 'gemini-2.5-flash', 'RXLLM_PARSE'],
  ] as const)(
    'should complete a %s stream cut by %s exactly on the next candidate, with the usage of both legs summed',
    async (primaryKind, spec, k, fallbackKind, fallbackModel, code) => {
      const primaryModel = `sim-fault-${spec}`;
      const t = env.router({
        providers: {
          [primaryKind]: env.provider(primaryKind),
          [fallbackKind]: env.provider(fallbackKind),
        },
        routes: {
          story: {
            failover: 'resume',
            candidates: [
              { provider: primaryKind, model: primaryModel },
              { provider: fallbackKind, model: fallbackModel },
            ],
          },
        },
        // The simulator's own token count: the cut leg's estimated usage is then exact.
        estimateTokens: countWords,
      });

      const run = await runRouted(t.router.stream(chatRequest('story', PROMPT)));
      const [cut, continued] = await endedChatAttempts(env.sim, 2);

      // The exact full answer, from two candidates, each chunk naming the one that served it.
      expect(run.error).toBeUndefined();
      expect(run.text).toBe(FULL);
      expect(run.servedBy).toEqual([
        `${primaryKind}/${primaryModel}`,
        `${fallbackKind}/${fallbackModel}`,
      ]);
      const byPrimary = run.chunks.filter((c) => c.provider === primaryKind);
      const byFallback = run.chunks.filter((c) => c.provider === fallbackKind);
      expect(byPrimary.length + byFallback.length).toBe(run.chunks.length);
      expect(byPrimary.every((c) => c.model === primaryModel)).toBe(true);
      expect(byFallback.every((c) => c.model === fallbackModel)).toBe(true);
      expect(byPrimary.map(chunkText).join('')).toBe(simulatedText(PROMPT, k));
      // One role for the whole answer, one finish reason, at the end.
      expect(run.chunks.filter((c) => c.choices[0]?.delta.role !== undefined)).toHaveLength(1);
      const finishes = run.chunks.filter((c) => (c.choices[0]?.finish_reason ?? null) !== null);
      expect(finishes).toHaveLength(1);
      expect(finishes[0]!.choices[0]!.finish_reason).toBe('stop');

      // What the simulator saw: the cut after K tokens, then a continuation of the rest from a
      // prefill of those K tokens.
      expect(chatAttempts(env.sim)).toHaveLength(2);
      expect(cut!.model).toBe(primaryModel);
      // (After a malformed event the simulator goes on writing; the client stopped reading.)
      expect(cut!.tokensSent).toBeGreaterThanOrEqual(k);
      expect(continued).toMatchObject({
        model: fallbackModel,
        outcome: 'completed',
        tokensSent: TOKENS - k,
        promptTokens: countWords(PROMPT) + k,
      });
      expect(eventsOf(t.events, 'failover')).toMatchObject([
        {
          from: `${primaryKind}/${primaryModel}`,
          to: `${fallbackKind}/${fallbackModel}`,
          mode: 'resume',
          code,
        },
      ]);

      // Usage: what both legs were billed, the cut one estimated from the K tokens it streamed
      // (exactly, with word counts).
      const usage = run.chunks.at(-1)?.usage;
      const prompt = cut!.promptTokens! + continued!.promptTokens!;
      expect(usage).toMatchObject({
        prompt_tokens: prompt,
        completion_tokens: k + continued!.tokensSent,
        total_tokens: prompt + TOKENS,
      });
      const [session] = t.router.sessions.list();
      expect(session).toMatchObject({
        state: 'completed',
        failovers: 1,
        attempts: 2,
        provider: fallbackKind,
        model: fallbackModel,
        usage,
        completionTokens: TOKENS,
      });
      await env.closeRouter(t);
    },
  );

  it("should not resume under policy 'error': the consumer gets the K tokens, then an IncompleteStreamError", async () => {
    const t = env.router({
      providers: { openai: env.provider('openai'), anthropic: env.provider('anthropic') },
      routes: {
        story: [
          { provider: 'openai', model: 'sim-fault-reset-after-5' },
          { provider: 'anthropic', model: 'claude-sonnet-4-5' },
        ],
      },
    });

    const run = await runRouted(t.router.stream(chatRequest('story', PROMPT)));

    expect(run.text).toBe(simulatedText(PROMPT, 5));
    expect(run.error).toMatchObject({
      code: 'RXLLM_INCOMPLETE_STREAM',
      partialText: simulatedText(PROMPT, 5),
    });
    await endedChatAttempts(env.sim, 1);
    expect(chatAttempts(env.sim)).toHaveLength(1);
    expect(eventsOf(t.events, 'failover')).toEqual([]);
    await env.closeRouter(t);
  });
});
