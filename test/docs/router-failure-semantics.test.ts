// The failure-semantics table of docs/router.md, checked row by row against the router: for each
// error, whether p/m1's breaker recorded it, how often p/m1 was called (retries), which candidate
// took over (failover, the same-model rule, and the same-provider rule for account errors), and
// what the consumer got.
import { TestScheduler } from 'rxjs/testing';
import type { StreamingChunk } from '../../src/chunk/streaming-chunk';
import { createPricing } from '../../src/cost/pricing';
import { AllProvidersFailedError } from '../../src/errors/all-providers-failed-error';
import { ProviderError } from '../../src/errors/provider-error';
import { isRouterError } from '../../src/errors/router-error';
import type { CandidateHealth, HealthCounts } from '../../src/health/health-snapshot';
import * as breakerModule from '../../src/operators/create-stream-breaker';
import type { StreamBreaker } from '../../src/operators/create-stream-breaker';
import { createRouter } from '../../src/router/create-router';
import type { Router } from '../../src/router/router';
import type { RouterConfig, RouteOptions } from '../../src/router/router-config';
import type { RouterEvent } from '../../src/router/router-events';
import {
  fakeProvider,
  finishChunk,
  httpError,
  incompleteStream,
  networkError,
  quotaExceeded,
  rateLimited,
  streamError,
  textChunk,
  type FakeAttempt,
} from '../../src/testing/index';

const request = { model: 'chat', messages: [{ role: 'user' as const, content: 'Hi' }] };

/** One frame = 1 ms of virtual time. Timeouts: first token 100, idle 100, total 1000. */
interface Scenario {
  primary: FakeAttempt | FakeAttempt[];
  /** Only p/m1 in the route: what the consumer gets when no candidate is left. */
  alone?: boolean;
  options?: RouteOptions;
  /** `sessions.cancel('s1')` at this frame. */
  cancelAt?: number;
  /** Breaker options of every candidate. */
  breaker?: RouterConfig['breaker'];
  /** p/m1's context window, in tokens. */
  contextWindow?: number;
  /** A second request (session `s2`) at this frame. */
  secondAt?: number;
}

interface Outcome {
  text: string;
  completed: boolean;
  error: unknown;
  events: RouterEvent[];
  /** Calls of p/m1, t/m1 (the same model on another provider) and b/m2. */
  calls: [number, number, number];
  /** What p/m1's opossum breaker recorded. */
  breaker: { failures: number; successes: number };
  /** p/m1's rolling health counts, and the session's state, at frame 5000. */
  health: HealthCounts | undefined;
  state: string | undefined;
}

const answer = (provider: string): FakeAttempt => ({
  marble: '-a-(s|)',
  values: {
    a: textChunk('ok', { provider, model: 'm' }),
    s: finishChunk('stop', { provider, model: 'm' }),
  },
});

const LETTERS = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l'];

/** Letter `x` is the text `xxxx`: one token (4 characters) of model `m`, priced at $1 a token. */
const tokens = (marble: string, error?: unknown): FakeAttempt => ({
  marble,
  values: Object.fromEntries(
    LETTERS.map((l) => [l, textChunk(l.repeat(4), { provider: 'p', model: 'm' })]),
  ),
  ...(error === undefined ? {} : { error }),
});

async function run(s: Scenario): Promise<Outcome> {
  // Capture the breakers the router makes, to read opossum's own counts.
  const breakers: StreamBreaker[] = [];
  const original = breakerModule.createStreamBreaker;
  const spy = jest.spyOn(breakerModule, 'createStreamBreaker').mockImplementation((options) => {
    const b = original(options);
    breakers.push(b);
    return b;
  });
  const primary = fakeProvider({ name: 'p', attempts: s.primary });
  const twin = fakeProvider({ name: 't', attempts: answer('t') });
  const backup = fakeProvider({ name: 'b', attempts: answer('b') });
  const out = {
    text: '',
    completed: false,
    error: undefined as unknown,
    events: [] as RouterEvent[],
  };
  let router: Router | undefined;
  let health: CandidateHealth | undefined;
  let state: string | undefined;
  try {
    new TestScheduler(() => undefined).run(({ cold }) => {
      const config: RouterConfig = {
        providers: { p: primary, t: twin, b: backup },
        routes: {
          chat: [
            {
              provider: 'p',
              model: 'm1',
              ...(s.contextWindow === undefined ? {} : { contextWindow: s.contextWindow }),
            },
            ...(s.alone === true
              ? []
              : [
                  { provider: 't', model: 'm1' },
                  { provider: 'b', model: 'm2' },
                ]),
          ],
        },
        defaults: { timeouts: { firstTokenMs: 100, idleMs: 100, totalMs: 1000 }, ...s.options },
        random: () => 0.5, // full jitter: half the backoff (250 ms → 125 ms)
        cooldownMs: 500, // a 429 without Retry-After: its retry waits this long
        ...(s.breaker === undefined ? {} : { breaker: s.breaker }),
        pricing: createPricing({ catalog: null, models: { m: { input: 0, output: 1_000_000 } } }),
      };
      const r = createRouter(config);
      router = r;
      r.events$.subscribe((e) => out.events.push(e));
      r.stream(request, { sessionId: 's1' }).subscribe({
        next: (c: StreamingChunk) => (out.text += c.choices[0]?.delta.content ?? ''),
        error: (e: unknown) => (out.error = e),
        complete: () => (out.completed = true),
      });
      if (s.secondAt !== undefined) {
        cold(`${s.secondAt}ms |`).subscribe({
          complete: () =>
            r.stream(request, { sessionId: 's2' }).subscribe({ error: () => undefined }),
        });
      }
      if (s.cancelAt !== undefined) {
        cold(`${s.cancelAt}ms |`).subscribe({ complete: () => r.sessions.cancel('s1') });
      }
      cold('5000ms |').subscribe({
        complete: () => {
          health = r.health().candidates.find((c) => c.candidate === 'p/m1');
          state = r.sessions.get('s1')?.state;
        },
      });
    });
    await new Promise((resolve) => setImmediate(resolve)); // opossum records successes a tick later
    const b = breakers.find((x) => x.name === 'p/m1');
    return {
      ...out,
      calls: [primary.attempts.length, twin.attempts.length, backup.attempts.length],
      breaker: { failures: b?.stats.failures ?? 0, successes: b?.stats.successes ?? 0 },
      health: health?.counts,
      state,
    };
  } finally {
    spy.mockRestore();
    await router?.close();
  }
}

/** What the consumer got: the answer's text, or `Class CODE`. */
function seen(o: Outcome): string {
  if (o.completed) return o.text;
  if (isRouterError(o.error)) return `${o.error.name} ${o.error.code}`;
  return o.error instanceof Error ? `${o.error.name}: ${o.error.message}` : String(o.error);
}

interface Row {
  /** The row of the table. */
  error: string;
  scenario: Scenario;
  /** Failures recorded on p/m1's breaker. */
  counted: number;
  /** Calls of [p/m1, t/m1, b/m2]: p/m1 twice = retried once; t/m1 skipped = same-model rule. */
  calls: [number, number, number];
  /** What the consumer got with all three candidates. */
  sees: string;
  /** With p/m1 alone: the error's class, code and status. */
  alone?: [string, string, number | undefined];
}

/** Twelve tokens 91 ms apart: within the idle timeout (100), past the total one (1000). */
const TOTAL = `-${LETTERS.join(' 90ms ')}|`;

const rows: Row[] = [
  {
    error: '429 with a short Retry-After (500 ms)',
    scenario: { primary: { marble: '-#', error: rateLimited(500) } },
    counted: 0,
    calls: [2, 1, 0],
    sees: 'ok',
    alone: ['AllProvidersFailedError', 'RXLLM_ALL_PROVIDERS_FAILED', 429],
  },
  {
    error: '429 with a long Retry-After (10 s)',
    scenario: { primary: { marble: '-#', error: rateLimited(10_000) } },
    counted: 0,
    calls: [1, 1, 0],
    sees: 'ok',
    alone: ['AllProvidersFailedError', 'RXLLM_ALL_PROVIDERS_FAILED', 429],
  },
  {
    error: '429 without Retry-After',
    scenario: { primary: { marble: '-#', error: rateLimited() } },
    counted: 0,
    calls: [2, 1, 0],
    sees: 'ok',
  },
  {
    error: 'quota 429 (insufficient_quota)',
    scenario: { primary: { marble: '-#', error: quotaExceeded() } },
    counted: 0,
    calls: [1, 1, 0],
    sees: 'ok',
    alone: ['AllProvidersFailedError', 'RXLLM_ALL_PROVIDERS_FAILED', 429],
  },
  {
    error: '503',
    scenario: { primary: { marble: '-#', error: 503 } },
    counted: 2,
    calls: [2, 1, 0],
    sees: 'ok',
    alone: ['AllProvidersFailedError', 'RXLLM_ALL_PROVIDERS_FAILED', 503],
  },
  {
    error: '529 overloaded',
    scenario: { primary: { marble: '-#', error: 529 } },
    counted: 2,
    calls: [2, 1, 0],
    sees: 'ok',
  },
  {
    error: 'network reset before headers',
    scenario: { primary: { marble: '-#', error: networkError('socket hang up') } },
    counted: 2,
    calls: [2, 1, 0],
    sees: 'ok',
    alone: ['AllProvidersFailedError', 'RXLLM_ALL_PROVIDERS_FAILED', 503],
  },
  {
    error: 'first-token timeout (keep-alives, no content)',
    scenario: { primary: { marble: '-e 500ms |', values: { e: textChunk('') } } },
    counted: 1,
    calls: [1, 1, 0],
    sees: 'ok',
    alone: ['AllProvidersFailedError', 'RXLLM_ALL_PROVIDERS_FAILED', 503],
  },
  {
    error: 'idle timeout before content',
    scenario: { primary: '500ms |' },
    counted: 1,
    calls: [1, 1, 0],
    sees: 'ok',
  },
  {
    error: 'total timeout',
    scenario: { primary: tokens(TOTAL) },
    counted: 0,
    calls: [1, 0, 0],
    sees: 'TimeoutError RXLLM_TIMEOUT',
  },
  {
    error: 'context length exceeded',
    scenario: {
      primary: { marble: '-#', error: httpError(400, { code: 'context_length_exceeded' }) },
    },
    counted: 0,
    calls: [1, 0, 1],
    sees: 'ok',
    alone: ['AllProvidersFailedError', 'RXLLM_ALL_PROVIDERS_FAILED', 400],
  },
  {
    error: 'content filter, before content',
    scenario: { primary: { marble: '-#', error: httpError(400, { code: 'content_filter' }) } },
    counted: 0,
    calls: [1, 0, 0],
    sees: 'ProviderError RXLLM_CONTENT_FILTERED',
    alone: ['ProviderError', 'RXLLM_CONTENT_FILTERED', 400],
  },
  {
    error: 'content filter, after content',
    scenario: {
      primary: tokens(
        '-a-#',
        streamError({ type: 'invalid_request_error', code: 'content_policy_violation' }),
      ),
      options: { failover: 'resume' },
    },
    counted: 0,
    calls: [1, 0, 0],
    sees: 'ProviderError RXLLM_CONTENT_FILTERED',
  },
  {
    error: 'invalid request (400)',
    scenario: { primary: { marble: '-#', error: 400 } },
    counted: 0,
    calls: [1, 0, 1],
    sees: 'ok',
    alone: ['AllProvidersFailedError', 'RXLLM_ALL_PROVIDERS_FAILED', 400],
  },
  {
    error: 'authentication (401)',
    scenario: { primary: { marble: '-#', error: 401 } },
    counted: 0,
    calls: [1, 1, 0],
    sees: 'ok',
    alone: ['AllProvidersFailedError', 'RXLLM_ALL_PROVIDERS_FAILED', 401],
  },
  {
    error: 'model not found (404)',
    scenario: { primary: { marble: '-#', error: 404 } },
    counted: 0,
    calls: [1, 0, 1],
    sees: 'ok',
    alone: ['AllProvidersFailedError', 'RXLLM_ALL_PROVIDERS_FAILED', 404],
  },
  {
    error: "stream cut after content, policy 'error'",
    scenario: { primary: tokens('-a-#', networkError('reset')) },
    counted: 1,
    calls: [1, 0, 0],
    sees: 'IncompleteStreamError RXLLM_INCOMPLETE_STREAM',
  },
  {
    error: "stream stalled after content, policy 'error'",
    scenario: { primary: tokens('-a 500ms |') },
    counted: 1,
    calls: [1, 0, 0],
    sees: 'IncompleteStreamError RXLLM_INCOMPLETE_STREAM',
  },
  {
    error: "stream ended without a finish after content, policy 'error'",
    scenario: { primary: tokens('-a-#', incompleteStream('a', { provider: 'p' })) },
    counted: 1,
    calls: [1, 0, 0],
    sees: 'IncompleteStreamError RXLLM_INCOMPLETE_STREAM',
  },
  {
    error: "stream cut after content, policy 'resume'",
    scenario: { primary: tokens('-a-#', networkError('reset')), options: { failover: 'resume' } },
    counted: 1,
    calls: [1, 1, 0],
    sees: 'aaaaok',
    alone: ['IncompleteStreamError', 'RXLLM_INCOMPLETE_STREAM', undefined],
  },
  {
    error: "stream stalled after content, policy 'resume'",
    scenario: { primary: tokens('-a 500ms |'), options: { failover: 'resume' } },
    counted: 1,
    calls: [1, 1, 0],
    sees: 'aaaaok',
  },
  {
    error: 'budget exceeded',
    scenario: { primary: tokens('-abcdefghij|'), options: { budgetUsd: 3 } },
    counted: 0,
    calls: [1, 0, 0],
    sees: 'BudgetExceededError RXLLM_BUDGET_EXCEEDED',
  },
  {
    error: 'cancelled after content',
    scenario: { primary: tokens('-a-b-c-d|'), cancelAt: 3 },
    counted: 0,
    calls: [1, 0, 0],
    sees: 'CancelledError RXLLM_CANCELLED',
  },
  {
    error: 'an error that is not a RouterError (a bug)',
    scenario: { primary: { marble: '-#', error: new TypeError('bug') } },
    counted: 1,
    calls: [1, 0, 0],
    sees: 'TypeError: bug',
    alone: ['TypeError', 'none', undefined],
  },
];

describe('failure semantics (docs/router.md)', () => {
  it.each(rows)('should handle: $error', async (row) => {
    const o = await run(row.scenario);
    expect({ counted: o.breaker.failures, calls: o.calls, sees: seen(o) }).toEqual({
      counted: row.counted,
      calls: row.calls,
      sees: row.sees,
    });
    if (row.alone !== undefined) {
      const alone = await run({ ...row.scenario, alone: true });
      const e = alone.error as { name?: unknown; code?: unknown; status?: unknown };
      expect([e.name, e.code ?? 'none', e.status]).toEqual(row.alone);
    }
  });

  it('should retry a 429 after its Retry-After and cool its provider meanwhile', async () => {
    const o = await run({ primary: { marble: '-#', error: rateLimited(500) } });
    const at = (type: string): number[] =>
      o.events
        .filter((e) => e.type === type && 'candidate' in e && e.candidate === 'p/m1')
        .map((e) => e.at);
    expect(at('attempt')).toEqual([0, 501]); // failed at 1, waited max(125, 500)
    expect(o.events.find((e) => e.type === 'retry')).toMatchObject({ attempt: 2, delayMs: 500 });
    expect(o.events.find((e) => e.type === 'cooldown')).toMatchObject({
      provider: 'p',
      until: 501,
      retryAfterMs: 500,
    });
    expect(o.health).toMatchObject({ failure: 2, success: 0 });
  });

  it('should retry a 429 without Retry-After only when its cooldown (cooldownMs) has passed', async () => {
    const o = await run({ primary: { marble: '-#', error: rateLimited() } });
    const attempts = o.events.filter((e) => e.type === 'attempt' && e.candidate === 'p/m1');
    expect(attempts.map((e) => e.at)).toEqual([0, 501]);
    expect(o.events.find((e) => e.type === 'cooldown')).toMatchObject({ until: 501 });
  });

  it('should count a first-token timeout as a timeout in the health counts', async () => {
    const o = await run({ primary: '500ms |' });
    expect(o.health).toMatchObject({ timeout: 1, failure: 0 });
  });

  it('should count a total timeout as a cancel, and a success on the breaker after content', async () => {
    const o = await run({ primary: tokens(TOTAL) });
    expect(o.text).toBe('aaaabbbbccccddddeeeeffffgggghhhhiiiijjjjkkkk'); // 11 tokens by frame 1000
    expect((o.error as { kind?: unknown }).kind).toBe('total');
    expect(o.breaker).toEqual({ failures: 0, successes: 1 });
    expect(o.health).toMatchObject({ cancel: 1, failure: 0, timeout: 0 });
    expect(o.state).toBe('failed');
  });

  it('should not record a cancel before content on the breaker', async () => {
    const o = await run({ primary: tokens('----a-b|'), cancelAt: 2 });
    expect(seen(o)).toBe('CancelledError RXLLM_CANCELLED');
    expect(o.breaker).toEqual({ failures: 0, successes: 0 });
    expect(o.health).toMatchObject({ cancel: 1 });
    expect(o.state).toBe('cancelled');
  });

  it('should record a cancel after content as a success on the breaker', async () => {
    const o = await run({ primary: tokens('-a-b-c-d|'), cancelAt: 3 });
    expect(o.breaker).toEqual({ failures: 0, successes: 1 });
  });

  it('should stop a request whose budget is passed, with a budget event', async () => {
    const o = await run({ primary: tokens('-abcdefghij|'), options: { budgetUsd: 3 } });
    expect(o.text).toBe('aaaabbbbcccc'); // the 4th token would take the cost to $4: not emitted
    expect(o.events.find((e) => e.type === 'budget')).toMatchObject({ maxUsd: 3, spentUsd: 4 });
    expect(o.breaker).toEqual({ failures: 0, successes: 1 });
  });

  it('should refuse to budget an unpriced model with a ValidationError on model', async () => {
    const o = await run({
      primary: { marble: '-a|', values: { a: textChunk('x', { model: 'unpriced' }) } },
      options: { budgetUsd: 1 },
    });
    expect(seen(o)).toBe('ValidationError RXLLM_VALIDATION');
    expect((o.error as { param?: unknown }).param).toBe('model');
  });

  it('should list every candidate in AllProvidersFailedError, with the soonest retry', async () => {
    const o = await run({ primary: { marble: '-#', error: rateLimited(10_000) }, alone: true });
    const e = o.error as AllProvidersFailedError;
    expect(e).toBeInstanceOf(AllProvidersFailedError);
    expect(e.isRetryable).toBe(true);
    expect(e.retryAfterMs).toBe(10_000);
    expect(e.attempts.map((a) => [a.candidate, a.outcome])).toEqual([['p/m1', 'called']]);
    expect(e.cause).toBe(e.attempts[0]?.error);
  });

  it('should make a quota 429 with nothing left a non-retryable AllProvidersFailedError', async () => {
    const o = await run({ primary: { marble: '-#', error: quotaExceeded() }, alone: true });
    expect((o.error as AllProvidersFailedError).isRetryable).toBe(false);
  });

  it('should pass a content filter through as it is, even before content', async () => {
    const filtered = new ProviderError('content_filtered', 'blocked', { provider: 'p' });
    const o = await run({ primary: { marble: '-#', error: filtered } });
    expect(o.error).toBe(filtered);
  });

  it('should skip the candidates of a cooling provider before calling them', async () => {
    const o = await run({ primary: { marble: '-#', error: rateLimited(10_000) }, secondAt: 10 });
    expect(o.calls).toEqual([1, 2, 0]); // the second request went straight to t/m1
    expect(o.events.filter((e) => e.type === 'skip')).toMatchObject([
      { sessionId: 's2', candidate: 'p/m1', reason: 'cooldown', at: 10 },
    ]);
    expect(o.health).toMatchObject({ rejection: 1, failure: 1 });
  });

  it('should refuse even the retry once the breaker has opened', async () => {
    const o = await run({ primary: { marble: '-#', error: 503 }, breaker: { volumeThreshold: 1 } });
    expect(o.calls).toEqual([1, 1, 0]);
    expect(o.events.map((e) => e.type)).toEqual([
      'attempt',
      'breaker', // open, recorded before the error goes on
      'attempt-end',
      'retry',
      'skip', // the retry: refused at admission, reason breaker-open
      'failover',
      'attempt',
      'attempt-end',
    ]);
    expect(o.events.find((e) => e.type === 'breaker')).toMatchObject({ state: 'open' });
  });

  it('should skip a candidate whose context window the prompt cannot fit', async () => {
    const o = await run({ primary: '-a|', contextWindow: 1, alone: true });
    expect(o.calls[0]).toBe(0);
    const e = o.error as AllProvidersFailedError;
    expect(e.attempts.map((a) => a.outcome)).toEqual(['context-window']);
  });

  it('should emit the event sequence shown in docs/router.md for a 503 then a fallback', async () => {
    const o = await run({ primary: { marble: '-#', error: 503 } });
    const shown = o.events.map((e) => {
      switch (e.type) {
        case 'attempt':
          return [e.at, e.type, e.candidate, e.attempt];
        case 'attempt-end':
          return [e.at, e.type, e.candidate, e.outcome, e.code ?? e.ttftMs];
        case 'retry':
          return [e.at, e.type, e.candidate, e.attempt, e.delayMs];
        case 'failover':
          return [e.at, e.type, `${e.from} -> ${e.to}`, e.mode, e.code];
        default:
          return [e.at, e.type];
      }
    });
    expect(shown).toEqual([
      [0, 'attempt', 'p/m1', 1],
      [1, 'attempt-end', 'p/m1', 'failure', 'RXLLM_PROVIDER_SERVER_ERROR'],
      [1, 'retry', 'p/m1', 2, 125],
      [126, 'attempt', 'p/m1', 2],
      [127, 'attempt-end', 'p/m1', 'failure', 'RXLLM_PROVIDER_SERVER_ERROR'],
      [127, 'failover', 'p/m1 -> t/m1', 'restart', 'RXLLM_PROVIDER_SERVER_ERROR'],
      [127, 'attempt', 't/m1', 1],
      [130, 'attempt-end', 't/m1', 'success', 1],
    ]);
  });
});
