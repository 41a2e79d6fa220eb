import { filter, firstValueFrom } from 'rxjs';
import { CancelledError } from '../../src/errors/cancelled-error';
import type { Router } from '../../src/router/router';
import { simulatedText } from '../../src/simulator/index';
import { chatRequest, keysPerProvider } from '../helpers/provider-fixtures';
import {
  candidateHealth,
  chatAttempts,
  endedChatAttempts,
  runRouted,
  useRouterSimulator,
  type TestRouter,
} from '../helpers/router-fixtures';

/**
 * Sessions over the HTTP providers: `attach` is another viewer of the same upstream request (a
 * replay from the start or an index, then live, with no second call), and `cancel` aborts the
 * upstream request at once.
 */

const PROMPT = 'Watch this session';
const TOKENS = 24;
const FULL = simulatedText(PROMPT, TOKENS);
/** How long the primary pauses mid-answer: the window in which the tests attach or cancel. */
const PAUSE_MS = 300;

const env = useRouterSimulator({ keys: keysPerProvider('router-sessions') });

beforeEach(() => {
  env.sim.reset();
});

/** A router whose `chat` route's primary pauses after `k` tokens for `pauseMs`. */
function pausingRouter(k: number, pauseMs: number): TestRouter {
  return env.router({
    providers: { openai: env.provider('openai'), anthropic: env.provider('anthropic') },
    routes: {
      chat: [
        { provider: 'openai', model: `sim-fault-stall-after-${k}-${pauseMs}` },
        { provider: 'anthropic', model: 'claude-sonnet-4-5' },
      ],
    },
    defaults: { timeouts: { firstTokenMs: 5000, idleMs: pauseMs + 5000 } },
  });
}

/** Resolves once session `id` has relayed at least `chunks` chunks. */
function sessionReached(router: Router, id: string, chunks: number): Promise<unknown> {
  return firstValueFrom(router.sessions.watch(id).pipe(filter((s) => s.chunks >= chunks)));
}

describe('sessions over HTTP providers', () => {
  it('should replay a session from the start to a viewer that attaches mid-stream, then continue live, with one upstream call', async () => {
    const t = pausingRouter(5, PAUSE_MS);
    const { router } = t;
    const first = runRouted(router.stream(chatRequest('chat', PROMPT), { sessionId: 'watched' }));
    // Mid-stream: the primary sent 5 tokens and is paused.
    const [upstream] = await Promise.all([
      env.sim.waitForAttempt((a) => a.tokensSent === 5 && a.stalls.length === 1),
      sessionReached(router, 'watched', 5),
    ]);
    expect(upstream.outcome).toBe('in-progress');
    const seenAtAttach = router.sessions.get('watched')!.chunks;
    expect(router.sessions.get('watched')).toMatchObject({ state: 'streaming' });

    const [fromStart, fromIndex] = await Promise.all([
      runRouted(router.sessions.attach('watched')),
      runRouted(router.sessions.attach('watched', { fromIndex: seenAtAttach })),
    ]);
    const original = await first;

    expect(original.error).toBeUndefined();
    expect(original.text).toBe(FULL);
    // The same chunks, in the same order: the replay, then the live ones.
    expect(fromStart.error).toBeUndefined();
    expect(fromStart.chunks).toEqual(original.chunks);
    expect(fromIndex.chunks).toEqual(original.chunks.slice(seenAtAttach));
    // One upstream request, which completed; nothing sent to the fallback.
    await endedChatAttempts(env.sim, 1);
    expect(chatAttempts(env.sim)).toMatchObject([{ id: upstream.id, outcome: 'completed' }]);
    expect(router.sessions.get('watched')).toMatchObject({
      state: 'completed',
      viewers: 3,
      attempts: 1,
      chunks: original.chunks.length,
    });

    // After the end: the whole replay and the completion, still without a new request.
    const late = await runRouted(router.sessions.attach('watched'));
    expect(late.chunks).toEqual(original.chunks);
    expect(late.error).toBeUndefined();
    expect(chatAttempts(env.sim)).toHaveLength(1);

    // An unknown id is an error, not a new request.
    const unknown = await runRouted(router.sessions.attach('nope'));
    expect(unknown.error).toMatchObject({ code: 'RXLLM_NOT_FOUND', status: 404 });
    expect(chatAttempts(env.sim)).toHaveLength(1);
    await env.closeRouter(t);
  });

  it('should abort the upstream request within 100 ms of cancel(id), and end every viewer with a CancelledError', async () => {
    // A pause far longer than the test: only the cancel can end this stream.
    const t = pausingRouter(3, 10_000);
    const { router } = t;
    const first = runRouted(router.stream(chatRequest('chat', PROMPT), { sessionId: 'doomed' }));
    const [upstream] = await Promise.all([
      env.sim.waitForAttempt((a) => a.tokensSent === 3 && a.stalls.length === 1),
      sessionReached(router, 'doomed', 3),
    ]);
    const viewer = runRouted(router.sessions.attach('doomed'));

    const cancelledAt = env.sim.now();
    expect(router.sessions.cancel('doomed')).toBe(true);
    const closed = await env.sim.waitForAttempt(
      (a) => a.id === upstream.id && a.outcome === 'client-closed',
      { timeoutMs: 1000 },
    );
    expect(closed.clientClosedAt! - cancelledAt).toBeLessThan(100);
    expect(closed.tokensSent).toBe(3);

    const [own, other] = await Promise.all([first, viewer]);
    for (const run of [own, other]) {
      expect(run.error).toBeInstanceOf(CancelledError);
      expect(run.error).toMatchObject({ code: 'RXLLM_CANCELLED' });
      expect(run.text).toBe(simulatedText(PROMPT, 3));
    }
    expect(router.sessions.get('doomed')).toMatchObject({ state: 'cancelled' });
    expect(router.sessions.cancel('doomed')).toBe(false); // already over
    // A cancel is neither a failure nor a reason to fail over.
    expect(chatAttempts(env.sim)).toHaveLength(1);
    expect(candidateHealth(router, 'openai/sim-fault-stall-after-3-10000').counts).toMatchObject({
      cancel: 1,
      failure: 0,
      timeout: 0,
    });
    await env.closeRouter(t);
  });

  it("should keep the cancel's reason as the session's last error", async () => {
    const t = pausingRouter(3, 10_000);
    const { router } = t;
    const first = runRouted(router.stream(chatRequest('chat', PROMPT), { sessionId: 'why' }));
    await sessionReached(router, 'why', 3);

    router.sessions.cancel('why');
    const run = await first;

    // The viewers were told why; the session says so too.
    expect(run.error).toMatchObject({ code: 'RXLLM_CANCELLED' });
    expect(router.sessions.get('why')).toMatchObject({
      state: 'cancelled',
      lastError: { code: 'RXLLM_CANCELLED' },
    });
    await env.closeRouter(t);
  });

  it("should abort the upstream request when the request's AbortSignal fires, and fail with its reason", async () => {
    const t = pausingRouter(3, 10_000);
    const { router } = t;
    const controller = new AbortController();
    const first = runRouted(
      router.stream(chatRequest('chat', PROMPT), {
        sessionId: 'signalled',
        signal: controller.signal,
      }),
    );
    const [upstream] = await Promise.all([
      env.sim.waitForAttempt((a) => a.tokensSent === 3 && a.stalls.length === 1),
      sessionReached(router, 'signalled', 3),
    ]);

    const abortedAt = env.sim.now();
    const reason = new CancelledError('The user pressed stop.');
    controller.abort(reason);
    const closed = await env.sim.waitForAttempt(
      (a) => a.id === upstream.id && a.outcome === 'client-closed',
      { timeoutMs: 1000 },
    );
    expect(closed.clientClosedAt! - abortedAt).toBeLessThan(100);
    const run = await first;
    expect(run.error).toBe(reason);
    expect(run.text).toBe(simulatedText(PROMPT, 3));
    expect(router.sessions.get('signalled')).toMatchObject({ state: 'cancelled' });
    expect(chatAttempts(env.sim)).toHaveLength(1);
    await env.closeRouter(t);
  });

  it('should abort the upstream request when the last viewer unsubscribes, and end the session cancelled', async () => {
    const t = pausingRouter(3, 10_000);
    const { router } = t;
    const subscription = router
      .stream(chatRequest('chat', PROMPT), { sessionId: 'left' })
      .subscribe({ error: () => undefined });
    const [upstream] = await Promise.all([
      env.sim.waitForAttempt((a) => a.tokensSent === 3 && a.stalls.length === 1),
      sessionReached(router, 'left', 3),
    ]);

    const leftAt = env.sim.now();
    subscription.unsubscribe();
    const closed = await env.sim.waitForAttempt(
      (a) => a.id === upstream.id && a.outcome === 'client-closed',
      { timeoutMs: 1000 },
    );
    expect(closed.clientClosedAt! - leftAt).toBeLessThan(100);
    expect(router.sessions.get('left')).toMatchObject({ state: 'cancelled' });
    await env.closeRouter(t);
  });
});
