import { AllProvidersFailedError } from '../../src/errors/all-providers-failed-error';
import { IncompleteStreamError } from '../../src/errors/incomplete-stream-error';
import { TimeoutError } from '../../src/errors/timeout-error';
import type { RouteOptions, RouterConfig } from '../../src/router/router-config';
import type { SessionInfo } from '../../src/sessions/session-info';
import { countWords, simulatedText, type AttemptRecord } from '../../src/simulator/index';
import { chatRequest, chunkText, keysPerProvider } from '../helpers/provider-fixtures';
import {
  candidateHealth,
  chatAttempts,
  endedChatAttempts,
  eventsOf,
  runRouted,
  useRouterSimulator,
  type RoutedRun,
  type TestRouter,
} from '../helpers/router-fixtures';

/**
 * One test per fault class of the simulator (docs/simulator.md), each routed through a route of
 * two candidates: a faulty primary and a healthy fallback on another provider type. Each checks
 * what the consumer gets, what the simulator saw (attempts, their gaps, how each ended), the
 * candidate's health and breaker, and that closing the router leaves no connection on the
 * simulator and no handle open.
 */

const PROMPT = 'Route this answer through every fault';
/** The simulator's default answer length, in tokens. */
const TOKENS = 24;
/** The whole answer the simulator gives PROMPT, whoever serves it. */
const FULL = simulatedText(PROMPT, TOKENS);
/** The backoff before a retry of the same candidate (no jitter). */
const RETRY_MS = 30;
const FIRST_TOKEN_MS = 150;
const IDLE_MS = 300;
/** How long a 429 without a retry hint cools its provider. */
const COOLDOWN_MS = 500;
/**
 * libuv timers may fire up to about 1 ms early against `performance.now()` (its loop time is
 * whole milliseconds), so timed gaps are checked with this much slack.
 */
const SLACK = 2;
/** The stalls outlast every timeout: the router must give up on them, not wait them out. */
const STALL = 2000;

/** The route options of every case; a case overrides what it needs. */
const BASE: RouteOptions = {
  retry: {
    maxAttempts: 2,
    initialDelayMs: RETRY_MS,
    maxDelayMs: 1000,
    maxRetryAfterMs: 1000,
    jitter: 'none',
  },
  timeouts: { firstTokenMs: FIRST_TOKEN_MS, idleMs: IDLE_MS, totalMs: 5000 },
  failover: 'error',
};

const env = useRouterSimulator({ keys: keysPerProvider('router-faults') });

beforeEach(() => {
  env.sim.reset();
});

type Kind = 'openai' | 'anthropic' | 'google';

/** One candidate: a provider of `kind` (its router key is `kind`) and the model asked for. */
interface Leg {
  kind: Kind;
  model: string;
  /** Headers the provider sends with every request (`x-simulator-tokens`, `x-simulator-key`). */
  headers?: Record<string, string>;
}

const CLAUDE: Leg = { kind: 'anthropic', model: 'claude-sonnet-4-5' };
const GPT: Leg = { kind: 'openai', model: 'gpt-4o-mini' };
const GEMINI: Leg = { kind: 'google', model: 'gemini-2.5-flash' };

/** What one routed request did. */
interface Case {
  t: TestRouter;
  run: RoutedRun;
  /** The simulator's attempts for the primary's model, and for the fallback's. */
  primary: AttemptRecord[];
  fallback: AttemptRecord[];
  /** The candidates' keys, `provider/model`. */
  primaryKey: string;
  fallbackKey: string;
  session: SessionInfo;
  /** `sim.now()` just before the stream was subscribed. */
  startedAt: number;
}

const key = (leg: Leg): string => `${leg.kind}/${leg.model}`;

/** A router with one route, `faulty`: `primary` then `fallback`. */
function routerOf(
  primary: Leg,
  fallback: Leg,
  route: RouteOptions = {},
  config: Partial<RouterConfig> = {},
): TestRouter {
  return env.router({
    providers: {
      [primary.kind]: env.provider(primary.kind, { headers: primary.headers ?? {} }),
      [fallback.kind]: env.provider(fallback.kind, { headers: fallback.headers ?? {} }),
    },
    routes: {
      faulty: {
        ...BASE,
        ...route,
        candidates: [
          { provider: primary.kind, model: primary.model },
          { provider: fallback.kind, model: fallback.model },
        ],
      },
    },
    breaker: { volumeThreshold: 2, errorThresholdPercentage: 50, resetTimeout: 1000 },
    cooldownMs: COOLDOWN_MS,
    // The simulator's own token count: the usage estimates of cut legs are then exact.
    estimateTokens: countWords,
    ...config,
  });
}

/**
 * Streams PROMPT through a new router's `faulty` route, then waits until the simulator has seen
 * `attempts` generation attempts end.
 */
async function runCase(
  primary: Leg,
  fallback: Leg,
  attempts: number,
  route: RouteOptions = {},
  config: Partial<RouterConfig> = {},
): Promise<Case> {
  const t = routerOf(primary, fallback, route, config);
  const startedAt = env.sim.now();
  const run = await runRouted(t.router.stream(chatRequest('faulty', PROMPT)));
  await endedChatAttempts(env.sim, attempts);
  const [session, ...others] = t.router.sessions.list();
  expect(others).toEqual([]);
  return {
    t,
    run,
    primary: chatAttempts(env.sim, primary.model),
    fallback: chatAttempts(env.sim, fallback.model),
    primaryKey: key(primary),
    fallbackKey: key(fallback),
    session: session!,
    startedAt,
  };
}

/** ms from the end of attempt `a` to the arrival of attempt `b`, on the simulator's clock. */
const gap = (a: AttemptRecord | undefined, b: AttemptRecord | undefined): number =>
  b!.time - a!.endedAt!;

/** The text of the chunks served by one candidate. */
function textServedBy(run: RoutedRun, leg: Leg): string {
  return run.chunks
    .filter((c) => c.provider === leg.kind && c.model === leg.model)
    .map(chunkText)
    .join('');
}

/**
 * Checks that a cooldown event cools for `ms` from the 429: `until` was set when the 429 arrived,
 * `at` a moment later (the clock may have moved a millisecond or two in between).
 */
function expectCooling(event: { at: number; until: number } | undefined, ms: number): void {
  expect(event!.until - event!.at).toBeLessThanOrEqual(ms);
  expect(event!.until - event!.at).toBeGreaterThanOrEqual(ms - SLACK);
}

/** A primary of `kind` whose model names the fault. */
const faulty = (kind: Kind, spec: string, headers?: Record<string, string>): Leg => ({
  kind,
  model: `sim-fault-${spec}`,
  ...(headers === undefined ? {} : { headers }),
});

describe('HTTP status faults', () => {
  it.each([
    ['openai', 'status-503', 'RXLLM_PROVIDER_OVERLOADED', CLAUDE],
    ['google', 'status-500', 'RXLLM_PROVIDER_SERVER_ERROR', GPT],
    ['anthropic', 'status-529', 'RXLLM_PROVIDER_OVERLOADED', GEMINI],
  ] as const)(
    'should retry a %s %s once after the backoff, open its breaker, and fail over to the fallback',
    async (kind, spec, code, fallback) => {
      const primary = faulty(kind, spec);
      const c = await runCase(primary, fallback, 3);

      expect(c.run.error).toBeUndefined();
      expect(c.run.text).toBe(FULL);
      expect(c.run.servedBy).toEqual([key(fallback)]);
      // Two calls to the primary, the retry after the backoff; then one to the fallback.
      expect(c.primary.map((a) => [a.outcome, a.status])).toEqual([
        ['error-status', Number(spec.slice(-3))],
        ['error-status', Number(spec.slice(-3))],
      ]);
      expect(gap(c.primary[0], c.primary[1])).toBeGreaterThanOrEqual(RETRY_MS - SLACK);
      expect(c.fallback.map((a) => a.outcome)).toEqual(['completed']);
      expect(c.fallback[0]!.time).toBeGreaterThanOrEqual(c.primary[1]!.endedAt!);
      expect(eventsOf(c.t.events, 'retry')).toMatchObject([
        { candidate: c.primaryKey, delayMs: RETRY_MS, code },
      ]);
      expect(eventsOf(c.t.events, 'failover')).toMatchObject([
        { from: c.primaryKey, to: c.fallbackKey, mode: 'restart', code },
      ]);
      // Two failures of two: the breaker (volume 2, 50 %) opened.
      expect(eventsOf(c.t.events, 'breaker')).toMatchObject([
        { candidate: c.primaryKey, state: 'open' },
      ]);
      expect(candidateHealth(c.t.router, c.primaryKey)).toMatchObject({
        breaker: 'open',
        counts: { success: 0, failure: 2, timeout: 0, rejection: 0, cancel: 0 },
        activeStreams: 0,
      });
      expect(candidateHealth(c.t.router, c.fallbackKey)).toMatchObject({
        breaker: 'closed',
        counts: { success: 1, failure: 0 },
      });
      expect(c.session).toMatchObject({
        state: 'completed',
        attempts: 3,
        retries: 1,
        failovers: 1,
        candidate: c.fallbackKey,
        lastError: { code, status: Number(spec.slice(-3)), provider: kind },
      });
      await env.closeRouter(c.t);
    },
  );

  it('should number a retry event with the attempt about to be made (2 for the first retry)', async () => {
    const c = await runCase(faulty('openai', 'status-503'), CLAUDE, 3);

    // RetryEvent.attempt: "The attempt about to be made, from 2", as the attempt events say.
    const attempts = eventsOf(c.t.events, 'attempt').filter((e) => e.candidate === c.primaryKey);
    expect(attempts.map((e) => e.attempt)).toEqual([1, 2]);
    expect(eventsOf(c.t.events, 'retry').map((e) => e.attempt)).toEqual([2]);
    await env.closeRouter(c.t);
  });

  it('should fail over from a non-retryable 400 without a retry and without counting it in the breaker', async () => {
    const c = await runCase(faulty('openai', 'status-400'), CLAUDE, 2);

    expect(c.run.text).toBe(FULL);
    expect(c.run.servedBy).toEqual([c.fallbackKey]);
    expect(c.primary.map((a) => a.status)).toEqual([400]);
    expect(eventsOf(c.t.events, 'retry')).toEqual([]);
    expect(eventsOf(c.t.events, 'failover')).toMatchObject([
      { from: c.primaryKey, to: c.fallbackKey, code: 'RXLLM_INVALID_REQUEST' },
    ]);
    expect(eventsOf(c.t.events, 'breaker')).toEqual([]);
    expect(candidateHealth(c.t.router, c.primaryKey)).toMatchObject({
      breaker: 'closed',
      counts: { failure: 1 },
    });
    await env.closeRouter(c.t);
  });

  it('should retry a 429 after its retry-after-ms (150 ms) on the same candidate, then fail over', async () => {
    const c = await runCase(faulty('openai', 'status-429-retry-ms-150'), CLAUDE, 3);

    expect(c.run.text).toBe(FULL);
    expect(c.run.servedBy).toEqual([c.fallbackKey]);
    expect(c.primary.map((a) => a.status)).toEqual([429, 429]);
    // The hint, not the 30 ms backoff, sets the wait.
    expect(gap(c.primary[0], c.primary[1])).toBeGreaterThanOrEqual(150 - SLACK);
    expect(eventsOf(c.t.events, 'retry')).toMatchObject([{ delayMs: 150 }]);
    const cooldowns = eventsOf(c.t.events, 'cooldown');
    expect(cooldowns).toMatchObject([
      { provider: 'openai', retryAfterMs: 150 },
      { provider: 'openai', retryAfterMs: 150 },
    ]);
    for (const e of cooldowns) expectCooling(e, 150);
    // A 429 is the cooldown's business, not the breaker's.
    expect(eventsOf(c.t.events, 'breaker')).toEqual([]);
    expect(candidateHealth(c.t.router, c.primaryKey)).toMatchObject({
      breaker: 'closed',
      counts: { failure: 2 },
    });
    await env.closeRouter(c.t);
  });

  it('should answer from the primary when its retry after a 429 (retry-after-ms 150) succeeds', async () => {
    env.sim.setScenarios([{ match: { model: GPT.model }, faults: ['status-429-retry-ms-150'] }]);
    const c = await runCase(GPT, CLAUDE, 2);

    expect(c.run.text).toBe(FULL);
    expect(c.run.servedBy).toEqual([c.primaryKey]);
    expect(c.primary.map((a) => [a.status, a.outcome])).toEqual([
      [429, 'error-status'],
      [200, 'completed'],
    ]);
    expect(gap(c.primary[0], c.primary[1])).toBeGreaterThanOrEqual(150 - SLACK);
    expect(c.fallback).toEqual([]);
    expect(candidateHealth(c.t.router, c.primaryKey).counts).toMatchObject({
      success: 1,
      failure: 1,
    });
    await env.closeRouter(c.t);
  });

  it('should fail over at once on a 429 whose Retry-After (2 s) is longer than maxRetryAfterMs, and skip the cooling provider on the next request', async () => {
    const primary = faulty('openai', 'status-429-retry-2');
    const c = await runCase(primary, CLAUDE, 2);

    expect(c.run.text).toBe(FULL);
    expect(c.run.servedBy).toEqual([c.fallbackKey]);
    expect(c.primary.map((a) => a.status)).toEqual([429]);
    expect(eventsOf(c.t.events, 'retry')).toEqual([]);
    const [cooldown] = eventsOf(c.t.events, 'cooldown');
    expect(cooldown).toMatchObject({ provider: 'openai', retryAfterMs: 2000 });
    expectCooling(cooldown, 2000);
    expect(candidateHealth(c.t.router, c.primaryKey).cooldownUntil).toBe(cooldown!.until);

    // Within the cooldown, the next request does not call the primary at all.
    const next = await runRouted(c.t.router.stream(chatRequest('faulty', PROMPT)));
    expect(next.text).toBe(FULL);
    expect(next.servedBy).toEqual([c.fallbackKey]);
    await endedChatAttempts(env.sim, 3);
    expect(chatAttempts(env.sim, primary.model)).toHaveLength(1);
    expect(eventsOf(c.t.events, 'skip')).toMatchObject([
      { candidate: c.primaryKey, reason: 'cooldown' },
    ]);
    expect(candidateHealth(c.t.router, c.primaryKey).counts).toMatchObject({
      failure: 1,
      rejection: 1,
    });
    await env.closeRouter(c.t);
  });

  it('should not call a provider again before the cooldown of its 429 without a retry hint has ended', async () => {
    const primary = faulty('openai', 'status-429');
    const c = await runCase(primary, CLAUDE, 2);

    expect(c.run.text).toBe(FULL);
    expect(c.run.servedBy).toEqual([c.fallbackKey]);
    const [cooldown] = eventsOf(c.t.events, 'cooldown');
    expect(cooldown).toMatchObject({ provider: 'openai', retryAfterMs: undefined });
    expectCooling(cooldown, COOLDOWN_MS);
    // The provider is cooling for COOLDOWN_MS after the 429: a call within it (a retry of the
    // same candidate included) is a call the cooldown was meant to prevent.
    const [first, ...later] = c.primary;
    for (const a of later) expect(a.time - first!.endedAt!).toBeGreaterThanOrEqual(COOLDOWN_MS);
    await env.closeRouter(c.t);
  });

  it('should fail with AllProvidersFailedError naming each candidate and the soonest retry when both fail', async () => {
    const fallback = faulty('anthropic', 'status-503');
    const c = await runCase(faulty('openai', 'status-429-retry-2'), fallback, 3);

    expect(c.run.chunks).toEqual([]);
    const error = c.run.error as AllProvidersFailedError;
    expect(error).toBeInstanceOf(AllProvidersFailedError);
    expect(error).toMatchObject({
      code: 'RXLLM_ALL_PROVIDERS_FAILED',
      model: 'faulty',
      status: 503, // a 429 and a 503: no status they share
      retryAfterMs: 2000,
      isRetryable: true,
    });
    expect(error.attempts).toMatchObject([
      { candidate: c.primaryKey, outcome: 'called', error: { code: 'RXLLM_RATE_LIMITED' } },
      { candidate: c.fallbackKey, outcome: 'called', error: { status: 503, isRetryable: true } },
    ]);
    expect(c.primary.map((a) => a.status)).toEqual([429]);
    expect(c.fallback.map((a) => a.status)).toEqual([503, 503]);
    expect(c.session).toMatchObject({
      state: 'failed',
      attempts: 3,
      lastError: { code: 'RXLLM_ALL_PROVIDERS_FAILED' },
    });
    await env.closeRouter(c.t);
  });
});

describe('connection faults', () => {
  it('should retry a reset before the headers, then fail over', async () => {
    const c = await runCase(faulty('openai', 'reset-before-headers'), GEMINI, 3);

    expect(c.run.text).toBe(FULL);
    expect(c.run.servedBy).toEqual([c.fallbackKey]);
    expect(c.primary.map((a) => [a.outcome, a.status])).toEqual([
      ['reset', undefined],
      ['reset', undefined],
    ]);
    expect(gap(c.primary[0], c.primary[1])).toBeGreaterThanOrEqual(RETRY_MS - SLACK);
    expect(eventsOf(c.t.events, 'failover')).toMatchObject([{ code: 'RXLLM_NETWORK' }]);
    expect(candidateHealth(c.t.router, c.primaryKey)).toMatchObject({
      breaker: 'open',
      counts: { failure: 2 },
    });
    await env.closeRouter(c.t);
  });
});

describe('stalls', () => {
  it.each([
    ['stall-headers', 'headers'],
    ['stall-first-token', 'first-token'],
  ] as const)(
    'should give up on a %s stall after the first-token timeout, abort it, and fail over without a retry',
    async (spec, stallKind) => {
      const c = await runCase(faulty('anthropic', `${spec}-${STALL}`), GPT, 2);

      expect(c.run.text).toBe(FULL);
      expect(c.run.servedBy).toEqual([c.fallbackKey]);
      const [stalled] = c.primary;
      expect(c.primary).toHaveLength(1); // a timeout is not retried on the same candidate
      // Aborted during the stall, at the first-token limit.
      expect(stalled).toMatchObject({ outcome: 'client-closed', tokensSent: 0 });
      expect(stalled!.stalls).toMatchObject([{ kind: stallKind, ms: STALL, endedAt: undefined }]);
      // The first-token clock starts at the subscription, a little before the request arrives.
      expect(stalled!.clientClosedAt! - c.startedAt).toBeGreaterThanOrEqual(FIRST_TOKEN_MS - SLACK);
      expect(stalled!.clientClosedAt! - c.startedAt).toBeLessThan(FIRST_TOKEN_MS + 250);
      expect(c.fallback[0]!.time).toBeGreaterThanOrEqual(stalled!.clientClosedAt!);
      expect(eventsOf(c.t.events, 'failover')).toMatchObject([{ code: 'RXLLM_TIMEOUT' }]);
      expect(candidateHealth(c.t.router, c.primaryKey)).toMatchObject({
        breaker: 'closed', // one failure, under the volume threshold
        counts: { timeout: 1, failure: 0 },
      });
      await env.closeRouter(c.t);
    },
  );

  it("should end a stream that stalls after 5 tokens with an IncompleteStreamError at the idle timeout under policy 'error'", async () => {
    const c = await runCase(faulty('openai', `stall-after-5-${STALL}`), CLAUDE, 1);

    const error = c.run.error as IncompleteStreamError;
    expect(error).toBeInstanceOf(IncompleteStreamError);
    expect(error.partialText).toBe(simulatedText(PROMPT, 5));
    expect(error.cause).toBeInstanceOf(TimeoutError);
    expect(error.cause).toMatchObject({ kind: 'idle', timeoutMs: IDLE_MS });
    expect(c.run.text).toBe(simulatedText(PROMPT, 5));
    const [stalled] = c.primary;
    expect(stalled).toMatchObject({ outcome: 'client-closed', tokensSent: 5 });
    expect(stalled!.clientClosedAt! - stalled!.stalls[0]!.startedAt).toBeGreaterThanOrEqual(
      IDLE_MS - SLACK,
    );
    expect(c.fallback).toEqual([]);
    expect(candidateHealth(c.t.router, c.primaryKey).counts).toMatchObject({ timeout: 1 });
    expect(c.session).toMatchObject({
      state: 'failed',
      lastError: { code: 'RXLLM_INCOMPLETE_STREAM' },
    });
    await env.closeRouter(c.t);
  });
});

describe('broken streams', () => {
  /** Long enough for the simulator to be still writing when the client gives up. */
  const LONG = { 'x-simulator-tokens': '5000' };

  it.each([
    // spec, tokens before the break, the cause's code, the simulator's outcome, primary headers
    ['reset-after-5', 5, 'RXLLM_INCOMPLETE_STREAM', 'reset', undefined],
    ['malformed-at-3', 3, 'RXLLM_PARSE', 'client-closed', LONG],
    ['inband-error-after-4', 4, 'RXLLM_PROVIDER_OVERLOADED', 'inband-error', undefined],
    ['no-terminal', TOKENS, 'RXLLM_INCOMPLETE_STREAM', 'no-terminal', undefined],
  ] as const)(
    "should fail a stream cut by %s after K tokens with an IncompleteStreamError holding them under policy 'error'",
    async (spec, k, causeCode, outcome, headers) => {
      const c = await runCase(faulty('openai', spec, headers), CLAUDE, 1);

      const error = c.run.error as IncompleteStreamError;
      expect(error).toBeInstanceOf(IncompleteStreamError);
      expect(error).toMatchObject({ code: 'RXLLM_INCOMPLETE_STREAM', provider: 'openai' });
      expect(error.partialText).toBe(simulatedText(PROMPT, k));
      expect(error.cause).toMatchObject({ code: causeCode });
      expect(c.primary).toMatchObject([{ outcome }]);
      expect(c.primary[0]!.tokensSent).toBeGreaterThanOrEqual(k);
      expect(c.fallback).toEqual([]); // a cut answer is not restarted behind the consumer's back
      expect(eventsOf(c.t.events, 'retry')).toEqual([]); // nor retried after content
      expect(candidateHealth(c.t.router, c.primaryKey).counts).toMatchObject({
        failure: 1,
        success: 0,
      });
      expect(c.session.state).toBe('failed');
      await env.closeRouter(c.t);
    },
  );

  it.each([
    ['reset-after-5', 'reset', undefined],
    ['malformed-at-3', 'client-closed', LONG],
    ['inband-error-after-4', 'inband-error', undefined],
    ['inband-error-after-4-429', 'inband-error', undefined],
    ['no-terminal', 'no-terminal', undefined],
    [`stall-after-5-${STALL}`, 'client-closed', undefined],
  ] as const)(
    "should complete a stream cut by %s exactly on the fallback under policy 'resume'",
    async (spec, outcome, headers) => {
      const primary = faulty('openai', spec, headers);
      const c = await runCase(primary, CLAUDE, 2, { failover: 'resume' });

      expect(c.run.error).toBeUndefined();
      expect(c.run.text).toBe(FULL);
      const partial = textServedBy(c.run, primary);
      expect(FULL.startsWith(partial)).toBe(true);
      expect(partial).not.toBe('');
      // no-terminal: every token came; the fallback only finishes the answer (with no text).
      expect(c.run.servedBy).toEqual(
        partial === FULL ? [c.primaryKey] : [c.primaryKey, c.fallbackKey],
      );
      expect(c.run.chunks.at(-1)).toMatchObject({ provider: 'anthropic' });
      expect(c.primary).toMatchObject([{ outcome }]);
      // The fallback was sent the partial answer as a prefill, and streamed only the rest.
      expect(c.fallback).toMatchObject([
        {
          outcome: 'completed',
          tokensSent: TOKENS - countWords(partial),
          promptTokens: countWords(PROMPT) + countWords(partial),
        },
      ]);
      expect(c.session).toMatchObject({ state: 'completed', failovers: 1 });
      await env.closeRouter(c.t);
    },
  );

  it('should retry invalid UTF-8 that arrives before any text, then fail over, and answer exactly', async () => {
    // The read holding the bad bytes is refused whole: with a long answer in flight, it holds
    // the first tokens too, so no text gets through and the primary is retried before failing
    // over (a restart, not a resume).
    const primary = faulty('openai', 'invalid-utf8-at-3', LONG);
    const c = await runCase(primary, CLAUDE, 2, { failover: 'resume' });

    expect(c.run.error).toBeUndefined();
    expect(c.run.text).toBe(FULL);
    const partial = textServedBy(c.run, primary);
    expect(FULL.startsWith(partial)).toBe(true);
    expect(c.primary.length).toBeGreaterThanOrEqual(1);
    expect(c.primary.length).toBeLessThanOrEqual(2);
    for (const a of c.primary) expect(a).toMatchObject({ outcome: 'client-closed', status: 200 });
    expect(eventsOf(c.t.events, 'attempt-end')).toContainEqual(
      expect.objectContaining({ candidate: c.primaryKey, code: 'RXLLM_PARSE' }),
    );
    expect(c.fallback).toMatchObject([
      { outcome: 'completed', tokensSent: TOKENS - countWords(partial) },
    ]);
    await env.closeRouter(c.t);
  });

  it('should cool the provider down after an in-band 429 mid-stream', async () => {
    const c = await runCase(faulty('openai', 'inband-error-after-4-429'), CLAUDE, 2, {
      failover: 'resume',
    });

    expect(c.run.text).toBe(FULL);
    expect(eventsOf(c.t.events, 'cooldown')).toMatchObject([{ provider: 'openai' }]);
    expect(eventsOf(c.t.events, 'failover')).toMatchObject([
      { mode: 'resume', code: 'RXLLM_RATE_LIMITED' },
    ]);
    expect(candidateHealth(c.t.router, c.primaryKey).cooldownUntil).not.toBeNull();
    // Sent after the 200: the error has no HTTP status.
    expect(c.session.lastError).toMatchObject({ code: 'RXLLM_RATE_LIMITED', provider: 'openai' });
    await env.closeRouter(c.t);
  });
});

describe('odd but valid streams', () => {
  it('should pass a 1 MiB event through whole from the primary', async () => {
    const c = await runCase(faulty('google', 'huge-event'), GPT, 1);

    expect(c.run.error).toBeUndefined();
    const texts = c.run.chunks.map(chunkText).filter((t) => t !== '');
    const huge = texts.filter((t) => t.length === 1_048_576);
    expect(huge).toHaveLength(1);
    expect(texts.filter((t) => t.length !== 1_048_576).join('')).toBe(FULL);
    expect(c.run.servedBy).toEqual([c.primaryKey]);
    expect(c.primary).toMatchObject([{ outcome: 'completed' }]);
    expect(c.fallback).toEqual([]);
    expect(candidateHealth(c.t.router, c.primaryKey).counts).toMatchObject({ success: 1 });
    await env.closeRouter(c.t);
  });

  it('should decode a slow drip of 64-byte pieces exactly, within the idle timeout', async () => {
    const c = await runCase(faulty('anthropic', 'slow-drip-64-1'), GPT, 1);

    expect(c.run.error).toBeUndefined();
    expect(c.run.text).toBe(FULL);
    expect(c.run.servedBy).toEqual([c.primaryKey]);
    const [drip] = c.primary;
    expect(drip).toMatchObject({ outcome: 'completed' });
    // It really was dripped, about a piece per ms.
    expect(drip!.endedAt! - drip!.headersAt!).toBeGreaterThan(drip!.bytesSent / 64 / 2);
    await env.closeRouter(c.t);
  });
});

describe('flaky providers', () => {
  /** Enough retries for these, and a breaker that does not open on the way. */
  const PATIENT: RouteOptions = {
    retry: { maxAttempts: 5, initialDelayMs: 40, maxDelayMs: 1000, jitter: 'none' },
  };
  const LENIENT: Partial<RouterConfig> = { breaker: { volumeThreshold: 10 } };

  it('should ride out a flapping primary (503 for 100 ms) with backoff retries, and answer from it', async () => {
    const primary = faulty('openai', 'flap-100', { 'x-simulator-key': 'router-flap-100' });
    const c = await runCase(primary, CLAUDE, 3, PATIENT, LENIENT);

    expect(c.run.text).toBe(FULL);
    expect(c.run.servedBy).toEqual([c.primaryKey]);
    expect(c.primary.map((a) => a.status)).toEqual([503, 503, 200]);
    // Backoff 40 then 80 ms; the third attempt came after the 100 ms window.
    expect(gap(c.primary[0], c.primary[1])).toBeGreaterThanOrEqual(40 - SLACK);
    expect(gap(c.primary[1], c.primary[2])).toBeGreaterThanOrEqual(80 - SLACK);
    expect(c.primary[2]!.time - c.primary[0]!.time).toBeGreaterThanOrEqual(100);
    expect(c.fallback).toEqual([]);
    expect(candidateHealth(c.t.router, c.primaryKey)).toMatchObject({
      breaker: 'closed',
      counts: { success: 1, failure: 2 },
    });
    expect(c.session).toMatchObject({ attempts: 3, retries: 2, failovers: 0 });
    await env.closeRouter(c.t);
  });

  it('should answer from a primary that succeeds on its 3rd attempt', async () => {
    const primary = faulty('google', 'succeed-on-3', { 'x-simulator-key': 'router-succeed-3' });
    const c = await runCase(primary, GPT, 3, PATIENT, LENIENT);

    expect(c.run.text).toBe(FULL);
    expect(c.run.servedBy).toEqual([c.primaryKey]);
    expect(c.primary.map((a) => a.status)).toEqual([503, 503, 200]);
    expect(eventsOf(c.t.events, 'retry').map((e) => e.delayMs)).toEqual([40, 80]);
    await env.closeRouter(c.t);
  });

  it('should regenerate and splice when the fallback rejects the prefill of a resumed answer', async () => {
    const fallback: Leg = { kind: 'anthropic', model: 'sim-fault-reject-prefill' };
    const c = await runCase(faulty('openai', 'reset-after-5'), fallback, 3, {
      failover: 'resume',
    });

    expect(c.run.error).toBeUndefined();
    expect(c.run.text).toBe(FULL);
    expect(c.primary.map((a) => a.outcome)).toEqual(['reset']);
    expect(c.fallback.map((a) => [a.status, a.tokensSent])).toEqual([
      [400, 0],
      [200, TOKENS],
    ]);
    expect(eventsOf(c.t.events, 'failover').map((e) => e.mode)).toEqual(['resume', 'regenerate']);
    await env.closeRouter(c.t);
  });
});
