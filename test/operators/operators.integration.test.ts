import { defer, type Observable } from 'rxjs';
import type { StreamingChunk } from '../../src/chunk/streaming-chunk';
import { CircuitOpenError } from '../../src/errors/circuit-open-error';
import { ProviderError } from '../../src/errors/provider-error';
import { RateLimitError } from '../../src/errors/rate-limit-error';
import { TimeoutError } from '../../src/errors/timeout-error';
import { circuitBreaker } from '../../src/operators/circuit-breaker';
import { createStreamBreaker, type StreamBreaker } from '../../src/operators/create-stream-breaker';
import { retryBackoff, type RetryInfo } from '../../src/operators/retry-backoff';
import { timeouts } from '../../src/operators/timeouts';
import type { Provider } from '../../src/providers/provider';
import { simulatedText, type AttemptRecord } from '../../src/simulator/index';
import {
  chatRequest,
  keysPerProvider,
  runStream,
  streamError,
  useProviderSimulator,
} from '../helpers/provider-fixtures';

/** The simulator's default answer length, in tokens. */
const TOKENS = 24;
const PROMPT = 'Tell me about resilience operators';
const FULL_TEXT = simulatedText(PROMPT, TOKENS);
/** The model the Retry-After scenario matches. */
const RETRY_AFTER_MODEL = 'sim-retry-after-model';

const env = useProviderSimulator({
  keys: keysPerProvider('operators'),
  simulator: {
    scenarios: [
      {
        name: 'retry-after-2s',
        match: { model: RETRY_AFTER_MODEL },
        faults: ['status-429-retry-2', null],
      },
    ],
  },
});

beforeEach(() => {
  env.sim.reset();
});

/** The generation attempts the simulator has recorded so far. */
function chatAttempts(): AttemptRecord[] {
  return env.sim.attempts.filter((a) => a.endpoint === 'chat');
}

/** An OpenAI provider whose every request carries `headers` (a fault and its key). */
function openaiWith(headers: Record<string, string>): Provider {
  return env.provider('openai', { headers });
}

describe('circuitBreaker against the simulator', () => {
  let breaker: StreamBreaker | undefined;

  afterEach(() => {
    breaker?.shutdown();
    breaker = undefined;
  });

  it('should open on real 503s, reject without reaching the simulator while open, and close after a successful trial', async () => {
    // 503 to attempts 1 and 2 with this key, a normal answer from attempt 3 on.
    const provider = openaiWith({
      'x-simulator-fault': 'succeed-on-3',
      'x-simulator-key': 'operators-breaker',
    });
    const request = chatRequest('gpt-4o-mini', PROMPT);
    const resetTimeout = 300;
    const b = createStreamBreaker({ provider: 'openai', volumeThreshold: 2, resetTimeout });
    breaker = b;
    const events: string[] = [];
    b.on('open', () => {
      events.push('open');
    });
    b.on('halfOpen', () => {
      events.push('halfOpen');
    });
    b.on('close', () => {
      events.push('close');
    });
    let subscriptions = 0;
    const guarded$: Observable<StreamingChunk> = defer(() => {
      subscriptions++;
      return provider.stream(request);
    }).pipe(circuitBreaker(b));

    // Two real 503s: the first is below the volume threshold, the second opens the breaker.
    const first = await streamError(guarded$);
    expect(first).toBeInstanceOf(ProviderError);
    expect(first).toMatchObject({ status: 503 });
    expect(b.closed).toBe(true);

    const second = await streamError(guarded$);
    expect(second).toBeInstanceOf(ProviderError);
    expect(b.opened).toBe(true);
    expect(events).toEqual(['open']);
    expect(chatAttempts().map((a) => [a.status, a.outcome])).toEqual([
      [503, 'error-status'],
      [503, 'error-status'],
    ]);

    // Open: rejected at once, never subscribed, nothing sent to the simulator.
    const halfOpen = new Promise<void>((resolve) => {
      b.once('halfOpen', () => {
        resolve();
      });
    });
    const rejected = await streamError(guarded$);
    expect(rejected).toBeInstanceOf(CircuitOpenError);
    expect(rejected).toMatchObject({ provider: 'openai' });
    expect((rejected as CircuitOpenError).retryAfterMs).toBeLessThanOrEqual(resetTimeout);
    expect(subscriptions).toBe(2);
    expect(chatAttempts()).toHaveLength(2);

    // After resetTimeout: one trial goes through, succeeds, and closes the breaker.
    await halfOpen;
    expect(b.halfOpen).toBe(true);
    const trial = await runStream(guarded$);
    expect(trial.error).toBeUndefined();
    expect(trial.text).toBe(FULL_TEXT);
    expect(subscriptions).toBe(3);
    expect(chatAttempts().map((a) => [a.status, a.outcome])).toEqual([
      [503, 'error-status'],
      [503, 'error-status'],
      [200, 'completed'],
    ]);
    // A success is recorded a microtask after the stream ends.
    await new Promise((resolve) => setImmediate(resolve));
    expect(b.closed).toBe(true);
    expect(events).toEqual(['open', 'halfOpen', 'close']);
  });
});

describe('retryBackoff against the simulator', () => {
  it('should honour a 2-second Retry-After and complete the full answer on the second attempt', async () => {
    const provider = env.provider('openai');
    const retries: RetryInfo[] = [];

    const outcome = await runStream(
      provider.stream(chatRequest(RETRY_AFTER_MODEL, PROMPT)).pipe(
        retryBackoff({
          maxAttempts: 3,
          initialDelayMs: 10,
          maxDelayMs: 50,
          maxRetryAfterMs: 3000,
          onRetry: (info) => retries.push(info),
        }),
      ),
    );

    expect(outcome.error).toBeUndefined();
    expect(outcome.text).toBe(FULL_TEXT);
    expect(retries).toHaveLength(1);
    expect(retries[0]?.error).toBeInstanceOf(RateLimitError);
    expect(retries[0]).toMatchObject({ attempt: 2, delayMs: 2000 });
    const log = chatAttempts();
    expect(log.map((a) => [a.status, a.outcome, a.fault])).toEqual([
      [429, 'error-status', 'status-429-retry-2'],
      [200, 'completed', undefined],
    ]);
    const gap = log[1]!.time - log[0]!.time;
    expect(gap).toBeGreaterThanOrEqual(2000);
    expect(gap).toBeLessThan(3000);
  }, 8000);
});

describe('timeouts against the simulator', () => {
  it('should fail with an idle TimeoutError after 3 content chunks of a stalled stream, and close the request', async () => {
    const idle = 300;
    const provider = openaiWith({ 'x-simulator-fault': 'stall-after-3-5000' });
    let errorAt = Number.NaN;

    const outcome = await runStream(
      defer(() => provider.stream(chatRequest('gpt-4o-mini', PROMPT))).pipe(timeouts({ idle })),
    ).finally(() => {
      errorAt = env.sim.now();
    });

    expect(outcome.error).toBeInstanceOf(TimeoutError);
    expect(outcome.error).toMatchObject({ kind: 'idle', timeoutMs: idle });
    expect(outcome.contentChunks).toBe(3);
    expect(outcome.text).toBe(simulatedText(PROMPT, 3));

    const [started] = chatAttempts();
    expect(started).toBeDefined();
    const closed = await env.sim.waitForAttempt(
      (a) => a.id === started!.id && a.clientClosedAt !== undefined,
      { timeoutMs: 1000 },
    );
    expect(closed).toMatchObject({ outcome: 'client-closed', tokensSent: 3 });
    const closedAt = closed.clientClosedAt!;
    // The client went away at the idle limit, well before the 5-second stall ended...
    const stall = closed.stalls.find((s) => s.kind === 'after');
    expect(stall).toMatchObject({ afterTokens: 3, ms: 5000, endedAt: undefined });
    expect(closedAt - stall!.startedAt).toBeGreaterThanOrEqual(idle - 50);
    expect(closedAt - stall!.startedAt).toBeLessThan(idle + 400);
    // ... and the simulator saw it close within moments of the error.
    expect(Math.abs(closedAt - errorAt)).toBeLessThan(400);
  });
});
