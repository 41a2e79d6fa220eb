import { ValidationError } from '../../src/errors/validation-error';
import type { Provider } from '../../src/providers/provider';
import type { ChatRequest } from '../../src/request/chat-request';
import { simulatedText } from '../../src/simulator/index';
import { chatRequest, keysPerProvider } from '../helpers/provider-fixtures';
import {
  captureRequestBodies,
  chatAttempts,
  endedChatAttempts,
  eventsOf,
  runRouted,
  useRouterSimulator,
  type TestRouter,
} from '../helpers/router-fixtures';

/**
 * Per-request fallbacks: OpenRouter's `models: [...]` and LiteLLM's `fallbacks: [...]` in the
 * request body are tried after the route's own candidates, and are never sent upstream.
 */

const PROMPT = 'Fall back per request';
const FULL = simulatedText(PROMPT, 24);

const env = useRouterSimulator({ keys: keysPerProvider('router-fallbacks') });

beforeEach(() => {
  env.sim.reset();
});

/**
 * Routes: `main` (an OpenAI candidate answering 503, then a Gemini one answering 500), `broken`
 * (a Gemini candidate answering 502) and `claude` (a healthy Anthropic one). No retries.
 */
function router(): TestRouter & { handed: ChatRequest[] } {
  const handed: ChatRequest[] = [];
  const record = (provider: Provider): Provider => ({
    name: provider.name,
    stream(request, options) {
      handed.push(request);
      return provider.stream(request, options);
    },
    close: () => provider.close?.() ?? Promise.resolve(),
  });
  const t = env.router({
    providers: {
      openai: record(env.provider('openai')),
      google: record(env.provider('google')),
      anthropic: record(env.provider('anthropic')),
    },
    routes: {
      main: [
        { provider: 'openai', model: 'sim-fault-status-503' },
        { provider: 'google', model: 'sim-fault-status-500' },
      ],
      broken: [{ provider: 'google', model: 'sim-fault-status-502' }],
      claude: [{ provider: 'anthropic', model: 'claude-sonnet-4-5' }],
    },
    defaults: { retry: false },
  });
  return Object.assign(t, { handed });
}

/** Whether a captured body holds a per-request fallback field, at any depth. */
function hasFallbackField(body: unknown): boolean {
  if (typeof body !== 'object' || body === null) return false;
  return Object.entries(body).some(
    ([k, v]) => k === 'models' || k === 'fallbacks' || hasFallbackField(v),
  );
}

describe('per-request fallbacks', () => {
  it.each([
    ['models (OpenRouter)', { models: ['main', 'broken', 'claude'] }],
    ['fallbacks (LiteLLM)', { fallbacks: ['broken', { model: 'claude' }] }],
  ])(
    'should try the %s after the route’s candidates, in order, and not send them upstream',
    async (_name, extra) => {
      const t = router();
      const capture = captureRequestBodies(env.sim);
      const run = await runRouted(t.router.stream({ ...chatRequest('main', PROMPT), ...extra }));
      await endedChatAttempts(env.sim, 4);
      capture.stop();

      expect(run.error).toBeUndefined();
      expect(run.text).toBe(FULL);
      expect(run.servedBy).toEqual(['anthropic/claude-sonnet-4-5']);
      // The route's two candidates, then the request's fallbacks, in order.
      expect(chatAttempts(env.sim).map((a) => [a.model, a.status])).toEqual([
        ['sim-fault-status-503', 503],
        ['sim-fault-status-500', 500],
        ['sim-fault-status-502', 502],
        ['claude-sonnet-4-5', 200],
      ]);
      expect(eventsOf(t.events, 'failover').map((e) => [e.from, e.to])).toEqual([
        ['openai/sim-fault-status-503', 'google/sim-fault-status-500'],
        ['google/sim-fault-status-500', 'google/sim-fault-status-502'],
        ['google/sim-fault-status-502', 'anthropic/claude-sonnet-4-5'],
      ]);
      // What the router handed the providers, and what went over the wire: four requests,
      // none with the fallback fields. (The providers strip them too, as a second line.)
      expect(t.handed).toHaveLength(4);
      for (const request of t.handed) expect(hasFallbackField(request)).toBe(false);
      expect(capture.bodies).toHaveLength(4);
      for (const { body } of capture.bodies) {
        expect(typeof body).toBe('object');
        expect(hasFallbackField(body)).toBe(false);
      }
      expect(capture.bodies[0]!.body).toMatchObject({ model: 'sim-fault-status-503' });
      expect(capture.bodies[3]!.body).toMatchObject({ model: 'claude-sonnet-4-5' });
      expect(t.router.sessions.list()[0]).toMatchObject({
        requestedModel: 'main',
        route: 'main',
        failovers: 3,
      });
      await env.closeRouter(t);
    },
  );

  it('should not call a fallback when the route’s own candidate answers', async () => {
    const t = router();
    const run = await runRouted(
      t.router.stream({ ...chatRequest('claude', PROMPT), models: ['claude', 'main'] }),
    );
    expect(run.text).toBe(FULL);
    await endedChatAttempts(env.sim, 1);
    expect(chatAttempts(env.sim).map((a) => a.model)).toEqual(['claude-sonnet-4-5']);
    await env.closeRouter(t);
  });

  it('should refuse an unknown fallback model with a ValidationError naming its path, before any call', async () => {
    const t = router();
    const run = await runRouted(
      t.router.stream({ ...chatRequest('main', PROMPT), fallbacks: ['claude', 'nope'] }),
    );
    expect(run.error).toBeInstanceOf(ValidationError);
    expect((run.error as Error).message).toContain('fallbacks[1]');
    expect(chatAttempts(env.sim)).toEqual([]);
    await env.closeRouter(t);
  });
});
