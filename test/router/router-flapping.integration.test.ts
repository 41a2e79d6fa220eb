import { simulatedText } from '../../src/simulator/index';
import { chatRequest, keysPerProvider, sleep } from '../helpers/provider-fixtures';
import {
  candidateHealth,
  chatAttempts,
  eventsOf,
  runRouted,
  useRouterSimulator,
} from '../helpers/router-fixtures';

/**
 * A flapping primary: down (503 to everything, probes included) for OUTAGE_MS or a little
 * more, then healthy.
 *
 * This test runs in real time, on purpose: the breaker's reset timer is opossum's own
 * `setTimeout`, the probes' interval and the requests go through undici to the simulator's real
 * sockets, and none of that can run under `TestScheduler` (promises, sockets) or jest's fake
 * timers (undici and the simulator need the real event loop). The times are kept short (a
 * 400 ms reset, 100 ms probes, an outage of about 1 s) so the whole test takes about 1.5 s.
 */

const PROMPT = 'Is the primary back yet';
const FULL = simulatedText(PROMPT, 24);
const PRIMARY = 'openai/gpt-4o-mini';
const FALLBACK = 'anthropic/claude-sonnet-4-5';
const RESET_MS = 400;
const PROBE_MS = 100;
const OUTAGE_MS = 800;
/** The pause between two requests of the steady traffic. */
const EVERY_MS = 40;
/** Requests sent during the outage, at least. */
const MIN_DURING = 8;
/** A probe asks "ping": one prompt token, which no request of this test has. */
const isProbe = (a: { promptTokens: number | undefined }): boolean => a.promptTokens === 1;

const env = useRouterSimulator({ keys: keysPerProvider('router-flapping') });

/** One request of the steady traffic. */
interface Sent {
  /** ms since the outage started. */
  at: number;
  text: string;
  servedBy: string[];
  error: unknown;
}

describe('a flapping primary', () => {
  it('should open the breaker, serve from the fallback without calling the primary, and return to the primary after a probe, within one reset period', async () => {
    env.sim.setScenarios([
      {
        name: 'outage',
        match: { model: 'gpt-4o-mini' },
        faults: ['status-503'],
        then: 'repeat-last',
      },
    ]);
    const t = env.router({
      providers: { openai: env.provider('openai'), anthropic: env.provider('anthropic') },
      routes: {
        chat: [
          { provider: 'openai', model: 'gpt-4o-mini' },
          { provider: 'anthropic', model: 'claude-sonnet-4-5' },
        ],
      },
      defaults: { retry: false, timeouts: { firstTokenMs: 500, idleMs: 500 } },
      breaker: {
        volumeThreshold: 2,
        errorThresholdPercentage: 50,
        resetTimeout: RESET_MS,
        rollingCountTimeout: 2000,
      },
      health: { probes: { intervalMs: PROBE_MS, timeoutMs: 300 } },
    });
    const { router } = t;
    const sent: Sent[] = [];
    const breakerSeen = new Set<string>();
    const start = performance.now();
    const send = async (): Promise<Sent> => {
      const at = performance.now() - start;
      const run = await runRouted(router.stream(chatRequest('chat', PROMPT)));
      const one = { at, text: run.text, servedBy: run.servedBy, error: run.error };
      sent.push(one);
      breakerSeen.add(candidateHealth(router, PRIMARY).breaker);
      return one;
    };

    // The outage: steady traffic for at least OUTAGE_MS and MIN_DURING requests (a loaded
    // machine serves fewer per second). It ends as the breaker (re)opens, so that the next
    // half-open is a whole reset period away: only a probe can bring the primary back sooner.
    let healedAt: number | undefined;
    let healEvent = 0;
    const healer = router.events$.subscribe((event) => {
      const now = performance.now() - start;
      if (
        healedAt === undefined &&
        event.type === 'breaker' &&
        event.candidate === PRIMARY &&
        event.state === 'open' &&
        now >= OUTAGE_MS &&
        sent.length >= MIN_DURING
      ) {
        env.sim.setScenarios([]);
        healedAt = now;
        healEvent = t.events.length; // t.events was told first: this 'open' is in it
      }
    });
    while (healedAt === undefined && performance.now() - start < OUTAGE_MS + 4 * RESET_MS) {
      await send();
      await sleep(EVERY_MS);
    }
    healer.unsubscribe();
    expect(healedAt).toBeDefined();
    const outageAttempts = chatAttempts(env.sim, 'gpt-4o-mini').length;
    // Healthy again: traffic until the primary answers (bounded).
    let back: Sent | undefined;
    while (back === undefined && performance.now() - start < healedAt! + 3 * RESET_MS) {
      const one = await send();
      if (one.servedBy[0] === PRIMARY) back = one;
      else await sleep(EVERY_MS);
    }

    // Every request was answered in full, by the fallback during the outage.
    for (const one of sent) {
      expect(one.error).toBeUndefined();
      expect(one.text).toBe(FULL);
    }
    const during = sent.filter((one) => one.at < healedAt!);
    expect(during.length).toBeGreaterThanOrEqual(MIN_DURING);
    for (const one of during) expect(one.servedBy).toEqual([FALLBACK]);

    // The breaker opened after the first two failures (volume 2, 100 % > 50 %).
    const breakerEvents = eventsOf(t.events, 'breaker').filter((e) => e.candidate === PRIMARY);
    expect(breakerEvents[0]).toMatchObject({ state: 'open' });
    expect(breakerSeen).toContain('open');
    const primaryCalls = eventsOf(t.events, 'attempt').filter((e) => e.candidate === PRIMARY);
    expect(primaryCalls.slice(0, 2).map((e) => e.sessionId)).toEqual(
      router.sessions
        .list()
        .slice(0, 2)
        .map((s) => s.id),
    );

    // While open, the primary was skipped before being called: no call between an 'open' and
    // the next 'half-open' (then one trial, which failed and reopened it).
    let state = 'closed';
    let skipped = 0;
    for (const event of t.events.slice(0, healEvent)) {
      if (event.type === 'breaker' && event.candidate === PRIMARY) state = event.state;
      if (event.type === 'attempt' && event.candidate === PRIMARY) {
        expect(state).not.toBe('open');
      }
      if (event.type === 'skip' && event.candidate === PRIMARY) {
        expect(event.reason).toBe('breaker-open');
        skipped++;
      }
    }
    // The simulator agrees: besides probes, the primary saw only the calls the router made
    // while the breaker was not open: the two that opened it and at most one trial per
    // half-open period. Every other request skipped it.
    const halfOpens = eventsOf(t.events.slice(0, healEvent), 'breaker').filter(
      (e) => e.candidate === PRIMARY && e.state === 'half-open',
    ).length;
    const calls = eventsOf(t.events.slice(0, healEvent), 'attempt').filter(
      (e) => e.candidate === PRIMARY,
    );
    expect(calls.length).toBeGreaterThanOrEqual(2);
    expect(calls.length).toBeLessThanOrEqual(2 + halfOpens);
    const requestsToPrimary = chatAttempts(env.sim, 'gpt-4o-mini')
      .slice(0, outageAttempts)
      .filter((a) => !isProbe(a));
    expect(requestsToPrimary).toHaveLength(calls.length);
    expect(skipped).toBe(during.length - requestsToPrimary.length);
    expect(skipped).toBeGreaterThan(0);
    for (const a of requestsToPrimary) expect(a.status).toBe(503);
    expect(candidateHealth(router, PRIMARY).counts.rejection).toBeGreaterThanOrEqual(skipped);

    // Probes kept failing during the outage; once healthy, one went through and closed the
    // breaker, and the next request was served by the primary within one reset period.
    const probes = eventsOf(t.events, 'probe').filter((e) => e.candidate === PRIMARY);
    const failedProbes = probes.filter((p) => !p.ok);
    expect(failedProbes.length).toBeGreaterThanOrEqual(3);
    expect(failedProbes.every((p) => p.code === 'RXLLM_PROVIDER_OVERLOADED')).toBe(true);
    const after = t.events.slice(healEvent);
    const firstOkProbe = after.findIndex(
      (e) => e.type === 'probe' && e.candidate === PRIMARY && e.ok,
    );
    expect(firstOkProbe).toBeGreaterThanOrEqual(0);
    const closed = after.findIndex(
      (e) => e.type === 'breaker' && e.candidate === PRIMARY && e.state === 'closed',
    );
    expect(closed).toBe(firstOkProbe + 1);
    expect(back).toBeDefined();
    expect(back!.at - healedAt!).toBeLessThanOrEqual(RESET_MS);
    expect(candidateHealth(router, PRIMARY)).toMatchObject({
      breaker: 'closed',
      lastProbe: { ok: true },
    });
    const probeAttempts = chatAttempts(env.sim, 'gpt-4o-mini').filter(isProbe);
    expect(probeAttempts.some((a) => a.outcome === 'completed' && a.tokensSent === 1)).toBe(true);

    await env.closeRouter(t);
  });
});
